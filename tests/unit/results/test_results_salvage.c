/* results_salvage: the result file a killed pytest never wrote, written from its
 * reports. Each format is held against a strict parser (cJSON plus a UTF-8
 * check; expat) and read back through the run's own readers; text that is
 * not UTF-8 or holds control bytes is made valid; a write that fails removes
 * the file; an existing file or a symlink is never written through. */
#include "unit.h"
#include "base/compat.h"
#include "scratch.h"
#include "records.h"
#include "results/results_json.h"
#include "results/results_junit.h"
#include "pytest/nodeid.h"
#include "results/results_salvage.h"
#include "base/strset.h"
#include <expat.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

/* The tests a salvage is fed, as results_events hands them out. */
static const run_event_test_t TESTS[] = {
    {.node_id = "tests/test_a.py::test_ok",
     .status = ST_PASSED,
     .when = "",
     .message = "",
     .duration = 0.5,
     .tries = 1},
    {.node_id = "tests/test_a.py::TestK::test_bad",
     .status = ST_FAILED,
     .when = "call",
     .message = "def test_bad():\n>       assert 1 == 2\nE       assert 1 == 2\n\n"
                "tests/test_a.py:5: AssertionError",
     .duration = 0.25,
     .tries = 1},
    {.node_id = "tests/test_a.py::test_setup",
     .status = ST_FAILED,
     .when = "setup",
     .message = "E       RuntimeError: setup exploded",
     .tries = 1},
    {.node_id = "tests/test_a.py::test_teardown",
     .status = ST_FAILED,
     .when = "teardown",
     .message = "E       RuntimeError: teardown exploded",
     .tries = 1},
    {.node_id = "tests/test_a.py::test_skip",
     .status = ST_SKIPPED,
     .when = "setup",
     .message = "no database <here> & \"there\"",
     .tries = 1},
    {.node_id = "tests/test_a.py::test_xfail",
     .status = ST_SKIPPED,
     .when = "call",
     .message = "known bug",
     .tries = 1,
     .xfail = true},
    {.node_id = "tests/test_p.py::TestP::test_p[a::b]",
     .status = ST_PASSED,
     .when = "",
     .message = "",
     .tries = 2},
    {.node_id = "tests/test_broken.py",
     .status = ST_FAILED,
     .when = "",
     .message = "ImportError while importing test module\nE   ModuleNotFoundError: No module x",
     .collection_error = true,
     .tries = 1},
    {.node_id = "tests/test_a.py::test_crashed",
     .status = ST_FAILED,
     .when = "???",
     .message = "worker 'gw0' crashed while running",
     .tries = 1},
};
#define N_TESTS (sizeof TESTS / sizeof TESTS[0])

/* A test whose file name and text are not UTF-8 and hold control bytes. */
static const run_event_test_t HOSTILE = {
    .node_id = "tests/test_latin1_\xe9.py::test_x[\x01\x7f]",
    .status = ST_FAILED,
    .when = "call",
    .message = "E   AssertionError: \x1b[31mred\x1b[0m \xff\xfe \xc0\xaf \xed\xa0\x80 \x0b\x0c end",
    .tries = 1};

static bool valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (len == 0 || i + len > n) return false;
        unsigned long cp = len == 1 ? c : c & (0x7f >> len);
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        unsigned long min = len == 2 ? 0x80 : len == 3 ? 0x800 : len == 4 ? 0x10000 : 0;
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += len;
    }
    return true;
}

static char *salvage(result_mode_t mode, const char *dir, const char *prefix,
                     const run_event_test_t *tests, size_t n)
{
    char *path = fs_join(dir, mode == MODE_JSON ? "out.json" : "out.xml");
    results_salvage_t s;
    char *err = NULL;
    assert_true(results_salvage_open(&s, mode, path, &err));
    assert_null(err);
    results_salvage_set_prefix(&s, prefix);
    for (size_t i = 0; i < n; i++) results_salvage_put(&s, &tests[i]);
    assert_int_equal(s.records, n);
    assert_true(results_salvage_close(&s, &err));
    assert_null(err);
    return path;
}

