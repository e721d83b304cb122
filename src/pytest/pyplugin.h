/* pyplugin: a pytest plugin of ours, written where only this process's
 * children look for it.
 *
 * Two things we need from pytest are only told to plugins: what it collected
 * (collect_only.c) and each test's reports as they happen (recorder.c).
 * The binary carries those plugins; each run writes one into a fresh private
 * directory (mkdtemp: mode 0700, a name nobody can predict) and puts that
 * directory first on the child's PYTHONPATH. Nothing is written into the
 * user's checkout, so no bytecode cache or stray module is left there, and
 * the directory is removed when the run is done. The directory is below
 * TMPDIR (else /tmp), as seen by whoever runs pytest: inside a container
 * that is the container's own. */
#ifndef TEP_PYPLUGIN_H
#define TEP_PYPLUGIN_H
#include <stdbool.h>
#include "base/strlist.h"

/* Makes the directory (prefix names it, e.g. "tep-collect") holding
 * <module>.py with `source`. false with *err (one line) when it cannot. */
bool pyplugin_dir_make(const char *prefix, const char *module, const char *source, char **dir,
                       char **err);
/* Removes the directory and what pytest left in it (its bytecode cache). */
void pyplugin_dir_remove(const char *dir);
/* Puts dir first on env's PYTHONPATH (keeping the user's entries after it). */
void pyplugin_env_add(strlist_t *env, const char *dir);

#endif
