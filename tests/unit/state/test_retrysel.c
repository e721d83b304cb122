/* retrysel: the value format (encode, decode), the artifact pointer a
 * hostile build could plant in meta-data, the meta-data size limit, and the
 * round trip through a fake buildkite-agent (tests/unit/fake_agent.h) that
 * keeps meta-data and artifacts in its dir. */
#include "unit.h"
#include "config/config.h"
#include "fake_agent.h"
#include "state/retrysel.h"
#include "base/text.h"

/* meta-data in $D/md-<key>; artifacts in $D/art-<name>; argv in $D/calls.
 * $D/broken makes `exists` fail; $D/no-file makes a download write nothing. */
static const char *const AGENT_SCRIPT =
    "printf '%s\\n' \"$*\" >> \"$D/calls\"\n"
    "case \"$1 $2\" in\n"
    "'meta-data exists') [ -f \"$D/broken\" ] && { echo 'buildkite-agent: fatal: boom' >&2; "
    "exit 1; }; [ -f \"$D/md-$3\" ] || exit 100 ;;\n"
    "'meta-data get') cat \"$D/md-$3\" ;;\n"
    "'meta-data set') cat > \"$D/md-$3\" ;;\n"
    "'artifact upload') cp \"$3\" \"$D/art-$3\" ;;\n"
    "'artifact download') [ -f \"$D/no-file\" ] && exit 0; [ -f \"$D/art-$3\" ] || "
    "{ echo 'buildkite-agent: fatal: no artifacts found' >&2; exit 1; }; "
    "cp \"$D/art-$3\" \"$4/$3\" ;;\n"
    "*) exit 2 ;;\n"
    "esac\n";

#define KEY "test-engine-pytest:retry-selectors:step-1:2"

typedef agent_fixture_t fixture_t;

/* What retrysel_load passed to its warn_fn in the current test. */
static strlist_t warnings;

static void set_field(char **field, const char *value)
{
    free(*field);
    *field = xstrdup(value);
}

static int setup(void **state)
{
    fixture_t *f = agent_fixture_new(AGENT_SCRIPT);
    set_field(&f->cfg.step_id, "step-1");
    set_field(&f->cfg.job_id, "0190-job");
    set_field(&f->cfg.state_dir, f->agent.dir); /* artifacts land beside the script */
    f->cfg.parallel_job = 2;
    f->cfg.job_retry_count = 0;
    strlist_init(&warnings);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    strlist_free(&warnings);
    agent_fixture_free(*state);
    return 0;
}

static void put(fixture_t *f, const char *name, const char *text)
{
    fake_agent_put(&f->agent, name, text);
}

static void collect_warning(void *user, const char *line)
{
    strlist_push(user, line);
}

/* Loads into sel; returns the result, *err for the caller to check. */
static bool load(fixture_t *f, strlist_t *sel, bool *found, char **err)
{
    return retrysel_load(&f->cfg, sel, found, collect_warning, &warnings, err);
}

static strlist_t list_of(const char *const *items)
{
    strlist_t l;
    strlist_init(&l);
    for (; *items; items++) strlist_push(&l, *items);
    return l;
}

static void key_names_step_and_parallel_job(void **state)
{
    fixture_t *f = *state;
    char *key = retrysel_key(&f->cfg);
    assert_string_equal(key, KEY);
    free(key);
    set_field(&f->cfg.step_id, ""); /* outside a step: the plan identifier */
    set_field(&f->cfg.identifier, "my-plan");
    key = retrysel_key(&f->cfg);
    assert_string_equal(key, "test-engine-pytest:retry-selectors:my-plan:2");
    free(key);
}

