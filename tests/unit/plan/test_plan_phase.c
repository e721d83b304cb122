/* plan_phase: configuration to this job's slice.json, in a scratch checkout
 * of real test files (tests/test_*.py and the like, with a conftest.py and a
 * helper that are no tests), each job's state in a folder of its own:
 *   - the API unreachable (a closed loopback port): the fallback plan, every
 *     discovered file in exactly one job's slice, at once (no retry);
 *   - the Test Engine stand-in (tests/support/te_server.py, real HTTPS)
 *     answers a plan: the slice is the server's entries for this job, and the
 *     plan request carried every file;
 *   - a fatal answer (400, 401, 403) at each of the three requests: the
 *     configuration status and no slice.json;
 *   - a job retry with the previous attempt's failed selectors in meta-data
 *     (a fake buildkite-agent, fake_agent.h): the plan is those selectors. */
#include "unit.h"
#include "fake_agent.h"
#include "te_server.h"
#include "base/fs.h"
#include "net/http.h"
#include "plan/plan_phase.h"
#include "state/slice_file.h"
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>

/* The checkout's test files as discovery finds them (the default pattern),
 * byte-sorted: the fallback's order. */
static const char *const FILES[] = {
    "test_top.py",         "tests/sub/test_delta.py", "tests/sub/test_epsilon.py",
    "tests/test_alpha.py", "tests/test_beta.py",      "tests/test_gamma.py",
    "tests/zeta_test.py",
};
#define N_FILES (sizeof FILES / sizeof FILES[0])

/* Everything the tests set, unset again by teardown (and first by setup, so
 * nothing from the environment ctest ran in steers the phase). */
static const char *const ENV[] = {
    "BUILDKITE_PLUGIN_CONFIGURATION",
    "BUILDKITE_JOB_ID",
    "BUILDKITE_RETRY_COUNT",
    "BUILDKITE_PARALLEL_JOB",
    "BUILDKITE_PARALLEL_JOB_COUNT",
    "BUILDKITE_ORGANIZATION_SLUG",
    "BUILDKITE_BUILD_ID",
    "BUILDKITE_STEP_ID",
    "BUILDKITE_TEST_ENGINE_SUITE_SLUG",
    "BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN",
    "BUILDKITE_TEST_ENGINE_BASE_URL",
    "BUILDKITE_TEST_ENGINE_CA_BUNDLE",
    "BUILDKITE_TEST_ENGINE_STATE_DIR",
    "BUILDKITE_TEST_ENGINE_AGENT_CMD",
    "BUILDKITE_TEST_ENGINE_FILES",
    "BUILDKITE_TEST_ENGINE_TAG_FILTERS",
    "BUILDKITE_TEST_ENGINE_DURATIONS_FILE",
    "BUILDKITE_TEST_ENGINE_PLAN_IDENTIFIER",
    "BUILDKITE_TEST_ENGINE_TEST_FILE_PATTERN",
    "BUILDKITE_TEST_ENGINE_TEST_FILE_EXCLUDE_PATTERN",
    "BUILDKITE_ANALYTICS_LOCATION_PREFIX",
    "BUILDKITE_TEST_ENGINE_LOCATION_PREFIX",
};

typedef struct {
    char root[64];  /* checkout/ and the jobs' state folders */
    char *checkout; /* the working directory while the test runs */
    char *old_cwd;
    int closed_fd; /* bound, never listening: a connection to it is refused */
    char *closed_url;
    te_server_t server; /* when started (server.pid): teardown stops it, a failed test too */
    fake_agent_t agent; /* when installed (agent.old_path): likewise removed by teardown */
} fixture_t;

/* A loopback port that refuses connections: bound (so nothing else takes
 * it while the test runs) but never listening. */
static int closed_port(char **url)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *url = xasprintf("https://127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
    return fd;
}

