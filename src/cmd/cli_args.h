/* cli_args: the command-line flags of `run` and `plan`, for people using the
 * binary on its own (someone replacing pytest-split, or asking why a split
 * is uneven) rather than through the plugin's hooks.
 *
 * Every setting is an environment variable or a plugin option (config.h);
 * the flags are spellings of the few a person types at a prompt:
 *
 *   run  --job I --jobs N       this job is I of N (1-based: BUILDKITE_PARALLEL_JOB + 1,
 *                               BUILDKITE_PARALLEL_JOB_COUNT)
 *        --group I --splits N   pytest-split's names for the same (its group is 1-based)
 *        --durations-path FILE  pytest-split's name for BUILDKITE_TEST_ENGINE_DURATIONS_FILE
 *        -- ARGS...             appended to the test command (and the retry command)
 *        --help
 *   plan --explain, --plan-out FILE, --jobs/--splits N, --durations-path FILE,
 *        or bktec's --json / --pipeline-upload TEMPLATE (dynamic parallelism)
 *
 * `--flag VALUE` and `--flag=VALUE` both work. The job, count and durations
 * flags become the environment variables they spell (cli_args_export) before
 * the configuration loads, so they win over the plugin options as a variable
 * does, and every derived setting (the local state directory is named after
 * the job and count) follows them. The extra pytest arguments are added to
 * the loaded commands (cli_args_extend_commands), each shell-quoted, since a
 * command template is split with sh-like rules. Never prints: problems come
 * back as one line in *err. */
#ifndef TEP_CLI_ARGS_H
#define TEP_CLI_ARGS_H
#include <stdbool.h>
#include <stdio.h>
#include "config/config.h"
#include "base/strlist.h"

typedef enum {
    CLI_ARGS_RUN,
    CLI_ARGS_PLAN
} cli_args_cmd_t;

typedef struct {
    bool help;
    long job;                   /* 1-based; 0 when not given */
    long jobs;                  /* 0 when not given */
    const char *durations_path; /* borrowed from argv, or NULL */
    strlist_t extra;            /* run: the words after "--" */
    /* plan only */
    bool explain;
    const char *plan_out;
    bool json;
    const char *pipeline_upload;
} cli_args_t;

/* Parses argv (argv[0] is the subcommand). false with *err naming the
 * argument and what to do. */
bool cli_args_parse(cli_args_cmd_t cmd, int argc, char **argv, cli_args_t *out, char **err);
void cli_args_free(cli_args_t *a);
/* Checks the job against the count (given, or BUILDKITE_PARALLEL_JOB_COUNT /
 * BUILDKITE_PARALLEL_JOB from the environment) and sets the variables the
 * flags spell. false with *err when they do not fit together. */
bool cli_args_export(const cli_args_t *a, char **err);
/* Appends the extra words to cfg's test command (the default one when none is
 * set) and to its retry command when one is set. false with *err when a word
 * would be read as a placeholder ({{...}}). */
bool cli_args_extend_commands(const cli_args_t *a, config_t *cfg, char **err);
/* `run --help` and `plan --help`. */
void cli_args_print_run_help(FILE *out);
void cli_args_print_plan_help(FILE *out);

#endif
