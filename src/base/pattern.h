/* pattern: glob patterns for test discovery.
 *
 * Syntax (bktec/zzglob compatible): '*' and '?' within one path segment,
 * '**' across segments ("**" + "/" also matches zero directories), '[abc]',
 * '[!a-z]' / '[^a-z]', '{a,b}' alternation (nestable) and '\' escapes.
 *
 * Braces are expanded at compile time into plain alternatives, bounded: at
 * most PATTERN_MAX_ALTS alternatives, PATTERN_MAX_GROUPS '{' groups, nesting
 * PATTERN_MAX_NESTING deep, PATTERN_MAX_LEN bytes; past a bound compiling
 * fails with a message naming it. Each alternative is compiled to a short
 * token list and matched by simulating all positions in the pattern at once
 * (a Thompson-style NFA), so matching costs O(pattern length x path length)
 * whatever the stars: no backtracking, nothing exponential. */
#ifndef TEP_PATTERN_H
#define TEP_PATTERN_H
#include <stdbool.h>
#include <stddef.h>
#include "base/strlist.h"

#define PATTERN_MAX_LEN     4096
#define PATTERN_MAX_ALTS    256
#define PATTERN_MAX_GROUPS  64
#define PATTERN_MAX_NESTING 32

struct glob_tok;

/* Per alternative, what a whole-path match can decide without the NFA
 * (discovery matches every file of the checkout: 100,000 in a big one).
 * An alternative that is "**" + "/" followed by one segment's worth of
 * tokens can match only the path's last segment; the literal bytes it starts
 * and ends with must be there; and when what lies between them is one '*'
 * (the default pattern's test_*.py) or nothing, those checks are the whole
 * answer. Anything else still runs the NFA, on the last segment alone. */
typedef enum {
    PATTERN_MIDDLE_NONE, /* literals only */
    PATTERN_MIDDLE_STAR, /* literals, one '*', literals */
    PATTERN_MIDDLE_NFA,  /* anything else */
} pattern_middle_t;

typedef struct {
    bool last_segment; /* starts with "**" "/", and nothing after can match '/' */
    size_t prefix;     /* leading T_LIT tokens (after the "**" "/") */
    size_t suffix;     /* trailing T_LIT tokens, not overlapping the prefix */
    pattern_middle_t middle;
} pattern_shortcut_t;

typedef struct {
    strlist_t alts;          /* brace-free alternatives */
    struct glob_tok **progs; /* alts.len compiled token lists */
    size_t *prog_len;
    pattern_shortcut_t *cut; /* alts.len */
} pattern_t;

/* Errors follow err.h: a malformed pattern or one past a bound returns false
 * with *err set (caller frees) and p left empty (pattern_free on it is
 * harmless); on success *err is untouched and p is freed with pattern_free. */
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
