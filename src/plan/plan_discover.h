/* plan_discover: the list of test files this run works on.
 *
 * Either the lines of BUILDKITE_TEST_ENGINE_FILES, or a walk of the current
 * directory matching the include pattern and not the exclude pattern.
 * node_modules and hidden directories (.git, .venv, .tox, ...) are skipped
 * unless the include pattern names them; directory symlinks are not followed
 * (a loop would otherwise multiply the walk). The result is byte-order sorted
 * and relative, without a leading "./". */
#ifndef TEP_PLAN_DISCOVER_H
#define TEP_PLAN_DISCOVER_H
#include <stdbool.h>
#include "base/strlist.h"

/* Appends the files below root matching include and not exclude (NULL or
 * "" for none). false with *err when a pattern does not compile or nothing
 * matches: a run with no tests is a configuration error, not an empty plan. */
bool plan_discover_walk(const char *root, const char *include, const char *exclude, strlist_t *out,
                        char **err);
/* Appends the lines of the file at path (trimmed, empty ones dropped). false with *err when it
 * cannot be read, is not text, or names no file. */
bool plan_discover_read_list(const char *path, strlist_t *out, char **err);

#endif
