/* cmdcheck: the test and retry commands are checked before anything runs.
 *
 * They run without a shell, so shell syntax in them would reach pytest as
 * arguments ('2>/dev/null' becomes a path pytest cannot find) or quietly do
 * nothing. template_split refuses an operator that stands alone, but it
 * returns words without their quoting, so it cannot tell the attached
 * '2>/dev/null', '>out', 'a|b', 'x&&y' or 'x;' from a quoted -k "a|b". This
 * walks the raw text with the same quoting rules and reports every word that
 * holds an unquoted operator, one problem per word naming the option, so the
 * plan phase lists them with the rest of the configuration problems. */
#ifndef TEP_CMDCHECK_H
#define TEP_CMDCHECK_H
#include "config/config.h"
#include "base/strlist.h"

/* Adds one line per problem in the command held by option `name`. */
void cmdcheck_command(const char *name, const char *tmpl, strlist_t *problems);
/* The same, and the command's words (template_split's) go to `words`, which
 * is left as it was when there is a problem: the run phase checks the command
 * and reads it from one split. */
void cmdcheck_command_words(const char *name, const char *tmpl, strlist_t *words,
                            strlist_t *problems);
/* Both BUILDKITE_TEST_ENGINE_TEST_CMD (or its default) and _RETRY_CMD. */
void cmdcheck_commands(const config_t *cfg, strlist_t *problems);
/* The same, and the test command's words go to test_words (as above). */
void cmdcheck_commands_words(const config_t *cfg, strlist_t *test_words, strlist_t *problems);

#endif
