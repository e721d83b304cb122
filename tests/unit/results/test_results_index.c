/* results_index: a result file's index, written by the run phase, read by
 * report. Entries come back as written, across blocks; an entry is made the
 * same way from a record whoever makes it; an index is refused when its file
 * changed (size, mtime, inode, first or last bytes), when it was made for
 * another format or prefix, and when any byte of it is damaged or it is cut
 * short: no damaged byte ever yields an entry other than the one written. */
#include "unit.h"
#include "base/buf.h"
#include "model/durations_file.h"
#include "base/fs.h"
#include "results/results_index.h"
#include "results/results_json.h"
#include "results/results_junit.h"
#include "scratch.h"
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[64];

static int make_dir(void **state)
{
    (void)state;
    scratch_dir(dir, sizeof dir, "test_results_index");
    return 0;
}

static int remove_dir(void **state)
{
    (void)state;
    scratch_dir_remove(dir);
    return 0;
}

/* A result file of `size` bytes (its content does not matter to the index). */
static char *result_file(const char *name, size_t size)
{
    char *path = fs_join(dir, name);
    char *text = xmalloc(size + 1);
    for (size_t i = 0; i < size; i++) text[i] = (char)('a' + i % 26);
    assert_true(fs_write_file(path, text, size));
    free(text);
    return path;
}

/* Entry k of a made-up run: ranges in order with gaps, some untimed, some
 * keys raw, one key large enough to be a block of its own. */
static void made_up(size_t k, buf_t *key, results_index_entry_t *e)
{
    memset(e, 0, sizeof *e);
    e->start = k * 100 + (k % 3);
    e->end = e->start + 50 + k % 40;
    e->upload = k % 7 != 0;
    e->timed = k % 5 != 0;
    if (!e->timed) return;
    buf_reset(key);
    if (k == 701) { /* larger than a block */
        buf_putc(key, '"');
        for (size_t i = 0; i < 100000; i++) buf_putc(key, (char)('a' + i % 26));
        buf_putc(key, '"');
    } else {
        buf_printf(key, "\"tests/test_%zu.py::test_%zu\"", k % 13, k);
    }
    e->key_raw = k % 11 == 0;
    e->key = key->data;
    e->key_len = key->len;
    e->key_hash = results_index_hash(key->data, key->len);
    e->seconds = (double)k / 1000.0;
}

static void assert_same_entry(const results_index_entry_t *got, const results_index_entry_t *want)
{
    assert_int_equal(got->start, want->start);
    assert_int_equal(got->end, want->end);
    assert_int_equal(got->upload, want->upload);
    assert_int_equal(got->timed, want->timed);
    if (!want->timed) return;
    assert_int_equal(got->key_raw, want->key_raw);
    assert_int_equal(got->key_hash, want->key_hash);
    assert_true(got->seconds == want->seconds);
    assert_int_equal(got->key_len, want->key_len);
    assert_memory_equal(got->key, want->key, want->key_len);
}

#define MADE_UP 1500

/* Writes the made-up index of `n` entries for path. */
static void write_made_up(const char *path, size_t n, const char *prefix)
{
    results_index_writer_t w;
    char *err = NULL;
    assert_true(results_index_writer_open(&w, path, MODE_JUNIT, prefix, &err));
    buf_t key = BUF_INIT;
    for (size_t k = 0; k < n; k++) {
        results_index_entry_t e;
        made_up(k, &key, &e);
        results_index_writer_put(&w, &e);
    }
    buf_free(&key);
    assert_true(results_index_writer_close(&w, NULL, &err));
    assert_null(err);
}

/* Reads path's index: the entries that come out must be the made-up ones,
 * in order. Returns how many came, and the last answer. */
static results_index_next_t read_made_up(const char *path, const char *prefix, size_t *count,
                                         char **why)
{
    bool missing;
    *count = 0;
    results_index_reader_t *r = results_index_open(path, MODE_JUNIT, prefix, &missing, why);
    if (!r) return RESULTS_INDEX_DAMAGED;
    buf_t key = BUF_INIT;
    results_index_entry_t got, want;
    results_index_next_t next;
    while ((next = results_index_next(r, &got, why)) == RESULTS_INDEX_ENTRY) {
        made_up((*count)++, &key, &want);
        assert_same_entry(&got, &want);
    }
    assert_int_equal(results_index_count(r), *count);
    results_index_close(r);
    buf_free(&key);
    return next;
}

