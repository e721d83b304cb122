/* agent: the few buildkite-agent commands the plugin uses (meta-data,
 * artifact, annotate, oidc). Each call runs the agent without a shell, within
 * TIMEOUT_AGENT_S, and captures its output: a value comes from the agent's
 * stdout only, its stderr (log lines, --debug noise, retry warnings) is kept
 * apart and only its last line is used, to say why a call failed.
 *
 * Errors follow err.h: false with *err, one line naming the command
 * ("buildkite-agent meta-data get exited 1: <the agent's last stderr line>",
 * "buildkite-agent artifact upload timed out", or why the agent could not
 * start). Nothing here prints or exits the process. */
#ifndef TEP_AGENT_H
#define TEP_AGENT_H
#include <stdbool.h>
#include "base/buf.h"
#include "config/config.h"
#include "base/process.h"

/* args excludes the agent itself and ends with NULL. stdin_path, cwd and out
 * may be NULL (no out: the agent's stdout is dropped). */
bool agent_call(const config_t *cfg, const char *const *args, const char *stdin_path,
                const char *cwd, buf_t *out, char **err);
/* Like agent_call, with `text` as the agent's stdin (argv has size limits). */
bool agent_call_with_text(const config_t *cfg, const char *const *args, const char *text,
                          size_t len, char **err);
/* The build's meta-data value under key: true with *value NULL when the build
 * has no such key (`meta-data exists` exits 100), true with the value when it
 * has; false with *err when the agent fails. */
bool agent_metadata_get(const config_t *cfg, const char *key, char **value, char **err);
bool agent_metadata_set(const config_t *cfg, const char *key, const char *value, char **err);

/* The message for a failed call of args (exposed for unit tests: a real
 * timeout takes TIMEOUT_AGENT_S). errors: the agent's stderr. Caller frees. */
char *agent_failure(const char *const *args, const process_result_t *r, const buf_t *errors);

#endif
