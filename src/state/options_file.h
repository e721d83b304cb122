/* options_file: options.json, the plugin options the plan phase saw.
 *
 * Plugin options reach a process only through the plugin's hooks
 * (BUILDKITE_PLUGIN_CONFIGURATION and BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_*).
 * The command phase (`test-engine-pytest run` in the step's command, maybe in
 * a container) may not see them, so the plan phase saves the ones set for
 * this job beside the slice, and the command phase fills from them whatever
 * its own environment left unset (config_apply_saved).
 *
 * Format (version OPTIONS_FILE_VERSION): one JSON object in the state dir,
 * written atomically: "version", "options" (env name -> text). Secrets and
 * Buildkite's own variables are never in it. A reader refuses another
 * version: the plan phase must run again. */
#ifndef TEP_OPTIONS_FILE_H
#define TEP_OPTIONS_FILE_H
#include <stdbool.h>
#include "config/config.h"

#define OPTIONS_FILE_VERSION 2

/* Saves the plugin options set for this job (config_saved_options). */
bool options_file_write(const config_t *cfg, char **err);
/* Applies options.json to cfg (and so may change cfg->state_dir). No file:
 * true, cfg unchanged. A damaged file or another version: false with *err
 * (one line naming the file and what to do). */
bool options_file_apply(config_t *cfg, char **err);

#endif