static void entries_come_back_as_written_across_blocks(void **state)
{
    (void)state;
    char *path = result_file("r1.xml", MADE_UP * 100 + 200);
    write_made_up(path, MADE_UP, "sub/dir/");
    char *index = results_index_path(path);
    struct stat st;
    assert_int_equal(stat(index, &st), 0);
    assert_true(st.st_size > 140000); /* blocks of 64 KiB, and the large key's alone */
    size_t count = 0;
    char *why = NULL;
    assert_int_equal(read_made_up(path, "sub/dir/", &count, &why), RESULTS_INDEX_END);
    assert_int_equal(count, MADE_UP);
    assert_null(why);
    free(index);
    free(path);
}

/* The only writer-side refusal: entries that overlap, or run past the file. */
static void entries_out_of_order_or_past_the_file_leave_no_index(void **state)
{
    (void)state;
    char *path = result_file("r2.xml", 1000);
    char *index = results_index_path(path);
    results_index_writer_t w;
    char *err = NULL;
    assert_true(results_index_writer_open(&w, path, MODE_JUNIT, "", &err));
    results_index_entry_t a = {.start = 10, .end = 20, .upload = true};
    results_index_entry_t b = {.start = 15, .end = 30, .upload = true};
    results_index_writer_put(&w, &a);
    results_index_writer_put(&w, &b);
    assert_false(results_index_writer_close(&w, NULL, &err));
    assert_non_null(strstr(err, "out of order"));
    free(err);
    err = NULL;
    assert_false(fs_exists(index));
    /* past the end: written, but refused by the reader */
    assert_true(results_index_writer_open(&w, path, MODE_JUNIT, "", &err));
    results_index_entry_t c = {.start = 990, .end = 1010, .upload = true};
    results_index_writer_put(&w, &c);
    assert_true(results_index_writer_close(&w, NULL, &err));
    bool missing;
    results_index_reader_t *r = results_index_open(path, MODE_JUNIT, "", &missing, &err);
    assert_non_null(r);
    results_index_entry_t got;
    assert_int_equal(results_index_next(r, &got, &err), RESULTS_INDEX_DAMAGED);
    assert_non_null(strstr(err, "outside the result file"));
    results_index_close(r);
    free(err);
    free(index);
    free(path);
}

/* Reopening the index of path must fail as stale, saying `what`. */
static void assert_stale(const char *path, result_mode_t mode, const char *prefix, const char *what)
{
    bool missing = true;
    char *why = NULL;
    assert_null(results_index_open(path, mode, prefix, &missing, &why));
    assert_false(missing);
    if (!strstr(why, what)) fail_msg("'%s' does not say '%s'", why, what);
    free(why);
}

static void set_mtime(const char *path, const struct stat *as)
{
    struct timespec times[2] = {as->st_atim, as->st_mtim};
    assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
}

/* Rewrites byte `at` of path in place (same inode, size and mtime). */
static void change_byte_in_place(const char *path, long at)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, at, SEEK_SET), 0);
    int c = fgetc(f);
    assert_int_equal(fseek(f, at, SEEK_SET), 0);
    fputc(c ^ 1, f);
    fclose(f);
    set_mtime(path, &st);
}

static void a_changed_result_file_makes_the_index_stale(void **state)
{
    (void)state;
    char *path = result_file("r3.xml", 20000);
    write_made_up(path, 150, "");
    size_t count;
    char *why = NULL;
    assert_int_equal(read_made_up(path, "", &count, &why), RESULTS_INDEX_END);
    assert_stale(path, MODE_JSON, "", "the other result format");
    assert_stale(path, MODE_JUNIT, "a/", "another node-id prefix");
    change_byte_in_place(path, 100); /* its head */
    assert_stale(path, MODE_JUNIT, "", "its first or last bytes changed");
    change_byte_in_place(path, 100);
    assert_int_equal(read_made_up(path, "", &count, &why), RESULTS_INDEX_END); /* as it was */
    change_byte_in_place(path, 19990);                                         /* its tail */
    assert_stale(path, MODE_JUNIT, "", "its first or last bytes changed");
    change_byte_in_place(path, 19990);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    struct stat later = st;
    later.st_mtim.tv_nsec = (st.st_mtim.tv_nsec + 1) % 1000000000;
    set_mtime(path, &later);
    assert_stale(path, MODE_JUNIT, "", "modified since");
    set_mtime(path, &st);
    assert_int_equal(truncate(path, 19999), 0);
    assert_stale(path, MODE_JUNIT, "", "its size was 20000 bytes, it is 19999");
    /* replaced by another file of the same size and content */
    char *again = result_file("r3-copy.xml", 20000);
    assert_int_equal(rename(again, path), 0);
    assert_stale(path, MODE_JUNIT, "", "another file now");
    free(again);
    free(path);
}