static const char *member(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The file_name a record shows: the prefix, then the id's file. */
static char *file_of(const char *prefix, const char *id)
{
    const char *sep = strstr(id, "::");
    return xasprintf("%s%.*s", prefix, (int)(sep ? (size_t)(sep - id) : strlen(id)), id);
}

static void json_checks_out_with_cjson(void **state)
{
    (void)state;
    char dir[64];
    scratch_dir(dir, sizeof dir, "tep-salvage");
    char *path = salvage(MODE_JSON, dir, "services/api/", TESTS, N_TESTS);
    size_t len = 0;
    char *text = fs_read_file(path, &len);
    assert_true(valid_utf8((const unsigned char *)text, len));
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, true);
    assert_non_null(root);
    assert_true(cJSON_IsArray(root));
    assert_int_equal(cJSON_GetArraySize(root), N_TESTS);
    strset_t ids = STRSET_INIT;
    strlist_t owned;
    strlist_init(&owned);
    for (size_t i = 0; i < N_TESTS; i++) {
        const cJSON *o = cJSON_GetArrayItem(root, (int)i);
        const run_event_test_t *t = &TESTS[i];
        const char *id = member(o, "id");
        assert_non_null(id);
        strlist_push(&owned, id);
        assert_true(strset_add(&ids, owned.items[owned.len - 1])); /* unique */
        /* the collector's split: the scope is all before the last "::" */
        const char *last = NULL;
        for (const char *p = strstr(t->node_id, "::"); p; p = strstr(p + 2, "::")) last = p;
        char *scope = last ? xstrndup(t->node_id, (size_t)(last - t->node_id)) : xstrdup("");
        assert_string_equal(member(o, "scope"), scope);
        assert_string_equal(member(o, "name"), last ? last + 2 : t->node_id);
        free(scope);
        char *file = file_of("services/api/", t->node_id);
        assert_string_equal(member(o, "file_name"), file);
        free(file);
        const char *want = t->status == ST_FAILED    ? "failed"
                           : t->status == ST_SKIPPED ? "skipped"
                                                     : "passed";
        assert_string_equal(member(o, "result"), want);
        assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(o, "history")));
        const cJSON *tags = cJSON_GetObjectItemCaseSensitive(o, "tags");
        assert_int_equal(results_json_is_collection_error(tags), t->collection_error);
        if (t->status == ST_FAILED)
            assert_non_null(member(o, "failure_reason"));
        else
            assert_null(cJSON_GetObjectItemCaseSensitive(o, "failure_reason"));
    }
    const cJSON *bad = cJSON_GetArrayItem(root, 1);
    assert_non_null(strstr(member(bad, "failure_reason"), "assert 1 == 2"));
    cJSON_Delete(root);
    strset_free(&ids);
    strlist_free(&owned);
    free(text);
    unlink(path);
    free(path);
    scratch_dir_remove(dir);
}

/* Read back as the report and the run read a collector file: the same
 * tests, outcomes and collection error, and node ids that run from where
 * pytest ran once the record's own prefix is put back. */
static void json_reads_back_through_results_json(void **state)
{
    (void)state;
    char dir[64];
    scratch_dir(dir, sizeof dir, "tep-salvage");
    char *path = salvage(MODE_JSON, dir, "services/api/", TESTS, N_TESTS);
    recs_t rs = {0};
    results_json_scan_t scan;
    results_json_read_records(path, recs_collect, &rs, NULL, NULL, &scan);
    assert_null(scan.error);
    assert_int_equal(rs.problems, 0);
    assert_int_equal(rs.len, N_TESTS);
    for (size_t i = 0; i < N_TESTS; i++) {
        const rec_t *r = &rs.v[i];
        assert_string_equal(r->node_id, TESTS[i].node_id);
        assert_int_equal(r->status, TESTS[i].status);
        assert_int_equal(r->collection_error, TESTS[i].collection_error);
        assert_int_equal(r->failure != NULL, TESTS[i].status == ST_FAILED);
        char *runnable = nodeid_of_record(r->scope, r->name, r->file, r->node_id, true, NULL);
        char *want = xasprintf("services/api/%s", TESTS[i].node_id);
        assert_string_equal(runnable, want);
        free(runnable);
        free(want);
    }
    assert_true(rs.v[0].duration > 0.49 && rs.v[0].duration < 0.51);
    assert_non_null(strstr(rs.v[2].failure, "setup exploded"));
    assert_non_null(strstr(rs.v[7].failure, "ModuleNotFoundError"));
    recs_free(&rs);
    unlink(path);
    free(path);
    scratch_dir_remove(dir);
}

