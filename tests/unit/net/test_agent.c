/* agent: real calls of a fake buildkite-agent (tests/unit/fake_agent.h):
 * values from stdout only, failures named with the agent's last stderr line
 * and its exit status, absence of a meta-data key told from a failure. */
#include "unit.h"
#include "net/agent.h"
#include "config/config.h"
#include "fake_agent.h"

/* Behaves like the agent where these tests need it: meta-data in $D/md,
 * every argv line in $D/calls, log lines on stderr. */
static const char *const AGENT_SCRIPT =
    "echo \"$*\" >> \"$D/calls\"\n"
    "echo '2026-01-01 00:00:00 DEBUG  Loaded config' >&2\n"
    "case \"$1 $2\" in\n"
    "'meta-data exists') [ -f \"$D/md-$3\" ] && exit 0; [ -f \"$D/broken\" ] && "
    "{ echo 'buildkite-agent: fatal: agent API unreachable' >&2; exit 1; }; exit 100 ;;\n"
    "'meta-data get') printf '%s' \"$(cat \"$D/md-$3\")\" ;;\n"
    "'meta-data set') cat > \"$D/md-$3\" ;;\n"
    "'artifact upload') echo 'a line before' >&2; echo 'buildkite-agent: fatal: no such file' "
    ">&2; echo >&2; exit 3 ;;\n"
    "'annotate where') pwd > \"$D/cwd\" ;;\n"
    "'die now') kill -TERM $$ ;;\n"
    "*) exit 2 ;;\n"
    "esac\n";

typedef agent_fixture_t fixture_t;

static int setup(void **state)
{
    *state = agent_fixture_new(AGENT_SCRIPT);
    return 0;
}

static int teardown(void **state)
{
    agent_fixture_free(*state);
    return 0;
}

static void store(fixture_t *f, const char *key, const char *value)
{
    char *err = NULL;
    assert_true(agent_metadata_set(&f->cfg, key, value, &err));
    assert_null(err);
}

/* The DEBUG line on stderr never becomes part of the value. */
static void value_comes_from_stdout_only(void **state)
{
    fixture_t *f = *state;
    store(f, "k", "the value");
    char *value = NULL;
    char *err = NULL;
    assert_true(agent_metadata_get(&f->cfg, "k", &value, &err));
    assert_null(err);
    assert_string_equal(value, "the value");
    free(value);
}

/* `exists` exiting 100 is an answer, not a failure; `get` is not asked. */
static void absent_key_is_no_failure(void **state)
{
    fixture_t *f = *state;
    char *value = (char *)"stale";
    char *err = NULL;
    assert_true(agent_metadata_get(&f->cfg, "missing", &value, &err));
    assert_null(value);
    assert_null(err);
    char *calls = fake_agent_file(&f->agent, "calls");
    assert_string_equal(calls, "meta-data exists missing\n");
    free(calls);
}

static void exists_failing_is_a_failure(void **state)
{
    fixture_t *f = *state;
    fake_agent_put(&f->agent, "broken", "");
    char *value = NULL;
    char *err = NULL;
    assert_false(agent_metadata_get(&f->cfg, "k", &value, &err));
    assert_null(value);
    assert_string_equal(err, "buildkite-agent meta-data exists exited 1: buildkite-agent: fatal: "
                             "agent API unreachable");
    free(err);
}

/* The message names the command, its status and the agent's last non-blank
 * stderr line (not the log lines before it). */
static void failure_names_command_status_and_reason(void **state)
{
    fixture_t *f = *state;
    const char *args[] = {"artifact", "upload", "x.txt", NULL};
    char *err = NULL;
    assert_false(agent_call(&f->cfg, args, NULL, NULL, NULL, &err));
    assert_string_equal(err, "buildkite-agent artifact upload exited 3: buildkite-agent: fatal: "
                             "no such file");
    /* A second failure replaces the message (err_set's rule), it does not leak. */
    const char *unknown[] = {"pipeline", "nonsense", NULL};
    assert_false(agent_call(&f->cfg, unknown, NULL, NULL, NULL, &err));
    assert_string_equal(err, "buildkite-agent pipeline nonsense exited 2: 2026-01-01 00:00:00 "
                             "DEBUG  Loaded config");
    free(err);
}