/* Any byte of the index flipped, and the index cut anywhere: open refuses
 * it, or the entries come out as written until the reader says DAMAGED;
 * never END, never a wrong entry (read_made_up checks each one). */
static void any_damage_is_found_before_a_wrong_entry(void **state)
{
    (void)state;
    char *path = result_file("r4.xml", 40 * 100 + 200);
    write_made_up(path, 40, "p/");
    char *index = results_index_path(path);
    size_t len;
    char *good = fs_read_file(index, &len);
    assert_non_null(good);
    size_t refused = 0, damaged = 0;
    for (size_t at = 0; at < len; at++) {
        for (unsigned bit = 1; bit < 256; bit <<= 3) {
            good[at] ^= (char)bit;
            assert_true(fs_write_file(index, good, len));
            good[at] ^= (char)bit;
            size_t count;
            char *why = NULL;
            results_index_next_t next = read_made_up(path, "p/", &count, &why);
            assert_int_equal(next, RESULTS_INDEX_DAMAGED);
            assert_non_null(why);
            if (count)
                damaged++;
            else
                refused++;
            free(why);
        }
    }
    for (size_t cut = 0; cut < len; cut++) {
        assert_true(fs_write_file(index, good, cut));
        size_t count;
        char *why = NULL;
        assert_int_equal(read_made_up(path, "p/", &count, &why), RESULTS_INDEX_DAMAGED);
        free(why);
    }
    char *longer = xmalloc(len + 1); /* something after the trailer */
    memcpy(longer, good, len);
    longer[len] = 'X';
    assert_true(fs_write_file(index, longer, len + 1));
    size_t count;
    char *why = NULL;
    assert_int_equal(read_made_up(path, "p/", &count, &why), RESULTS_INDEX_DAMAGED);
    assert_int_equal(count, 40);
    free(why);
    assert_true(refused > 0 && damaged > 0); /* the header, and the block or trailer */
    free(longer);
    free(good);
    free(index);
    free(path);
}

static void no_index_is_missing_not_damaged(void **state)
{
    (void)state;
    char *path = result_file("r5.xml", 10);
    bool missing = false;
    char *why = NULL;
    assert_null(results_index_open(path, MODE_JUNIT, "", &missing, &why));
    assert_true(missing);
    assert_string_equal(why, "no index");
    free(why);
    free(path);
}

/* The file changed between the reading and the index's end: no index. */
static void a_file_that_changed_while_read_gets_no_index(void **state)
{
    (void)state;
    char *path = result_file("r6.xml", 5000);
    results_index_id_t read_as;
    assert_true(results_index_identify(path, &read_as));
    results_index_writer_t w;
    char *err = NULL;
    assert_true(results_index_writer_open(&w, path, MODE_JUNIT, "", &err));
    results_index_entry_t e = {.start = 0, .end = 10, .upload = true};
    results_index_writer_put(&w, &e);
    FILE *f = fopen(path, "ab");
    fputs("more", f);
    fclose(f);
    assert_false(results_index_writer_close(&w, &read_as, &err));
    assert_non_null(strstr(err, "changed while it was read (its size was 5000 bytes, it is 5004)"));
    free(err);
    char *index = results_index_path(path);
    assert_false(fs_exists(index));
    DIR *d = opendir(dir); /* nor a temporary file */
    assert_non_null(d);
    for (struct dirent *de; (de = readdir(d));) assert_false(fs_atomic_is_temp(de->d_name));
    closedir(d);
    free(index);
    free(path);
}

/* ---- entries made from records ---- */

