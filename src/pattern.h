/* pattern: glob patterns for test discovery.
 *
 * Syntax (bktec/zzglob compatible): '*' and '?' within one path segment,
 * '**' across segments ("**" + "/" also matches zero directories), '[abc]',
 * '[!a-z]' / '[^a-z]', '{a,b}' alternation (nestable) and '\' escapes.
 * Braces are expanded at compile time into plain alternatives, so matching
 * is a small backtracking matcher over bytes. */
#ifndef TEP_PATTERN_H
#define TEP_PATTERN_H
#include <stdbool.h>
#include "strlist.h"

typedef struct {
    strlist_t alts; /* brace-free alternatives */
} pattern_t;

/* Returns false and sets *err (caller frees) for malformed patterns. */
bool pattern_compile(pattern_t *p, const char *text, char **err);
void pattern_free(pattern_t *p);
bool pattern_match(const pattern_t *p, const char *path);
/* Could anything below directory `dir` match? Used to prune the walk. */
bool pattern_may_match_below(const pattern_t *p, const char *dir);
/* Does the pattern name this directory explicitly (a segment starting with
 * '.' or mentioning node_modules that matches it)? Hidden directories and
 * node_modules are skipped unless it does. */
bool pattern_names_dir(const pattern_t *p, const char *name);

#endif