static void parse_reads_header_and_lines(void **state)
{
    (void)state;
    strlist_t sel;
    strlist_init(&sel);
    char *artifact = NULL;
    char *job = NULL;
    char *err = NULL;
    assert_true(retrysel_parse("#test-engine-pytest selectors v1 count=2\na.py::t\nb.py::u\n", &sel,
                               &artifact, &job, &err));
    assert_int_equal(sel.len, 2);
    assert_string_equal(sel.items[1], "b.py::u");
    assert_null(artifact);
    assert_null(job);
    strlist_free(&sel);
    strlist_init(&sel);
    assert_true(retrysel_parse("#test-engine-pytest selectors v1 artifact=retry-selectors-j-0-"
                               "attempt0.txt job=j-1 count=9000\n",
                               &sel, &artifact, &job, &err));
    assert_string_equal(artifact, "retry-selectors-j-0-attempt0.txt");
    assert_string_equal(job, "j-1");
    assert_int_equal(sel.len, 0);
    free(artifact);
    free(job);
    assert_true(
        retrysel_parse("#test-engine-pytest selectors v1 none", &sel, &artifact, &job, &err));
    assert_int_equal(sel.len, 0);
    assert_null(err);
    assert_false(retrysel_parse("tests/a.py::t\n", &sel, &artifact, &job, &err));
    assert_string_equal(err, "not in the retry selector format");
    assert_null(artifact);
    free(err);
    strlist_free(&sel);
}

static void artifact_names_are_only_ours(void **state)
{
    (void)state;
    assert_true(retrysel_artifact_name_ok("retry-selectors-0190-job-2-attempt0.txt"));
    assert_true(retrysel_artifact_name_ok("retry-selectors-local-0-attempt1.txt"));
    const char *bad[] = {"retry-selectors-../../etc/passwd.txt",
                         "retry-selectors-a/b.txt",
                         "retry-selectors-a..txt",
                         "other-0-attempt0.txt",
                         "retry-selectors-0-attempt0.log",
                         "retry-selectors-a b.txt",
                         "retry-selectors-$(id).txt",
                         "-retry-selectors-x.txt",
                         "retry-selectors-",
                         NULL};
    for (const char **b = bad; *b; b++)
        if (retrysel_artifact_name_ok(*b)) fail_msg("accepted '%s'", *b);
    char long_name[260];
    snprintf(long_name, sizeof long_name, "retry-selectors-%0230d.txt", 0);
    assert_false(retrysel_artifact_name_ok(long_name)); /* over 200 bytes */
}

static void publish_and_load_through_metadata(void **state)
{
    fixture_t *f = *state;
    const char *const failed_items[] = {"tests/a.py::test_x", "tests/b.py::T::test_y[1]", NULL};
    strlist_t failed = list_of(failed_items);
    char *where = NULL;
    char *err = NULL;
    assert_true(retrysel_publish(&f->cfg, &failed, &where, &err));
    assert_string_equal(where, "meta-data " KEY);
    char *value = fake_agent_file(&f->agent, "md-" KEY);
    assert_string_equal(value, "#test-engine-pytest selectors v2 count=2\ntests/a.py::test_x\n"
                               "tests/b.py::T::test_y[1]\n");
    free(value);
    strlist_t sel;
    strlist_init(&sel);
    bool found = false;
    assert_true(load(f, &sel, &found, &err));
    assert_true(found);
    assert_int_equal(sel.len, 2);
    assert_string_equal(sel.items[0], failed.items[0]);
    assert_string_equal(sel.items[1], failed.items[1]);
    assert_int_equal(warnings.len, 0);
    strlist_free(&sel);
    strlist_free(&failed);
    free(where);
}

/* Node ids are bytes; meta-data is UTF-8 (the agent sends it as JSON and
 * turns a stray byte into U+FFFD): a Latin-1 file name and a '%' survive. */
static void bytes_survive_metadata(void **state)
{
    fixture_t *f = *state;
    const char *const failed_items[] = {"tests/test_latin1_\xe9.py::test_x", "t.py::test_p[50%]",
                                        "t.py::test_\xc3\xa9", NULL};
    strlist_t failed = list_of(failed_items);
    char *where = NULL;
    char *err = NULL;
    assert_true(retrysel_publish(&f->cfg, &failed, &where, &err));
    char *value = fake_agent_file(&f->agent, "md-" KEY);
    assert_string_equal(value, "#test-engine-pytest selectors v2 count=3\n"
                               "tests/test_latin1_%E9.py::test_x\nt.py::test_p[50%25]\n"
                               "t.py::test_\xc3\xa9\n"); /* valid UTF-8 stays as it is */
    free(value);
    strlist_t sel = STRLIST_INIT;
    bool found = false;
    assert_true(load(f, &sel, &found, &err));
    assert_int_equal(sel.len, 3);
    for (size_t i = 0; i < 3; i++) assert_string_equal(sel.items[i], failed.items[i]);
    strlist_free(&sel);
    strlist_free(&failed);
    free(where);
}

