/* cli_args: see cli_args.h for the contract and the why. */
#include "cmd/cli_args.h"
#include "base/buf.h"
#include "base/err.h"
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define MAX_JOBS 1000 /* BUILDKITE_PARALLEL_JOB_COUNT's own limit (config_options.c) */

/* "--name VALUE" or "--name=VALUE": the value, advancing *i past it; NULL
 * when argv[*i] is not this flag. *missing is set when the value is absent. */
static const char *flag_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0) return NULL;
    if (a[n] == '=') return a + n + 1;
    if (a[n] != '\0') return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

/* The flag's name as given: "--jobs" of "--jobs=two". */
static bool parse_count(const char *arg, const char *text, long lo, long *out, char **err)
{
    int name_len = (int)strcspn(arg, "=");
    char *end = NULL;
    errno = 0;
    long v = text && *text ? strtol(text, &end, 10) : 0;
    if (!text || !*text || *end || errno || v < lo || v > MAX_JOBS)
        return err_set(err, "%.*s '%s': give a whole number from %ld to %d", name_len, arg,
                       text ? text : "", lo, MAX_JOBS);
    *out = v;
    return true;
}

static const char *run_hint(cli_args_cmd_t cmd)
{
    return cmd == CLI_ARGS_RUN
               ? "run takes --job I --jobs N (or --group I --splits N), --durations-path FILE and "
                 "--help; other settings are environment variables or plugin options "
                 "(test-engine-pytest --help)"
               : "plan takes --explain, --plan-out FILE, --jobs N, --durations-path FILE, or "
                 "--json / --pipeline-upload TEMPLATE; other settings are environment variables or "
                 "plugin options (test-engine-pytest --help)";
}

/* One flag of either command; false with *err when it is not one. */
static bool parse_one(cli_args_cmd_t cmd, int argc, char **argv, int *i, cli_args_t *a, char **err)
{
    const char *arg = argv[*i];
    bool missing = false;
    const char *v;
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        a->help = true;
        return true;
    }
    if (cmd == CLI_ARGS_RUN && ((v = flag_value(argc, argv, i, "--job", &missing)) ||
                                (v = flag_value(argc, argv, i, "--group", &missing))))
        return parse_count(arg, v, 1, &a->job, err);
    if ((v = flag_value(argc, argv, i, "--jobs", &missing)) ||
        (v = flag_value(argc, argv, i, "--splits", &missing)))
        return parse_count(arg, v, 1, &a->jobs, err);
    if ((v = flag_value(argc, argv, i, "--durations-path", &missing))) {
        if (!*v) return err_set(err, "--durations-path: give the durations file's path");
        a->durations_path = v;
        return true;
    }
    if (cmd == CLI_ARGS_PLAN && strcmp(arg, "--explain") == 0) {
        a->explain = true;
        return true;
    }
    if (cmd == CLI_ARGS_PLAN && strcmp(arg, "--json") == 0) {
        a->json = true;
        return true;
    }
    if (cmd == CLI_ARGS_PLAN && (v = flag_value(argc, argv, i, "--plan-out", &missing))) {
        if (!*v) return err_set(err, "--plan-out: give the file to write the plan to");
        a->plan_out = v;
        return true;
    }
    if (cmd == CLI_ARGS_PLAN && (v = flag_value(argc, argv, i, "--pipeline-upload", &missing))) {
        if (!*v) return err_set(err, "--pipeline-upload: give the pipeline template");
        a->pipeline_upload = v;
        return true;
    }
    if (missing) return err_set(err, "%s needs a value; %s", arg, run_hint(cmd));
    if (cmd == CLI_ARGS_RUN && arg[0] == '-')
        return err_set(err,
                       "unexpected argument '%s'; pytest's own arguments go after --, as in "
                       "test-engine-pytest run -- %s; %s",
                       arg, arg, run_hint(cmd));
    return err_set(err, "unexpected argument '%s'; %s", arg, run_hint(cmd));
}

