/* selector: the guard between untrusted text and pytest's argv.
 *
 * Paths and node ids that come from the Test Engine server or from a previous
 * attempt's meta-data are data. Before one reaches pytest it must follow a
 * strict node-id grammar:
 *
 *   selector := file ( "::" part )* [ "[" params "]" ]      params: any text
 *   file     := relative path, no ".." component, not starting with '-', '@',
 *               '/' or '~', resolving (symlinks included, even when the file
 *               does not exist yet) inside the current directory
 *   part     := one or more bytes, no "::" and no '['
 *
 * and hold no control character (NUL, newline, tab, DEL, ...) anywhere. A
 * leading '-' would be read as an option; a leading '@' as a file of more
 * arguments (pytest >= 8.2). */
#ifndef TEP_SELECTOR_H
#define TEP_SELECTOR_H
#include <stddef.h>

/* NULL when the selector is safe, else a short reason (a static string, never
 * freed) that the caller puts after the selector in its own message. This is
 * a judgement on untrusted data, not a failure of the call, so it does not
 * take the bool + char **err shape of err.h: callers test it in loops over
 * every planned test, and a static reason costs no allocation. len is the
 * byte length as received (so an embedded NUL is caught). One selector: a
 * loop over many uses a selector_guard_t, which gives the same answers. */
const char *selector_problem(const char *s, size_t len);

/* Many selectors checked against the file system at the cost of one lstat
 * per distinct file and per distinct directory, with no realpath unless a
 * symlink is met: the verdict of every directory is kept (inside the
 * checkout and present, inside but missing, or the reason it is refused),
 * so a plan of 6,250 entries in 60 folders costs about 6,300 lstat calls,
 * where one realpath per entry cost 300,000 system calls. The guard takes
 * the current directory once, at init: do not chdir while it is in use.
 * A zeroed guard is not valid; call selector_guard_init. */
typedef struct {
    char *cwd;          /* getcwd at init; NULL when unknown (every file check then fails) */
    char **keys;        /* owned directory paths; NULL = empty slot */
    unsigned char *why; /* verdict per slot (selector.c's dir_verdict_t) */
    size_t cap;         /* a power of two, or 0 */
    size_t len;
} selector_guard_t;

void selector_guard_init(selector_guard_t *g);
void selector_guard_free(selector_guard_t *g);
/* selector_problem's answer for s, using and filling g's cache. */
const char *selector_guard_problem(selector_guard_t *g, const char *s, size_t len);

/* The file part of a node id: everything before the first "::" (caller frees). */
char *selector_file_part(const char *s);
/* path without the location prefix (and the slashes after it), when it starts
 * with the prefix at a path-component boundary: prefix "tests" strips
 * "tests/a.py" to "a.py" but leaves "tests_integration/a.py" alone. Returns a
 * pointer into path. */
const char *selector_strip_prefix(const char *prefix, const char *path);

#endif
