/* config: every setting the three phases read, from one table.
 *
 * Sources, strongest first: the environment variable (bktec's
 * BUILDKITE_TEST_ENGINE_* name), then the plugin's BUILDKITE_PLUGIN_CONFIGURATION
 * JSON (option "suite-slug" is BUILDKITE_TEST_ENGINE_SUITE_SLUG, and so on),
 * then the default. The same table prints --help, so the documentation cannot
 * drift from what is parsed. Problems are collected, never fatal one at a time:
 * the user sees every bad setting in one go.
 *
 * Errors (err.h): loading and validating never fail as calls; what is wrong
 * with the settings is collected in cfg->problems (and misspellings in
 * cfg->warnings), one line each, and config never prints on its own. The
 * phase decides when to show them, with config_print_problems and
 * config_print_warnings on the stream it chooses.
 *
 * Files: settings.h holds config_t, config.c loads, config_options.c holds
 * the table (and --help), config_check.c validates and reports. */
#ifndef TEP_CONFIG_H
#define TEP_CONFIG_H
#include <stdbool.h>
#include <stdio.h>
#include <cjson/cJSON.h>
#include "config/settings.h"
#include "base/strlist.h"

typedef enum {
    PHASE_PLAN,
    PHASE_RUN,
    PHASE_REPORT
} phase_t;

/* Loads from the environment and plugin JSON; never exits. */
void config_load(config_t *cfg);
/* Adds phase-specific problems (missing slug, token, ...). Returns true when
 * there are none. */
bool config_validate(config_t *cfg, phase_t phase);
/* Prints "invalid configuration (N problems):" and one line per problem to out. */
void config_print_problems(const config_t *cfg, FILE *out);
/* Prints one line per warning (misspelt variables) to out. */
void config_print_warnings(const config_t *cfg, FILE *out);
void config_free(config_t *cfg);
/* Adds one line to cfg->problems (the list config_validate reports). */
void config_add_problem(config_t *cfg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* --help section: every option, env var, plugin key and default. */
void config_print_help(FILE *out);
/* Whether an env var was set by the user (not defaulted). */
bool config_is_set(const config_t *cfg, const char *env_name);
/* Boolean parsing shared with other modules: true/false/1/0/on/off, any case. */
bool config_parse_bool(const char *s, bool *out);
/* Seconds in an OIDC lifetime ("7200", "2h", "90m", "300s", "1h30m"); -1 if
 * invalid, and for a total over CONFIG_DURATION_MAX_S (no overflow, no wrap). */
#define CONFIG_DURATION_MAX_S (366L * 86400)
long config_duration_seconds(const char *s);
/* Whether a job id can name a folder: 1 to 128 letters, digits, '.', '_' or
 * '-', starting with a letter or digit (so never "..", a '/' or a byte a
 * shell or a terminal would read). Buildkite's are UUIDs. */
bool config_job_id_ok(const char *id);
/* The plugin options set for this job, env name -> text, for the plan phase
 * to save beside the slice. */
cJSON *config_saved_options(const config_t *cfg);
/* Fills options this process has not set from a saved set (see above) and
 * derives the state dir and identifier again. */
void config_apply_saved(config_t *cfg, const cJSON *options, const char *source);
/* Exports the option table as JSON for tests (plugin.yml consistency). */
void config_print_options_json(FILE *out);

/* The test command template: the user's, or the default
 * CONFIG_DEFAULT_TEST_CMD. */
#define CONFIG_DEFAULT_TEST_CMD "pytest {{testExamples}}"
const char *config_test_command(const config_t *cfg);

#endif