static int setup(void **state)
{
    fixture_t *f = xcalloc(1, sizeof *f);
    for (size_t i = 0; i < sizeof ENV / sizeof ENV[0]; i++) unsetenv(ENV[i]);
    scratch_dir(f->root, sizeof f->root, "test_plan_phase");
    f->checkout = fs_join(f->root, "checkout");
    assert_true(fs_mkdirs(f->checkout));
    char *sub = fs_join(f->checkout, "tests/sub");
    assert_true(fs_mkdirs(sub));
    free(sub);
    for (size_t i = 0; i < N_FILES; i++)
        scratch_put(f->checkout, FILES[i],
                    "def test_one():\n    pass\n\n"
                    "def test_two():\n    pass\n");
    scratch_put(f->checkout, "tests/conftest.py", "");          /* no test file */
    scratch_put(f->checkout, "tests/helper.py", "X = 1\n");     /* nor this */
    scratch_put(f->checkout, "README.md", "not a test file\n"); /* nor this */
    f->old_cwd = getcwd(NULL, 0);
    assert_non_null(f->old_cwd);
    assert_int_equal(chdir(f->checkout), 0);
    f->closed_fd = closed_port(&f->closed_url);
    setenv("BUILDKITE_ORGANIZATION_SLUG", "acme", 1);
    setenv("BUILDKITE_BUILD_ID", "build-1", 1);
    setenv("BUILDKITE_STEP_ID", "step-1", 1);
    setenv("BUILDKITE_TEST_ENGINE_SUITE_SLUG", "shop", 1);
    setenv("BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN", "tok-api", 1);
    setenv("BUILDKITE_TEST_ENGINE_BASE_URL", f->closed_url, 1);
    http_global_init();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    if (f->server.pid > 0) te_server_stop(&f->server);
    if (f->agent.old_path) fake_agent_remove(&f->agent);
    curl_global_cleanup();
    for (size_t i = 0; i < sizeof ENV / sizeof ENV[0]; i++) unsetenv(ENV[i]);
    close(f->closed_fd);
    free(f->closed_url);
    assert_int_equal(chdir(f->old_cwd), 0);
    free(f->old_cwd);
    free(f->checkout);
    scratch_dir_remove(f->root);
    free(f);
    return 0;
}

/* Starts the stand-in and points the phase at it. */
static te_server_t *start_server(fixture_t *f)
{
    te_server_start(&f->server);
    setenv("BUILDKITE_TEST_ENGINE_BASE_URL", f->server.url, 1);
    setenv("BUILDKITE_TEST_ENGINE_CA_BUNDLE", f->server.ca, 1);
    return &f->server;
}

typedef struct {
    config_t *cfg;
    int status;
} call_t;

static void plan_it(void *arg)
{
    call_t *c = arg;
    c->status = plan_phase_plan(c->cfg);
}

/* The plan phase as `plan` runs it (prepare, then plan) for job `job` of
 * `count` with its state in root/<state_name>; its output goes to *log
 * (caller frees) and what it left as slice.json to *slice (NULL: none;
 * slice_file_free). Returns its status. */
static int plan_job(fixture_t *f, long job, long count, const char *state_name, char **log,
                    slice_t **slice)
{
    char *state_dir = fs_join(f->root, state_name);
    char text[32];
    snprintf(text, sizeof text, "%ld", job);
    setenv("BUILDKITE_PARALLEL_JOB", text, 1);
    snprintf(text, sizeof text, "%ld", count);
    setenv("BUILDKITE_PARALLEL_JOB_COUNT", text, 1);
    setenv("BUILDKITE_TEST_ENGINE_STATE_DIR", state_dir, 1);
    config_t cfg;
    config_load(&cfg);
    assert_true(plan_phase_prepare(&cfg));
    call_t c = {.cfg = &cfg};
    *log = scratch_output(SCRATCH_STDOUT | SCRATCH_STDERR, plan_it, &c, NULL);
    char *err = NULL;
    *slice = NULL;
    if (!slice_file_read(&cfg, slice, &err)) fail_msg("slice.json unreadable: %s", err);
    config_free(&cfg);
    free(state_dir);
    return c.status;
}

static long index_of(const char *file)
{
    for (size_t i = 0; i < N_FILES; i++)
        if (strcmp(FILES[i], file) == 0) return (long)i;
    return -1;
}

/* Proves: with the API unreachable (its port refuses connections) every job
 * plans locally, and the jobs' slices partition the discovered test files:
 * each file in exactly one job's slice, none that is not a test file, the
 * shares within one file of each other; and a refused connection is not
 * retried through the API retry budget (60 s by default): each job's phase
 * returns 0 well inside 20 s. */