static void killed_agent_reports_128_plus_signal(void **state)
{
    fixture_t *f = *state;
    const char *args[] = {"die", "now", NULL};
    char *err = NULL;
    assert_false(agent_call(&f->cfg, args, NULL, NULL, NULL, &err));
    assert_non_null(strstr(err, "buildkite-agent die now exited 143"));
    free(err);
}

static void missing_agent_says_why(void **state)
{
    fixture_t *f = *state;
    free(f->cfg.agent_cmd);
    f->cfg.agent_cmd = xstrdup("/nonexistent/buildkite-agent");
    const char *args[] = {"meta-data", "get", "k", NULL};
    char *err = NULL;
    assert_false(agent_call(&f->cfg, args, NULL, NULL, NULL, &err));
    assert_non_null(strstr(err, "/nonexistent/buildkite-agent"));
    free(err);
}

/* The same through metadata_get's `exists` call, which runs the agent on its
 * own: the start failure's message is handed back, and (under ASan) the
 * process result that carried it is freed. */
static void missing_agent_fails_metadata_get(void **state)
{
    fixture_t *f = *state;
    free(f->cfg.agent_cmd);
    f->cfg.agent_cmd = xstrdup("/nonexistent/buildkite-agent");
    char *value = NULL;
    char *err = NULL;
    assert_false(agent_metadata_get(&f->cfg, "k", &value, &err));
    assert_null(value);
    assert_non_null(strstr(err, "cannot run '/nonexistent/buildkite-agent'"));
    free(err);
}

/* A value larger than one argv word may be (128 KiB) goes through stdin,
 * byte for byte. */
static void set_sends_large_values_on_stdin(void **state)
{
    fixture_t *f = *state;
    size_t n = 300 * 1024;
    char *big = xmalloc(n + 1);
    for (size_t i = 0; i < n; i++) big[i] = (char)('a' + i % 26);
    big[n - 1] = '\n';
    big[n] = '\0';
    store(f, "big", big);
    char *kept = fake_agent_file(&f->agent, "md-big");
    assert_string_equal(kept, big);
    free(kept);
    free(big);
}

static void runs_in_the_given_directory(void **state)
{
    fixture_t *f = *state;
    const char *args[] = {"annotate", "where", NULL};
    char *err = NULL;
    assert_true(agent_call(&f->cfg, args, NULL, "/", NULL, &err));
    assert_null(err);
    char *cwd = fake_agent_file(&f->agent, "cwd");
    assert_string_equal(cwd, "/\n");
    free(cwd);
}

/* A real timeout takes TIMEOUT_AGENT_S; the message is built the same way. */
static void timeout_names_the_command(void **state)
{
    (void)state;
    const char *args[] = {"oidc", "request-token", "--audience", "x", NULL};
    process_result_t r;
    memset(&r, 0, sizeof r);
    r.timed_out = true;
    buf_t errors = BUF_INIT;
    buf_puts(&errors, "DEBUG something\n");
    char *msg = agent_failure(args, &r, &errors);
    assert_string_equal(msg, "buildkite-agent oidc request-token timed out");
    free(msg);
    const char *one[] = {"annotate", NULL}; /* no sub-command word */
    r.timed_out = false;
    r.exit_code = 1;
    msg = agent_failure(one, &r, &errors);
    assert_string_equal(msg, "buildkite-agent annotate  exited 1: DEBUG something");
    free(msg);
    buf_free(&errors);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        unit_test_fixture(value_comes_from_stdout_only),
        unit_test_fixture(absent_key_is_no_failure),
        unit_test_fixture(exists_failing_is_a_failure),
        unit_test_fixture(failure_names_command_status_and_reason),
        unit_test_fixture(killed_agent_reports_128_plus_signal),
        unit_test_fixture(missing_agent_says_why),
        unit_test_fixture(missing_agent_fails_metadata_get),
        unit_test_fixture(set_sends_large_values_on_stdin),
        unit_test_fixture(runs_in_the_given_directory),
        cmocka_unit_test(timeout_names_the_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
