/* agent: the few buildkite-agent commands the plugin uses (meta-data,
 * artifact, annotate). Each call runs the agent without a shell, captures its
 * output, and reports failure as text; nothing here ever exits the process. */
#ifndef TEP_AGENT_H
#define TEP_AGENT_H
#include <stdbool.h>
#include "buf.h"
#include "config.h"

/* args excludes the agent itself. stdin_path may be NULL. */
bool agent_call(const config_t *cfg, const char *const *args, const char *stdin_path,
                const char *cwd, buf_t *out, char **err);
/* Like agent_call, with `text` as the agent's stdin (argv has size limits). */
bool agent_call_with_text(const config_t *cfg, const char *const *args, const char *text,
                          size_t len, char **err);
bool agent_metadata_get(const config_t *cfg, const char *key, char **value);
bool agent_metadata_set(const config_t *cfg, const char *key, const char *value, char **err);

#endif