typedef struct {
    strlist_t keys;     /* "classname\x1fname" */
    strlist_t children; /* the first child element of each testcase, "" for none */
    int depth, case_depth;
} junit_doc_t;

static void XMLCALL on_start(void *user, const XML_Char *name, const XML_Char **atts)
{
    junit_doc_t *d = user;
    d->depth++;
    if (strcmp(name, "testcase") == 0) {
        const char *cn = results_junit_attr(atts, "classname");
        const char *n = results_junit_attr(atts, "name");
        assert_non_null(cn);
        assert_non_null(n);
        strlist_push_owned(&d->keys, xasprintf("%s\x1f%s", cn, n));
        strlist_push(&d->children, "");
        d->case_depth = d->depth;
    } else if (d->case_depth && d->depth == d->case_depth + 1) {
        free(d->children.items[d->children.len - 1]);
        d->children.items[d->children.len - 1] = xstrdup(name);
    }
}

static void XMLCALL on_end(void *user, const XML_Char *name)
{
    junit_doc_t *d = user;
    if (strcmp(name, "testcase") == 0) d->case_depth = 0;
    d->depth--;
}

/* Parses path with expat (strict about UTF-8 and XML's characters). */
static void parse_junit(const char *path, junit_doc_t *d)
{
    memset(d, 0, sizeof *d);
    strlist_init(&d->keys);
    strlist_init(&d->children);
    size_t len = 0;
    char *xml = fs_read_file(path, &len);
    assert_non_null(xml);
    XML_Parser p = XML_ParserCreate(NULL);
    XML_SetUserData(p, d);
    XML_SetElementHandler(p, on_start, on_end);
    if (XML_Parse(p, xml, (int)len, 1) != XML_STATUS_OK)
        fail_msg("%s: %s at line %lu", path, XML_ErrorString(XML_GetErrorCode(p)),
                 compat_xml_line(p));
    XML_ParserFree(p);
    free(xml);
}

static void junit_doc_free(junit_doc_t *d)
{
    strlist_free(&d->keys);
    strlist_free(&d->children);
}

/* What pytest's JUnit writer puts in a testcase for each outcome: <failure>
 * for the call, <error> for setup and teardown (and a crash), <skipped>. */
static void junit_parses_with_expat(void **state)
{
    (void)state;
    char dir[64];
    scratch_dir(dir, sizeof dir, "tep-salvage");
    char *path = salvage(MODE_JUNIT, dir, "services/api/", TESTS, N_TESTS);
    junit_doc_t d;
    parse_junit(path, &d);
    assert_int_equal(d.keys.len, N_TESTS);
    const char *child[N_TESTS] = {"",        "failure", "error", "error", "skipped",
                                  "skipped", "",        "error", "error"};
    for (size_t i = 0; i < N_TESTS; i++) {
        char *key = nodeid_junit_key(TESTS[i].node_id);
        assert_string_equal(d.keys.items[i], key);
        assert_string_equal(d.children.items[i], child[i]);
        free(key);
    }
    junit_doc_free(&d);
    unlink(path);
    free(path);
    scratch_dir_remove(dir);
}

