/* test-engine-pytest: split a pytest suite across Buildkite parallel jobs with
 * Test Engine, run this job's slice, and report what happened. */
#include "cmd/cmd.h"
#include "config/config.h"
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static void print_usage(FILE *out)
{
    fputs(
        "usage: test-engine-pytest <plan|run|report|cleanup> | --help | --version\n"
        "\n"
        "  plan     discover test files, get this job's slice from Test Engine (or a local\n"
        "           fallback plan, or the previous attempt's failed tests on a job retry)\n"
        "  plan --explain [--plan-out FILE] [--jobs N]\n"
        "           the whole plan without running it: every job's entries, each estimate\n"
        "           and where it came from, the entries with no history, the bound; as JSON\n"
        "           in FILE (bktec's plan shape) with --plan-out (plan --help)\n"
        "  plan --json | --pipeline-upload TEMPLATE\n"
        "           dynamic parallelism: how many jobs the test step needs, from Test Engine\n"
        "           (MAX_PARALLELISM, TARGET_TIME) or estimated from local durations; print\n"
        "           it as JSON, or upload TEMPLATE with buildkite-agent pipeline upload\n"
        "  run [--job I --jobs N] [-- PYTEST-ARGS...]\n"
        "           run pytest on the slice, retry failed tests in-job, classify the outcome\n"
        "           (plans by itself when plan has not run; run --help)\n"
        "  report   upload results, publish retry selectors, annotate the build; never\n"
        "           changes the job's exit status\n"
        "  cleanup  remove this job's state directory (the pre-exit hook)\n"
        "  durations merge FILE...\n"
        "           merge durations files (pytest-split JSON or 'seconds path' lines, later\n"
        "           files win) into one pytest-split JSON on stdout, for the fallback plan\n"
        "\n"
        "Splitting offline: with none of a suite slug, an API token and an organization slug\n"
        "set (Buildkite always sets BUILDKITE_ORGANIZATION_SLUG: set it empty), no Test Engine\n"
        "is asked: every job computes the same local split (longest first over a durations\n"
        "file, else round-robin by name), in Buildkite or any CI:\n"
        "  test-engine-pytest run --splits 4 --group 1 --durations-path .test_durations\n"
        "\n"
        "Exit statuses:\n"
        "  0        all tests passed, or the only failures were muted tests\n"
        "  1        test failures remain after in-job retries (retry: only failed tests run "
        "again)\n"
        "  65       terminal: a collection error, an untagged pytest exit 2 in JSON mode, or\n"
        "           results that cannot be read (never retry)\n"
        "  78       configuration error, a test command that cannot start, or a fatal API answer\n"
        "           (401, 403, 400, untrusted certificate)\n"
        "  2-5      pytest's own status otherwise (4 after exit-4 retries and forensics)\n"
        "  128+N    pytest was killed by signal N\n"
        "  1, 65 and 78 are configurable (FAILURE_/TERMINAL_/CONFIG_EXIT_STATUS below).\n"
        "\n"
        "Options (environment variables; plugin options in BUILDKITE_PLUGIN_CONFIGURATION;\n"
        "an environment variable wins over the plugin option):\n",
        out);
    config_print_help(out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        fputs("test-engine-pytest: a subcommand is required\n", stderr);
        return 78;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        print_usage(stdout);
        return 0;
    }
    if (strcmp(sub, "--version") == 0) {
        printf("test-engine-pytest %s\n", TEP_VERSION);
        return 0;
    }
    if (strcmp(sub, "--options-json") == 0) {
        config_print_options_json(stdout);
        return 0;
    }
    bool known = strcmp(sub, "plan") == 0 || strcmp(sub, "run") == 0 ||
                 strcmp(sub, "report") == 0 || strcmp(sub, "cleanup") == 0;
    /* plan and run take flags (cli_args.h); report and cleanup none */
    if (known && argc > 2 && strcmp(sub, "plan") != 0 && strcmp(sub, "run") != 0) {
        fprintf(stderr,
                "test-engine-pytest: unexpected argument '%s' after '%s'; options are environment "
                "variables "
                "or plugin options (see test-engine-pytest --help)\n",
                argv[2], sub);
        /* report and cleanup never change the job's status */
        return strcmp(sub, "report") == 0 || strcmp(sub, "cleanup") == 0 ? 0 : 78;
    }
    if (strcmp(sub, "plan") == 0) return cmd_plan(argc - 1, argv + 1);
    if (strcmp(sub, "run") == 0) return cmd_run(argc - 1, argv + 1);
    if (strcmp(sub, "report") == 0) return cmd_report(argc - 1, argv + 1);
    if (strcmp(sub, "cleanup") == 0) return cmd_cleanup(argc - 1, argv + 1);
    if (strcmp(sub, "durations") == 0) return cmd_durations(argc - 1, argv + 1);
    print_usage(stderr);
    fprintf(stderr,
            "test-engine-pytest: unknown subcommand '%s'; use plan, run, report or cleanup\n", sub);
    return 78;
}
