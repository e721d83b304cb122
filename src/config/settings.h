/* settings: config_t, every setting the three phases read, as config.h loads
 * them.
 *
 * Its own header, below both config.c (which loads it by walking the option
 * table) and config_options.c (the table, whose rows say where each setting
 * lands in config_t): the table and its loader then depend on this struct,
 * not on each other. Everyone else includes config.h. */
#ifndef TEP_SETTINGS_H
#define TEP_SETTINGS_H
#include <stdbool.h>
#include "base/strlist.h"

/* Where the phases keep what they hand each other, relative to the checkout. */
#define STATE_DIR_NAME ".test-engine-pytest"
/* The file in a state folder that says this tool owns it (state_dir.h): it
 * made the folder, or took it empty by creating this file exclusively. */
#define STATE_DIR_MARKER ".test-engine-pytest-state"

typedef struct {
    /* Test Engine */
    char *suite_slug;
    char *api_token;
    char *upload_token;
    char *base_url;
    char *upload_base_url;
    char *ca_bundle;
    long api_retry_budget; /* seconds */
    long api_timeout;      /* seconds per attempt */
    long api_backoff_ms;   /* first backoff step */
    bool upload_results;
    bool oidc;           /* mint blank tokens with buildkite-agent oidc request-token */
    char *oidc_lifetime; /* "7200", "2h", "30m", "300s" */
    long upload_batch_size;
    long upload_retry_budget;
    char *tags; /* "k=v,k2=v2" */
    /* planning */
    char *test_file_pattern;
    char *test_file_exclude_pattern;
    char *files; /* path of a newline list that replaces discovery */
    char *plan_identifier;
    char *location_prefix;
    char *durations_file;
    bool split_by_example;
    bool fail_on_no_tests;
    char *tag_filters;    /* "key:value": only tests with that execution tag */
    long max_parallelism; /* plan --json / --pipeline-upload only */
    char *target_time;    /* likewise: "4m30s", "90s", "240" */
    /* running */
    char *test_cmd;
    char *retry_cmd;
    char *result_path;
    long retry_count;
    bool disable_retry_for_muted;
    bool promise_failure; /* buildkite-agent job promise-failure when failures remain */
    long run_timeout;     /* seconds, 0 = none */
    long exit4_retries;
    long exit4_backoff_ms;
    long failure_exit_status;
    long terminal_exit_status;
    long config_exit_status;
    char *python; /* interpreter to probe for the collector */
    long selectors_metadata_limit;
    char *state_dir;
    bool debug;
    /* Buildkite */
    char *org_slug;
    char *build_id;
    char *step_id;
    char *job_id;
    char *branch;
    char *commit;
    char *build_number;
    char *build_url;
    char *message;
    char *label;
    long parallel_job;
    long parallel_job_count;
    long job_retry_count; /* BUILDKITE_RETRY_COUNT: the job's own retry count */
    char *agent_cmd;      /* buildkite-agent */

    /* derived */
    char *identifier; /* plan identifier or build_id/step_id ("local" offline) */
    bool offline;     /* no suite and no token: plan locally, say so */
    bool dynamic;     /* plan --json / --pipeline-upload: ask for max_parallelism/target_time */
    bool state_dir_chosen;   /* the user set the state dir (else derived from the job) */
    char *state_dir_problem; /* why no state dir may be used (a job id that is no plain
                                name), NULL when it may; state_dir.h refuses then */
    bool plugin_json_seen;   /* BUILDKITE_PLUGIN_CONFIGURATION was in the environment */
    strlist_t warnings;      /* misspelt variables and the like: printed, never fatal */
    strlist_t problems;      /* one line per invalid setting */
    strlist_t explicit_keys; /* env names the user set, for the env payload */
} config_t;

#endif