static void junit_entries_key_by_the_attempts_prefix(void **state)
{
    (void)state;
    buf_t scratch = BUF_INIT;
    results_index_entry_t e;
    test_record_t rec = {.scope = "tests.test_a.TestX",
                         .name = "test_b[\"q\"]",
                         .node_id = "tests/test_a.py::TestX::test_b[\"q\"]",
                         .file = "tests/test_a.py",
                         .status = ST_PASSED,
                         .duration = 1.5,
                         .start = 40,
                         .end = 90};
    results_index_entry_of_record(&rec, MODE_JUNIT, "svc/", &scratch, &e);
    assert_true(e.upload && e.timed && !e.key_raw);
    assert_int_equal(e.start, 40);
    assert_int_equal(e.end, 90);
    const char *want = "\"svc/tests/test_a.py::TestX::test_b[\\\"q\\\"]\"";
    assert_int_equal(e.key_len, strlen(want));
    assert_memory_equal(e.key, want, e.key_len);
    const char *id = "svc/tests/test_a.py::TestX::test_b[\"q\"]";
    assert_int_equal(e.key_hash, results_index_hash(id, strlen(id)));
    assert_true(e.seconds == 1.5);
    /* no time, a collection error, a record that is not one: uploaded, untimed */
    rec.duration = -1;
    results_index_entry_of_record(&rec, MODE_JUNIT, "", &scratch, &e);
    assert_true(e.upload && !e.timed);
    rec.duration = 2;
    rec.collection_error = true;
    results_index_entry_of_record(&rec, MODE_JUNIT, "", &scratch, &e);
    assert_true(e.upload && !e.timed);
    test_record_t bad = {.problem = "a testcase classname or name is longer than 64 KiB",
                         .start = 1,
                         .end = 2,
                         .duration = -1};
    results_index_entry_of_record(&bad, MODE_JUNIT, "", &scratch, &e);
    assert_true(e.upload && !e.timed);
    buf_free(&scratch);
}

static void json_entries_key_by_their_own_file_name(void **state)
{
    (void)state;
    buf_t scratch = BUF_INIT;
    results_index_entry_t e;
    const char *raw = "{\"scope\": \"tests/test_a.py\"}";
    test_record_t rec = {.scope = "tests/test_a.py",
                         .name = "test_\xff",
                         .node_id = "tests/test_a.py::test_\xff",
                         .file = "svc/tests/test_a.py",
                         .duration = 0.25,
                         .raw = raw,
                         .raw_len = strlen(raw)};
    results_index_entry_of_record(&rec, MODE_JSON, "ignored/", &scratch, &e);
    assert_true(e.upload && e.timed);
    assert_true(e.key_raw); /* not UTF-8: kept as it is, made valid when written */
    const char *want = "svc/tests/test_a.py::test_\xff";
    assert_int_equal(e.key_len, strlen(want));
    assert_memory_equal(e.key, want, e.key_len);
    test_record_t number = {.raw = "42", .raw_len = 2, .problem = "not a JSON object"};
    results_index_entry_of_record(&number, MODE_JSON, "", &scratch, &e);
    assert_false(e.upload);
    assert_false(e.timed);
    buf_free(&scratch);
}

/* The index and its checksums are a file format: the hash must not change
 * from one build to the next (version 1 pins it). */
static void the_hash_is_pinned(void **state)
{
    (void)state;
    uint32_t a = results_index_hash("", 0);
    uint32_t b = results_index_hash("tests/test_a.py::test_b", 23);
    assert_int_not_equal(a, b);
    assert_int_equal(b, results_index_hash("tests/test_a.py::test_b", 23));
    assert_int_not_equal(b, results_index_hash("tests/test_a.py::test_c", 23));
    assert_int_equal(a, 0xe9279403u);
    assert_int_equal(b, 0xbd3c7faau);
}

/* An index with sound checksums but a key that is not one JSON string (the
 * artifact takes keys as they are: this one would add an entry to it) is
 * refused at that entry; the entries before it still come. */