static void junit_reads_back_through_results_junit(void **state)
{
    (void)state;
    char dir[64];
    scratch_dir(dir, sizeof dir, "tep-salvage");
    char *path = salvage(MODE_JUNIT, dir, "", TESTS, N_TESTS);
    recs_t rs = {0};
    results_junit_scan_t scan;
    results_junit_read_records(path, recs_collect, &rs, NULL, NULL, &scan);
    assert_null(scan.error);
    assert_int_equal(rs.problems, 0);
    assert_int_equal(rs.len, N_TESTS);
    for (size_t i = 0; i < N_TESTS; i++) {
        const rec_t *r = &rs.v[i];
        assert_string_equal(r->node_id, TESTS[i].node_id);
        assert_int_equal(r->status, TESTS[i].status);
        assert_int_equal(r->collection_error, TESTS[i].collection_error);
        if (TESTS[i].collection_error) { /* the reader names the file itself */
            assert_string_equal(r->name, TESTS[i].node_id);
            continue;
        }
        /* the run matches a JUnit record to pytest's reports by this key */
        char *key = nodeid_junit_key(TESTS[i].node_id);
        char *got = xasprintf("%s\x1f%s", r->scope, r->name);
        assert_string_equal(got, key);
        free(key);
        free(got);
    }
    assert_non_null(strstr(rs.v[3].failure, "teardown exploded"));
    recs_free(&rs);
    unlink(path);
    free(path);
    scratch_dir_remove(dir);
}

/* Bytes that are not UTF-8 and control bytes: both files still parse strictly. */
static void hostile_text_is_made_valid(void **state)
{
    (void)state;
    char dir[64];
    scratch_dir(dir, sizeof dir, "tep-salvage");
    run_event_test_t both[] = {HOSTILE, TESTS[0]};

    char *json = salvage(MODE_JSON, dir, "sub\xe9/", both, 2);
    size_t len = 0;
    char *text = fs_read_file(json, &len);
    assert_true(valid_utf8((const unsigned char *)text, len));
    for (size_t i = 0; i < len; i++) assert_true((unsigned char)text[i] >= 0x20);
    cJSON *root = cJSON_ParseWithOpts(text, NULL, true);
    assert_non_null(root);
    assert_int_equal(cJSON_GetArraySize(root), 2);
    const char *name = member(cJSON_GetArrayItem(root, 0), "name");
    assert_non_null(strstr(name, "test_x["));
    cJSON_Delete(root);
    recs_t rs = {0};
    results_json_scan_t scan;
    results_json_read_records(json, recs_collect, &rs, NULL, NULL, &scan);
    assert_null(scan.error);
    assert_int_equal(rs.len, 2);
    assert_int_equal(rs.v[0].status, ST_FAILED);
    recs_free(&rs);
    free(text);

    char *xml = salvage(MODE_JUNIT, dir, "", both, 2);
    junit_doc_t d;
    parse_junit(xml, &d);
    assert_int_equal(d.keys.len, 2);
    assert_string_equal(d.children.items[0], "failure");
    junit_doc_free(&d);

    unlink(json);
    unlink(xml);
    free(json);
    free(xml);
    scratch_dir_remove(dir);
}

/* A file name may hold ':' (Linux allows it): the file part ends at "::". */
static void file_name_keeps_a_colon(void **state)
{
    (void)state;
    char dir[64];
    scratch_dir(dir, sizeof dir, "tep-salvage");
    const run_event_test_t t = {.node_id = "tests/test_a:b.py::test_x",
                                .status = ST_FAILED,
                                .when = "call",
                                .message = "E   assert 0",
                                .tries = 1};
    char *path = salvage(MODE_JSON, dir, "sub/", &t, 1);
    char *text = fs_read_file(path, NULL);
    unlink(path);
    free(path);
    scratch_dir_remove(dir); /* before the check: it failed once */
    cJSON *root = cJSON_Parse(text);
    free(text);
    assert_non_null(root);
    char *file_name = xstrdup(member(cJSON_GetArrayItem(root, 0), "file_name"));
    cJSON_Delete(root);
    assert_string_equal(file_name, "sub/tests/test_a:b.py");
    free(file_name);
}

/* Nothing finished: still a file that says so. */
static void no_tests_is_an_empty_file(void **state)
{
    (void)state;
    char dir[64];
    scratch_dir(dir, sizeof dir, "tep-salvage");
    char *json = salvage(MODE_JSON, dir, "", NULL, 0);
    assert_int_equal(fixture_json_elements(json), 0);
    char *xml = salvage(MODE_JUNIT, dir, "", NULL, 0);
    junit_doc_t d;
    parse_junit(xml, &d);
    assert_int_equal(d.keys.len, 0);
    junit_doc_free(&d);
    unlink(json);
    unlink(xml);
    free(json);
    free(xml);
    scratch_dir_remove(dir);
}

