/* run_exit4: pytest's exit 4 ("file or directory not found") for files that exist.
 *
 * The usual cause is not a flaky stat: something mutates the checkout while
 * tests run (a test running a real `git checkout`/`update`, a concurrent job
 * sharing the directory). So we retry a few times with backoff (0.5 s, 1.0 s,
 * 1.5 s by default) in case it was transient, and if exit 4 survives we print
 * forensics that point at the cause: is the path there now, what does its
 * directory hold, and what does `git status --porcelain` say. Forensics never
 * change the exit status. */
#ifndef TEP_RUN_EXIT4_H
#define TEP_RUN_EXIT4_H
#include <stdbool.h>
#include "buf.h"
#include "strlist.h"

/* pytest's stderr line "ERROR: file or directory not found: <path>", or NULL. */
char *run_exit4_missing_path(const char *stderr_line);
/* Do all the file parts of these selectors exist (checked up to 3 times)? */
bool run_exit4_files_present(const strlist_t *selectors);
/* Appends the forensics block for `path` (a file, or a node id whose file
 * part is checked) to out. */
void run_exit4_forensics(const char *path, int retries_used, buf_t *out);

#endif
