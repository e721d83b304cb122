/* report_walk: every attempt's result file (real collector JSON and JUnit XML
 * from fixtures/conformance) streamed once into every sink, attempts in
 * order; missing files skipped; a file cut short ends with its error. The
 * expected counts come from the fixtures themselves, read another way. */
#include "unit.h"
#include "base/buf.h"
#include "records.h"
#include "config/config.h"
#include "base/fs.h"
#include "report/report_walk.h"
#include "scratch.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <unistd.h>

#define FIXTURES "fixtures/conformance/pytest-7.2.1-collector-1.8.0/"

typedef struct {
    size_t begins, ends, records;
    size_t by_attempt[8];
    size_t without_id;
    char *first_path;
    char *last_error;
} counter_t;

static void count_begin(void *user, const char *path, int attempt)
{
    counter_t *c = user;
    (void)attempt;
    if (!c->first_path) c->first_path = xstrdup(path);
    c->begins++;
}

static void count_record(void *user, const results_index_entry_t *e, int attempt)
{
    counter_t *c = user;
    c->records++;
    if (attempt >= 0 && attempt < 8) c->by_attempt[attempt]++;
    if (e->timed && e->key_len <= 2) c->without_id++; /* "" */
}

static void count_end(void *user, const char *path, const char *error)
{
    counter_t *c = user;
    (void)path;
    c->ends++;
    free(c->last_error);
    c->last_error = error ? xstrdup(error) : NULL;
}

static void counter_free(counter_t *c)
{
    free(c->first_path);
    free(c->last_error);
}

static char *read_text(const char *path, size_t *len)
{
    char *text = fs_read_file(path, len);
    assert_non_null(text);
    return text;
}

/* Copies a fixture into the state dir, the first `keep` bytes (0: all). */
static void put_result(const char *dir, const char *fixture, const char *name, size_t keep)
{
    size_t len;
    char *text = read_text(fixture, &len);
    char *path = fs_join(dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, keep ? keep : len, f), keep ? keep : len);
    fclose(f);
    free(path);
    free(text);
}

typedef struct {
    char dir[64];
    config_t cfg;
    run_record_t rec;
    attempt_t attempts[4];
} walk_env_t;

/* A state dir and a run record naming its attempts' files (NULL: none). */
static void env_init(walk_env_t *e, const char *mode, const char *const files[], size_t n)
{
    memset(e, 0, sizeof *e);
    scratch_dir(e->dir, sizeof e->dir, "tep-walk");
    e->cfg.state_dir = e->dir;
    e->rec.mode = (char *)mode;
    for (size_t i = 0; i < n; i++) {
        e->attempts[i].index = (int)i + 1;
        e->attempts[i].result_file = (char *)files[i];
    }
    e->rec.attempts = e->attempts;
    e->rec.n_attempts = n;
}

static void env_free(walk_env_t *e)
{
    scratch_dir_remove(e->dir);
}

/* Walks e's attempts into one counting sink; returns the files read. */
static size_t walk_counting(walk_env_t *e, counter_t *c)
{
    report_walk_sink_t sink = {count_begin, count_record, count_end, c};
    return report_walk_run(&e->cfg, &e->rec, &sink, 1, NULL);
}

static void json_attempts_reach_every_sink_in_order(void **state)
{
    (void)state;
    const char *files[] = {"results-1.json", "results-2.json", "never-written.json", NULL};
    walk_env_t e;
    env_init(&e, "json", files, 4);
    put_result(e.dir, FIXTURES "clean-run.json", "results-1.json", 0);
    put_result(e.dir, FIXTURES "retry-selectors.json", "results-2.json", 0);
    size_t first = fixture_json_elements(FIXTURES "clean-run.json");
    size_t second = fixture_json_elements(FIXTURES "retry-selectors.json");
    assert_true(first > 0 && second > 0);
    counter_t all = {0}, records_only = {0};
    report_walk_sink_t sinks[] = {
        {count_begin, count_record, count_end, &all},
        {NULL, count_record, NULL, &records_only}, /* any callback may be NULL */
    };
    assert_int_equal(report_walk_run(&e.cfg, &e.rec, sinks, 2, NULL), 2);
    assert_int_equal(all.begins, 2);
    assert_int_equal(all.ends, 2);
    assert_null(all.last_error);
    assert_int_equal(all.by_attempt[1], first);
    assert_int_equal(all.by_attempt[2], second);
    assert_int_equal(all.by_attempt[3] + all.by_attempt[4], 0);
    assert_int_equal(records_only.records, first + second);
    assert_int_equal(all.without_id, 0);
    char *want = fs_join(e.dir, "results-1.json");
    assert_string_equal(all.first_path, want);
    free(want);
    counter_free(&all);
    counter_free(&records_only);
    env_free(&e);
}

static void junit_files_are_read_as_xml(void **state)
{
    (void)state;
    const char *files[] = {"results-1.xml"};
    walk_env_t e;
    env_init(&e, "junit", files, 1);
    put_result(e.dir, FIXTURES "xdist-two-workers.xml", "results-1.xml", 0);
    counter_t c = {0};
    assert_int_equal(walk_counting(&e, &c), 1);
    assert_int_equal(c.records, fixture_xml_testcases(FIXTURES "xdist-two-workers.xml"));
    assert_true(c.records > 0);
    assert_null(c.last_error);
    assert_int_equal(c.without_id, 0);
    counter_free(&c);
    env_free(&e);
}

/* A file cut short: the records before the cut still reach the sinks, and
 * file_end says why the file could not be read to its end. */
static void a_file_cut_short_ends_with_its_error(void **state)
{
    (void)state;
    const char *files[] = {"results-1.json"};
    walk_env_t e;
    env_init(&e, "json", files, 1);
    size_t len;
    free(read_text(FIXTURES "clean-run.json", &len));
    put_result(e.dir, FIXTURES "clean-run.json", "results-1.json", len / 2);
    counter_t c = {0};
    assert_int_equal(walk_counting(&e, &c), 1);
    assert_int_equal(c.ends, 1);
    assert_non_null(c.last_error);
    assert_non_null(strstr(c.last_error, "results-1.json"));
    assert_true(c.records > 0 && c.records < fixture_json_elements(FIXTURES "clean-run.json"));
    counter_free(&c);
    env_free(&e);
}

static void nothing_to_read_is_zero_files(void **state)
{
    (void)state;
    const char *files[] = {NULL, "gone.json"};
    walk_env_t e;
    env_init(&e, "json", files, 2);
    counter_t c = {0};
    assert_int_equal(walk_counting(&e, &c), 0);
    assert_int_equal(c.begins + c.ends + c.records, 0);
    counter_free(&c);
    env_free(&e);
}

static void mode_says_which_reader(void **state)
{
    (void)state;
    run_record_t rec = {0};
    assert_false(report_walk_json(&rec)); /* no mode recorded: not JSON */
    rec.mode = "json";
    assert_true(report_walk_json(&rec));
    rec.mode = "junit";
    assert_false(report_walk_json(&rec));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_attempts_reach_every_sink_in_order),
        cmocka_unit_test(junit_files_are_read_as_xml),
        cmocka_unit_test(a_file_cut_short_ends_with_its_error),
        cmocka_unit_test(nothing_to_read_is_zero_files),
        cmocka_unit_test(mode_says_which_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