bool cli_args_parse(cli_args_cmd_t cmd, int argc, char **argv, cli_args_t *out, char **err)
{
    memset(out, 0, sizeof *out);
    for (int i = 1; i < argc; i++) {
        if (cmd == CLI_ARGS_RUN && strcmp(argv[i], "--") == 0) {
            for (int k = i + 1; k < argc; k++) strlist_push(&out->extra, argv[k]);
            break;
        }
        if (!parse_one(cmd, argc, argv, &i, out, err)) return false;
    }
    if (out->json && out->pipeline_upload)
        return err_set(err, "--json and --pipeline-upload exclude each other; choose one");
    if ((out->json || out->pipeline_upload) && (out->explain || out->plan_out))
        return err_set(err, "--explain / --plan-out explain a split of a given job count; "
                            "--json / --pipeline-upload ask for the count: use one or the other");
    return true;
}

void cli_args_free(cli_args_t *a)
{
    strlist_free(&a->extra);
    memset(a, 0, sizeof *a);
}

/* A variable's value as a count, or `fallback` when unset or not a number
 * (config reports a bad one itself). */
static long env_long(const char *name, long fallback)
{
    const char *s = getenv(name);
    char *end = NULL;
    long v = s && *s ? strtol(s, &end, 10) : fallback;
    return s && *s && !*end ? v : fallback;
}

static void set_long(const char *name, long v)
{
    char text[24];
    snprintf(text, sizeof text, "%ld", v);
    setenv(name, text, 1);
}

bool cli_args_export(const cli_args_t *a, char **err)
{
    long jobs = a->jobs ? a->jobs : env_long("BUILDKITE_PARALLEL_JOB_COUNT", 1);
    long job = a->job ? a->job : env_long("BUILDKITE_PARALLEL_JOB", 0) + 1;
    if ((a->job || a->jobs) && (job < 1 || job > jobs)) {
        if (a->job && a->jobs)
            return err_set(err, "--job %ld is not one of the %ld jobs: give 1 to %ld", job, jobs,
                           jobs);
        if (a->job)
            return err_set(err,
                           "--job %ld is not one of the %ld jobs (BUILDKITE_PARALLEL_JOB_COUNT); "
                           "give the count with --jobs N",
                           job, jobs);
        return err_set(err,
                       "this is job %ld (BUILDKITE_PARALLEL_JOB + 1), not one of --jobs %ld; give "
                       "it with --job I",
                       job, jobs);
    }
    if (a->job || a->jobs) {
        set_long("BUILDKITE_PARALLEL_JOB", job - 1);
        set_long("BUILDKITE_PARALLEL_JOB_COUNT", jobs);
    }
    if (a->durations_path) setenv("BUILDKITE_TEST_ENGINE_DURATIONS_FILE", a->durations_path, 1);
    return true;
}

/* One word as the template's sh-like splitting gives it back. */
static void put_quoted(buf_t *b, const char *w)
{
    buf_putc(b, '\'');
    for (const char *p = w; *p; p++) {
        if (*p == '\'')
            buf_puts(b, "'\\''");
        else
            buf_putc(b, *p);
    }
    buf_putc(b, '\'');
}

static char *extended(const char *cmd, const strlist_t *extra)
{
    buf_t b = BUF_INIT;
    buf_puts(&b, cmd);
    for (size_t i = 0; i < extra->len; i++) {
        buf_putc(&b, ' ');
        put_quoted(&b, extra->items[i]);
    }
    return buf_detach(&b);
}

bool cli_args_extend_commands(const cli_args_t *a, config_t *cfg, char **err)
{
    if (!a->extra.len) return true;
    for (size_t i = 0; i < a->extra.len; i++)
        if (strstr(a->extra.items[i], "{{"))
            return err_set(err,
                           "pytest argument '%s' after --: '{{' would be read as a placeholder of "
                           "the test command; put it in BUILDKITE_TEST_ENGINE_TEST_CMD instead",
                           a->extra.items[i]);
    char *test = extended(config_test_command(cfg), &a->extra);
    free(cfg->test_cmd);
    cfg->test_cmd = test;
    if (*cfg->retry_cmd) {
        char *retry = extended(cfg->retry_cmd, &a->extra);
        free(cfg->retry_cmd);
        cfg->retry_cmd = retry;
    }
    return true;
}