static void unescape_refuses_broken_escapes(void **state)
{
    (void)state;
    const char *bad[] = {"a%", "a%4", "a%zz", "a%00b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_null(text_unescape_bytes(bad[i]));
    char *ok = text_unescape_bytes("a%41%e9");
    assert_string_equal(ok, "aA\xe9");
    free(ok);
}

static void nothing_failed_publishes_none(void **state)
{
    fixture_t *f = *state;
    strlist_t failed;
    strlist_init(&failed);
    char *where = NULL;
    char *err = NULL;
    assert_true(retrysel_publish(&f->cfg, &failed, &where, &err));
    char *value = fake_agent_file(&f->agent, "md-" KEY);
    assert_string_equal(value, "#test-engine-pytest selectors v2 none\n");
    free(value);
    bool found = false;
    strlist_t sel;
    strlist_init(&sel);
    assert_true(load(f, &sel, &found, &err));
    assert_true(found); /* there, and empty: nothing to retry */
    assert_int_equal(sel.len, 0);
    strlist_free(&sel);
    strlist_free(&failed);
    free(where);
}

/* A list over the meta-data limit goes into an artifact; the meta-data
 * points to it, and a retry downloads it from the uploading job. */
static void over_the_limit_goes_through_an_artifact(void **state)
{
    fixture_t *f = *state;
    f->cfg.selectors_metadata_limit = 60;
    const char *const failed_items[] = {"tests/a.py::test_one", "tests/a.py::test_two",
                                        "tests/a.py::test_three", NULL};
    strlist_t failed = list_of(failed_items);
    char *where = NULL;
    char *err = NULL;
    assert_true(retrysel_publish(&f->cfg, &failed, &where, &err));
    const char *name = "retry-selectors-0190-job-2-attempt0.txt";
    assert_string_equal(where, "artifact retry-selectors-0190-job-2-attempt0.txt (meta-data " KEY
                               " points to it)");
    char *value = fake_agent_file(&f->agent, "md-" KEY);
    assert_string_equal(value, "#test-engine-pytest selectors v2 artifact="
                               "retry-selectors-0190-job-2-attempt0.txt job=0190-job count=3\n");
    free(value);
    /* The retry: the local copy is gone, the agent brings it back. */
    char *local = xasprintf("%s/%s", f->agent.dir, name);
    assert_int_equal(unlink(local), 0);
    f->cfg.job_retry_count = 1;
    strlist_t sel;
    strlist_init(&sel);
    bool found = false;
    assert_true(load(f, &sel, &found, &err));
    assert_int_equal(sel.len, 3);
    assert_string_equal(sel.items[2], "tests/a.py::test_three");
    char *calls = fake_agent_file(&f->agent, "calls");
    char *download = xasprintf("artifact download %s %s --step 0190-job --include-retried-jobs\n",
                               name, f->agent.dir);
    assert_non_null(strstr(calls, download));
    free(download);
    free(calls);
    free(local);
    strlist_free(&sel);
    strlist_free(&failed);
    free(where);
}

static void refused_selectors_are_named_and_left_out(void **state)
{
    fixture_t *f = *state;
    put(f, "md-" KEY,
        "#test-engine-pytest selectors v1 count=3\n--co\n/etc/passwd\ntests/ok.py::t\n#note\n");
    strlist_t sel;
    strlist_init(&sel);
    bool found = false;
    char *err = NULL;
    assert_true(load(f, &sel, &found, &err));
    assert_int_equal(sel.len, 1);
    assert_string_equal(sel.items[0], "tests/ok.py::t");
    assert_int_equal(warnings.len, 2);
    assert_string_equal(warnings.items[0], "refused retry selector '--co': starts with '-' and "
                                           "would be read as a pytest option");
    assert_non_null(strstr(warnings.items[1], "refused retry selector '/etc/passwd': is an "
                                              "absolute path"));
    strlist_free(&sel);
}

/* A pointer planted in meta-data never reaches the agent's argv. */
static void hostile_artifact_pointer_is_refused(void **state)
{
    fixture_t *f = *state;
    const char *values[] = {
        "#test-engine-pytest selectors v1 artifact=../../etc/passwd job=j count=1\n",
        ("#test-engine-pytest selectors v1 artifact=retry-selectors-a-0-attempt0.txt "
         "job=--build=x count=1\n"),
        "#test-engine-pytest selectors v1 artifact=retry-selectors-a-0-attempt0.txt count=1\n"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        put(f, "md-" KEY, values[i]);
        strlist_t sel;
        strlist_init(&sel);
        bool found = false;
        char *err = NULL;
        assert_false(load(f, &sel, &found, &err));
        assert_non_null(strstr(err, "refused the retry selectors artifact reference (artifact '"));
        assert_non_null(strstr(err, "): not one this plugin writes"));
        assert_int_equal(sel.len, 0);
        free(err);
        strlist_free(&sel);
    }
    char *calls = fake_agent_file(&f->agent, "calls");
    assert_null(strstr(calls, "artifact download"));
    free(calls);
}

static void missing_artifact_says_so(void **state)
{
    fixture_t *f = *state;
    put(f, "md-" KEY,
        "#test-engine-pytest selectors v1 artifact=retry-selectors-j-0-attempt0.txt job=j "
        "count=1\n");
    strlist_t sel;
    strlist_init(&sel);
    bool found = false;
    char *err = NULL;
    assert_false(load(f, &sel, &found, &err));
    assert_string_equal(err, "cannot download retry selectors artifact "
                             "retry-selectors-j-0-attempt0.txt (buildkite-agent artifact download "
                             "exited 1: buildkite-agent: fatal: no artifacts found)");
    free(err);
    err = NULL;
    put(f, "no-file", ""); /* the agent says it worked, but wrote nothing */
    assert_false(load(f, &sel, &found, &err));
    assert_non_null(strstr(err, "cannot read the downloaded retry selectors artifact "));
    assert_non_null(strstr(err, "retry-selectors-j-0-attempt0.txt (No such file or directory)"));
    free(err);
    strlist_free(&sel);
}

static void absent_value_is_no_failure(void **state)
{
    fixture_t *f = *state;
    strlist_t sel;
    strlist_init(&sel);
    bool found = true;
    char *err = NULL;
    assert_true(load(f, &sel, &found, &err));
    assert_false(found);
    assert_null(err);
    assert_int_equal(sel.len, 0);
    strlist_free(&sel);
}

static void unusable_value_or_agent_is_a_failure(void **state)
{
    fixture_t *f = *state;
    put(f, "md-" KEY, "tests/a.py::t\n");
    strlist_t sel;
    strlist_init(&sel);
    bool found = false;
    char *err = NULL;
    assert_false(load(f, &sel, &found, &err));
    assert_string_equal(err, "meta-data " KEY " is not in the retry selector format");
    free(err);
    err = NULL;
    put(f, "broken", "");
    assert_false(load(f, &sel, &found, &err));
    assert_string_equal(err, "cannot read meta-data " KEY " (buildkite-agent meta-data exists "
                             "exited 1: buildkite-agent: fatal: boom)");
    free(err);
    assert_int_equal(sel.len, 0);
    strlist_free(&sel);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(key_names_step_and_parallel_job),
        cmocka_unit_test(parse_reads_header_and_lines),
        cmocka_unit_test(artifact_names_are_only_ours),
        T(publish_and_load_through_metadata),
        T(bytes_survive_metadata),
        cmocka_unit_test(unescape_refuses_broken_escapes),
        T(nothing_failed_publishes_none),
        T(over_the_limit_goes_through_an_artifact),
        T(refused_selectors_are_named_and_left_out),
        T(hostile_artifact_pointer_is_refused),
        T(missing_artifact_says_so),
        T(absent_value_is_no_failure),
        T(unusable_value_or_agent_is_a_failure),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