static void unreachable_api_falls_back_to_a_partition(void **state)
{
    fixture_t *f = *state;
    const long jobs = 3;
    int seen[N_FILES] = {0};
    for (long job = 0; job < jobs; job++) {
        char name[32];
        snprintf(name, sizeof name, "state-%ld", job);
        char *log = NULL;
        slice_t *s = NULL;
        double t0 = fs_monotonic();
        int status = plan_job(f, job, jobs, name, &log, &s);
        double took = fs_monotonic() - t0;
        if (status != 0) fail_msg("job %ld: status %d:\n%s", job, status, log);
        if (took >= 20)
            fail_msg("job %ld took %.1f s: the refused connection was retried", job, took);
        assert_non_null(strstr(log, "Falling back to local splitting"));
        if (!s) fail_msg("job %ld: no slice.json:\n%s", job, log);
        assert_string_equal(s->source, "fallback");
        assert_int_equal(s->job, job);
        assert_int_equal(s->parallelism, jobs);
        assert_true(s->tests.len == N_FILES / jobs || s->tests.len == N_FILES / jobs + 1);
        for (size_t i = 0; i < s->tests.len; i++) {
            long k = index_of(s->tests.items[i]);
            if (k < 0) fail_msg("job %ld: '%s' is no test file", job, s->tests.items[i]);
            seen[k]++;
        }
        slice_file_free(s);
        free(log);
    }
    for (size_t i = 0; i < N_FILES; i++)
        if (seen[i] != 1) fail_msg("%s is in %d slices, not 1", FILES[i], seen[i]);
}

/* The `value`s of the selectors in the one plan POST the stand-in received,
 * sorted; fails unless there was exactly one. */
static void posted_selectors(const te_server_t *s, strlist_t *out)
{
    char *text = te_server_requests(s);
    size_t posts = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *r = cJSON_Parse(line);
        assert_non_null(r);
        const char *method = cJSON_GetStringValue(cJSON_GetObjectItem(r, "method"));
        const char *path = cJSON_GetStringValue(cJSON_GetObjectItem(r, "path"));
        size_t n = strlen(path);
        if (strcmp(method, "POST") == 0 && n >= 10 && strcmp(path + n - 10, "/test_plan") == 0) {
            posts++;
            const cJSON *tests = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "body"), "tests");
            const cJSON *sel;
            cJSON_ArrayForEach(sel, cJSON_GetObjectItem(tests, "selectors"))
            {
                strlist_push(out, cJSON_GetStringValue(cJSON_GetObjectItem(sel, "value")));
            }
        }
        cJSON_Delete(r);
    }
    free(text);
    assert_int_equal(posts, 1);
    strlist_sort(out);
}

/* Proves: when Test Engine makes a plan, the request carries every
 * discovered test file, and slice.json is the server's entries for this job,
 * in its order. The stand-in reverse-sorts the entries before dealing them
 * round-robin (the fallback byte-sorts them), so job 1 of 3 gets
 * tests/test_gamma.py and tests/sub/test_epsilon.py from it, where the
 * fallback would give tests/sub/test_delta.py and tests/test_beta.py. */
static void the_server_plan_is_this_jobs_slice(void **state)
{
    fixture_t *f = *state;
    te_server_t *s = start_server(f);
    char *log = NULL;
    slice_t *slice = NULL;
    int status = plan_job(f, 1, 3, "state-1", &log, &slice);
    if (status != 0) fail_msg("status %d:\n%s", status, log);
    if (!slice) fail_msg("no slice.json:\n%s", log);
    assert_string_equal(slice->source, "server (new plan)");
    assert_true(slice->from_server);
    assert_int_equal(slice->job, 1);
    assert_int_equal(slice->parallelism, 3);
    assert_int_equal(slice->tests.len, 2);
    assert_string_equal(slice->tests.items[0], "tests/test_gamma.py");
    assert_string_equal(slice->tests.items[1], "tests/sub/test_epsilon.py");
    assert_null(strstr(log, "Falling back"));

    strlist_t sent = STRLIST_INIT;
    posted_selectors(s, &sent);
    assert_int_equal(sent.len, N_FILES);
    for (size_t i = 0; i < N_FILES; i++) assert_string_equal(sent.items[i], FILES[i]);
    strlist_free(&sent);
    slice_file_free(slice);
    free(log);
}