/* In a child limited to `limit` bytes per file: open, n records, close. The
 * child's exit status: 0 when close failed with an error naming the file and
 * the file is gone. */
static int write_until_full(result_mode_t mode, const char *path, rlim_t limit, size_t n)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {.rlim_cur = limit, .rlim_max = limit};
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(20);
        results_salvage_t s;
        char *err = NULL;
        if (!results_salvage_open(&s, mode, path, &err)) _exit(10);
        for (size_t i = 0; i < n; i++) results_salvage_put(&s, &TESTS[i % N_TESTS]);
        if (results_salvage_close(&s, &err)) _exit(11);
        if (!err || !strstr(err, path) || strchr(err, '\n')) _exit(12);
        if (access(path, F_OK) == 0) _exit(13);
        free(err);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* The disk fills (a file size limit stands in for it): close fails, names the
 * file and removes it, whether the records failed as they went or only the
 * last flush did. */
static void write_failure_fails_close_and_removes_the_file(void **state)
{
    (void)state;
    char dir[64];
    scratch_dir(dir, sizeof dir, "tep-salvage");
    char *path = fs_join(dir, "out");
    for (int mode = 0; mode < 2; mode++) {
        result_mode_t m = mode ? MODE_JUNIT : MODE_JSON;
        assert_int_equal(write_until_full(m, path, 4096, 500), 0); /* fails while putting */
        assert_false(fs_exists(path));
        assert_int_equal(write_until_full(m, path, 100, 3), 0); /* only at the final flush */
        assert_false(fs_exists(path));
    }
    free(path);
    scratch_dir_remove(dir);
}

/* pytest wrote none, so any file there is someone else's: never replaced. */
static void open_refuses_an_existing_file_and_a_symlink(void **state)
{
    (void)state;
    char dir[64];
    scratch_dir(dir, sizeof dir, "tep-salvage");
    scratch_put(dir, "theirs.json", "keep");
    char *theirs = fs_join(dir, "theirs.json");
    results_salvage_t s;
    char *err = NULL;
    assert_false(results_salvage_open(&s, MODE_JSON, theirs, &err));
    assert_non_null(err);
    assert_non_null(strstr(err, theirs));
    free(err);
    err = NULL;
    char *kept = fs_read_file(theirs, NULL);
    assert_string_equal(kept, "keep");
    free(kept);

    /* a symlink to their file, and one to where a file is not yet */
    char *link = fs_join(dir, "link.json");
    char *dangling = fs_join(dir, "dangling.json");
    char *target = fs_join(dir, "nowhere.json");
    assert_int_equal(symlink(theirs, link), 0);
    assert_int_equal(symlink(target, dangling), 0);
    assert_false(results_salvage_open(&s, MODE_JUNIT, link, &err));
    assert_non_null(strstr(err, link));
    free(err);
    err = NULL;
    assert_false(results_salvage_open(&s, MODE_JUNIT, dangling, &err));
    assert_non_null(strstr(err, dangling));
    free(err);
    err = NULL;
    assert_false(fs_exists(target));
    kept = fs_read_file(theirs, NULL);
    assert_string_equal(kept, "keep");
    free(kept);

    /* a directory that is not there */
    char *nodir = fs_join(dir, "no/such/out.json");
    assert_false(results_salvage_open(&s, MODE_JSON, nodir, &err));
    assert_non_null(strstr(err, nodir));
    free(err);

    free(nodir);
    free(link);
    free(dangling);
    free(target);
    free(theirs);
    scratch_dir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_checks_out_with_cjson),
        cmocka_unit_test(json_reads_back_through_results_json),
        cmocka_unit_test(junit_parses_with_expat),
        cmocka_unit_test(junit_reads_back_through_results_junit),
        cmocka_unit_test(hostile_text_is_made_valid),
        cmocka_unit_test(file_name_keeps_a_colon),
        cmocka_unit_test(no_tests_is_an_empty_file),
        cmocka_unit_test(write_failure_fails_close_and_removes_the_file),
        cmocka_unit_test(open_refuses_an_existing_file_and_a_symlink),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