void cli_args_print_run_help(FILE *out)
{
    fputs(
        "usage: test-engine-pytest run [--job I --jobs N] [--durations-path FILE] [-- "
        "PYTEST-ARGS...]\n"
        "\n"
        "Runs this job's part of the pytest suite, retries failed tests in-job, and exits with a\n"
        "documented status (test-engine-pytest --help lists them). When the plugin's plan phase\n"
        "made no slice for this job, run plans first: with Test Engine when a suite slug, an API\n"
        "token and an organization are set, else locally.\n"
        "\n"
        "  --job I, --group I       this is job I of N, counted from 1 (default: "
        "BUILDKITE_PARALLEL_JOB\n"
        "                           + 1; --group is pytest-split's name for it)\n"
        "  --jobs N, --splits N     the number of jobs the suite is split over (default:\n"
        "                           BUILDKITE_PARALLEL_JOB_COUNT, else 1; --splits is "
        "pytest-split's)\n"
        "  --durations-path FILE    known durations for a local split: a pytest-split\n"
        "                           .test_durations file or 'seconds path' lines\n"
        "                           (BUILDKITE_TEST_ENGINE_DURATIONS_FILE)\n"
        "  -- PYTEST-ARGS...        appended to the test command (and to the retry command)\n"
        "  -h, --help               this text\n"
        "\n"
        "Splitting offline (no Test Engine, no Buildkite needed): with neither a suite slug nor\n"
        "an API token set, the split is computed locally, identically on every job: longest\n"
        "first over the durations file when there is one, else round-robin over the test\n"
        "files by name. Inside a Buildkite job too: leave suite-slug out.\n"
        "  test-engine-pytest run --splits 3 --group 1 --durations-path .test_durations\n"
        "  test-engine-pytest run --job 2 --jobs 3 -- -x -k 'not slow'\n"
        "See how a split falls before running it: test-engine-pytest plan --explain --jobs 3.\n"
        "\n"
        "Every other setting is an environment variable or plugin option: test-engine-pytest "
        "--help.\n",
        out);
}

void cli_args_print_plan_help(FILE *out)
{
    fputs(
        "usage: test-engine-pytest plan [--explain] [--plan-out FILE] [--jobs N] [--durations-path "
        "FILE]\n"
        "       test-engine-pytest plan --json | --pipeline-upload TEMPLATE\n"
        "\n"
        "Without flags: the plugin's pre-command phase (this job's slice, for run).\n"
        "\n"
        "  --explain                print every job's entries, each estimate and where it came "
        "from\n"
        "                           (Test Engine's timing, its default, the durations file, a "
        "guess),\n"
        "                           the entries with no history and the bound no split can beat;\n"
        "                           runs no test and writes no slice\n"
        "  --plan-out FILE          write that plan as JSON (Test Engine's plan shape, as bktec "
        "plan\n"
        "                           --plan-out writes it, plus each estimate's source); FILE is\n"
        "                           replaced only when this tool wrote it\n"
        "  --jobs N, --splits N     the number of jobs (default: BUILDKITE_PARALLEL_JOB_COUNT, "
        "else 1)\n"
        "  --durations-path FILE    known durations for a local split "
        "(BUILDKITE_TEST_ENGINE_DURATIONS_FILE)\n"
        "  --json                   dynamic parallelism: how many jobs the step needs, as JSON\n"
        "  --pipeline-upload TEMPLATE  the same, uploaded with buildkite-agent pipeline upload\n"
        "\n"
        "Offline (none of a suite slug, an API token and BUILDKITE_ORGANIZATION_SLUG set) the "
        "plan\n"
        "is the local split every job computes:\n"
        "  test-engine-pytest plan --explain --splits 4 --durations-path .test_durations\n",
        out);
}