/* Proves: an answer that points at the configuration (400 to filter_tests,
 * 403 to the plan POST, 401 to the cached plan GET: each of the phase's
 * three requests) stops the phase with the configuration status, says the
 * server's message, and leaves no slice.json (no local plan in its place). */
static void a_fatal_answer_is_the_configuration_status(void **state)
{
    fixture_t *f = *state;
    te_server_t *s = start_server(f);
    const struct {
        const char *faults;
        const char *message;
    } cases[] = {
        {"{\"filter_tests\": [{\"status\": 400, \"body\": {\"message\": \"bad filter\"}}]}",
         "bad filter"},
        {"{\"plan_post\": [{\"status\": 403, \"body\": {\"message\": \"forbidden here\"}}]}",
         "forbidden here"},
        {"{\"plan_get\": [{\"status\": 401, \"body\": {\"message\": \"who are you\"}}]}",
         "who are you"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        te_server_faults(s, cases[i].faults);
        char name[32];
        snprintf(name, sizeof name, "state-fatal-%zu", i);
        char *log = NULL;
        slice_t *slice = NULL;
        int status = plan_job(f, 0, 2, name, &log, &slice);
        /* 78: the default config-exit-status */
        if (status != 78) fail_msg("case %zu: status %d, not 78:\n%s", i, status, log);
        if (!strstr(log, cases[i].message)) fail_msg("case %zu: message not said:\n%s", i, log);
        assert_null(strstr(log, "Falling back"));
        if (slice) fail_msg("case %zu: a slice.json was written", i);
        free(log);
    }
}

/* meta-data in $D/md-<key>, every call in $D/calls. */
static const char *const AGENT_SCRIPT = "printf '%s\\n' \"$*\" >> \"$D/calls\"\n"
                                        "case \"$1 $2\" in\n"
                                        "'meta-data exists') [ -f \"$D/md-$3\" ] || exit 100 ;;\n"
                                        "'meta-data get') cat \"$D/md-$3\" ;;\n"
                                        "*) exit 2 ;;\n"
                                        "esac\n";

/* Proves: on a Buildkite job retry whose previous attempt published its
 * failed tests (the retry selectors in meta-data under this step and job),
 * the plan is those tests alone, in their order, and no other file: the
 * normal slice (the fallback here, the API's port refusing) would be
 * tests/sub/test_delta.py and tests/test_beta.py. */
static void a_job_retry_runs_the_failed_selectors(void **state)
{
    fixture_t *f = *state;
    fake_agent_install(&f->agent, AGENT_SCRIPT);
    fake_agent_put(&f->agent, "md-test-engine-pytest:retry-selectors:step-1:1",
                   "#test-engine-pytest selectors v2 count=2\n"
                   "tests/test_alpha.py::test_two\n"
                   "tests/sub/test_epsilon.py::test_one\n");
    setenv("BUILDKITE_RETRY_COUNT", "1", 1);
    char *log = NULL;
    slice_t *slice = NULL;
    int status = plan_job(f, 1, 3, "state-retry", &log, &slice);
    if (status != 0) fail_msg("status %d:\n%s", status, log);
    if (!slice) fail_msg("no slice.json:\n%s", log);
    assert_string_equal(slice->source, "retry selectors");
    assert_int_equal(slice->tests.len, 2);
    assert_string_equal(slice->tests.items[0], "tests/test_alpha.py::test_two");
    assert_string_equal(slice->tests.items[1], "tests/sub/test_epsilon.py::test_one");
    char *calls = fake_agent_file(&f->agent, "calls");
    assert_non_null(strstr(calls, "meta-data get test-engine-pytest:retry-selectors:step-1:1"));
    free(calls);
    slice_file_free(slice);
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        unit_test_fixture(unreachable_api_falls_back_to_a_partition),
        unit_test_fixture(the_server_plan_is_this_jobs_slice),
        unit_test_fixture(a_fatal_answer_is_the_configuration_status),
        unit_test_fixture(a_job_retry_runs_the_failed_selectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
