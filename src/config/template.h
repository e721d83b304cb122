/* template: turns a command template into argv, without a shell.
 *
 * The template is split with sh-like rules ('...', "...", backslash escapes),
 * then a word that is exactly {{testExamples}} becomes one argv element per
 * selector, and {{resultPath}} is replaced inside its word. Selectors are never
 * re-parsed, so spaces, brackets, quotes, unicode and "::" stay intact. Without
 * {{testExamples}} the selectors are appended. Shell operators (&&, |, ;, >)
 * are refused with a clear message: there is no shell to run them. */
#ifndef TEP_TEMPLATE_H
#define TEP_TEMPLATE_H
#include <stdbool.h>
#include "base/strlist.h"

/* Errors follow err.h: false with *err set to one line (an unterminated
 * quote, a lone backslash, an unquoted shell operator, an empty command, a
 * {{testExamples}} glued to other text); *err is untouched on success. On
 * false the output list may hold the words read before the problem: the
 * caller frees it either way. */

/* Appends the template's words to `words`. */
bool template_split(const char *text, strlist_t *words, char **err);
/* Appends the argv for running `examples`, {{resultPath}} -> result_path. */
bool template_expand(const char *tmpl, const strlist_t *examples, const char *result_path,
                     strlist_t *argv, char **err);
/* The placeholders in words template_split made: {{testExamples}} must be a
 * word of its own, and no other "{{" or "}}" may be left ({{testExample}},
 * {{testExamples}}}}): pytest would get it as a path. false with *err. */
bool template_check_placeholders(const strlist_t *words, char **err);
/* argv words before {{testExamples}} (the launcher: "python3 -m pytest -p x"). */
bool template_launcher(const char *tmpl, strlist_t *argv, char **err);
/* Does one of the words template_split made name an option (the exact word,
 * or a word starting with opt=)? Split once, ask often. */
bool template_words_have_option(const strlist_t *words, const char *opt);

#endif