static void a_key_that_is_not_one_json_string_is_damage(void **state)
{
    (void)state;
    char *path = result_file("r8.xml", 1000);
    static const char *const bad[] = {"\"a\": 1, \"b\"", "\"a",      "a\"",
                                      "\"tab\there\"",   "\"\\x\"",  "\"\\u12g4\"",
                                      "\"\\\"",          "\"\xc3\"", "\"\xed\xa0\x80\"",
                                      "\"\xc0\xaf\"",    "\"nul\0\""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        size_t len = i == 10 ? 6 : strlen(bad[i]);
        assert_false(results_index_key_is_json(bad[i], len));
        results_index_writer_t w;
        char *err = NULL;
        assert_true(results_index_writer_open(&w, path, MODE_JUNIT, "", &err));
        results_index_entry_t good = {.start = 0,
                                      .end = 10,
                                      .upload = true,
                                      .timed = true,
                                      .key = "\"t::a\"",
                                      .key_len = 6,
                                      .seconds = 1};
        results_index_entry_t e = {.start = 10,
                                   .end = 20,
                                   .upload = true,
                                   .timed = true,
                                   .key = bad[i],
                                   .key_len = len,
                                   .seconds = 1};
        results_index_writer_put(&w, &good);
        results_index_writer_put(&w, &e);
        assert_true(results_index_writer_close(&w, NULL, &err));
        bool missing;
        results_index_reader_t *r = results_index_open(path, MODE_JUNIT, "", &missing, &err);
        assert_non_null(r);
        results_index_entry_t got;
        assert_int_equal(results_index_next(r, &got, &err), RESULTS_INDEX_ENTRY);
        assert_int_equal(results_index_next(r, &got, &err), RESULTS_INDEX_DAMAGED);
        assert_non_null(strstr(err, "not a JSON string"));
        results_index_close(r);
        free(err);
    }
    /* escapes durations_file_put_key never writes are refused too */
    static const char *const other[] = {"\"\\/\"",     "\"\\n\"",     "\"\\udcff\"",
                                        "\"\\u0000\"", "\"\\u0020\"", "\"\\uFFFD\""};
    for (size_t i = 0; i < sizeof other / sizeof *other; i++)
        assert_false(results_index_key_is_json(other[i], strlen(other[i])));
    static const char *const good[] = {"\"\"",         "\"a b\"",
                                       "\"\\\"\\\\\"", "\"\\u0001\\u001f\"",
                                       "\"\\ufffd\"",  "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_true(results_index_key_is_json(good[i], strlen(good[i])));
    /* and every key it writes is taken, whatever the node id */
    static const char *const ids[] = {"t.py::a\"b\\c", "t.py::\x01\x1f\x7f", "t.py::\xff\xc3",
                                      "t.py::\xed\xa0\x80", "t.py::\xf0\x9f\x98\x80"};
    buf_t key = BUF_INIT;
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
        buf_reset(&key);
        durations_file_put_key(&key, ids[i]);
        assert_true(results_index_key_is_json(key.data, key.len));
    }
    buf_free(&key);
    free(path);
}

/* Long keys are checked 8 bytes at a time: every byte value at every place
 * of a 24-byte run must get the answer the byte-by-byte rule gives. */
static void every_byte_of_a_long_key_is_checked(void **state)
{
    (void)state;
    char key[27];
    for (int at = 0; at < 24; at++)
        for (int c = 0; c < 256; c++) {
            memset(key + 1, 'a', 24);
            key[0] = key[25] = '"';
            key[1 + at] = (char)c;
            bool plain = c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
            if (results_index_key_is_json(key, 26) != plain) fail_msg("byte 0x%02x at %d", c, at);
        }
    static const char utf8[] = "\"0123456789abcdef\xc3\xa9xyz\""; /* after a plain word */
    assert_true(results_index_key_is_json(utf8, sizeof utf8 - 1));
    static const char broken[] = "\"0123456789abcdef\xc3xyz\"";
    assert_false(results_index_key_is_json(broken, sizeof broken - 1));
}

/* A FIFO (or a link) in place of the index: refused at once, not waited on. */
static void a_fifo_in_place_of_the_index_is_refused_not_waited_on(void **state)
{
    (void)state;
    char *path = result_file("r9.xml", 100);
    char *index = results_index_path(path);
    assert_int_equal(mkfifo(index, 0600), 0);
    bool missing = true;
    char *why = NULL;
    assert_null(results_index_open(path, MODE_JUNIT, "", &missing, &why));
    assert_false(missing);
    assert_non_null(why);
    free(why);
    why = NULL;
    assert_int_equal(unlink(index), 0);
    char *target = result_file("r9-target", 100);
    assert_int_equal(symlink(target, index), 0);
    assert_null(results_index_open(path, MODE_JUNIT, "", &missing, &why));
    assert_false(missing);
    free(why);
    free(target);
    free(index);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(entries_come_back_as_written_across_blocks),
        cmocka_unit_test(entries_out_of_order_or_past_the_file_leave_no_index),
        cmocka_unit_test(a_changed_result_file_makes_the_index_stale),
        cmocka_unit_test(any_damage_is_found_before_a_wrong_entry),
        cmocka_unit_test(no_index_is_missing_not_damaged),
        cmocka_unit_test(a_file_that_changed_while_read_gets_no_index),
        cmocka_unit_test(junit_entries_key_by_the_attempts_prefix),
        cmocka_unit_test(json_entries_key_by_their_own_file_name),
        cmocka_unit_test(the_hash_is_pinned),
        cmocka_unit_test(a_key_that_is_not_one_json_string_is_damage),
        cmocka_unit_test(every_byte_of_a_long_key_is_checked),
        cmocka_unit_test(a_fifo_in_place_of_the_index_is_refused_not_waited_on),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
