/* interp_cache: the result-mode probe's answer, kept per interpreter and
 * environment, so `run` does not start a Python (40-100 ms) to ask again
 * what it asked in the last job.
 *
 * The probe (result_mode.c) asks the Python that runs pytest whether pytest and
 * buildkite-test-collector are there. Its answer depends on the interpreter
 * and on what its import path holds, so an entry is used only while all of
 * that is unchanged:
 *   - the key: the probe's own text and our version, the interpreter's words
 *     and where its first word resolves (PATH), the working directory, and
 *     every PYTHON* variable, VIRTUAL_ENV and HOME of the environment the
 *     probe gets (a different one: another entry);
 *   - the stamps, checked at every use: the interpreter file (device, inode,
 *     size, mtime), and for every folder on its sys.path plus its
 *     site-packages and user site-packages, present or not, the entries that
 *     can change the answer, each with its inode and mtime: "pytest*",
 *     "_pytest*", "buildkite_test_collector*" (what find_spec finds), and
 *     "*.dist-info", "*.egg-info", "*.egg-link", "*.egg", "*.pth" (entry
 *     points, and the folders .pth files add). pip installing, upgrading or
 *     removing a package, an editable install, a venv made again: each adds,
 *     removes or rewrites one of those. A folder that was missing and now
 *     exists, or the reverse, is a change too. Other entries do not count:
 *     the checkout itself is on sys.path (the working directory), and a job
 *     adds and removes .test-engine-pytest there every time.
 * The probe prints its folders first (INTERP_CACHE_PROBE_PY); they are
 * stamped when its answer is kept, and again at every lookup.
 *
 * Where: $XDG_CACHE_HOME/test-engine-pytest, else $HOME/.cache/test-engine-
 * pytest; a folder we made (0700) and own, not writable by others. One file
 * per key, written atomically. A container that sees another interpreter
 * than the host (plan on the host, run inside) has another key or other
 * stamps, so it asks its own Python. Anything unusual (no HOME, a folder
 * that is not ours, a path with a newline, a file that does not parse)
 * means no cache: the probe runs, as it always did. Never prints.
 *
 * The job's copy: the same entry (same format, same key, same stamps) is
 * also kept as INTERP_CACHE_JOB_FILE in the job's state folder, so a job
 * that has no usable user cache (a fresh container, HOME=/dev/null) still
 * asks Python once: `plan` (pre-command) asks when it can run the same
 * interpreter, and `run` reads its answer. It is read first, then the user
 * cache; a key that differs (the step command activated a venv, set
 * PYTHONPATH...) or a stamp that moved is a miss like any other (run asks,
 * and its answer replaces the copy). Only in a folder this tool owns: a
 * real folder (not a link), ours, writable by nobody else, holding the
 * state folder's marker (STATE_DIR_MARKER), which only a folder we made or
 * took empty has; the file itself must be a regular file of ours that
 * nobody else can write. Entries are written 0600. */
#ifndef TEP_INTERP_CACHE_H
#define TEP_INTERP_CACHE_H
#include <stdbool.h>
#include "base/strlist.h"

/* Python statements the probe runs first: one "tep-probe-path <path>" line
 * per folder of its import path, or "tep-probe-nocache" when one cannot be
 * written on a line. Needs `sys` and `os` imported. */
#define INTERP_CACHE_PROBE_PY                                                                      \
    "def _tep_paths():\n"                                                                          \
    "    import site\n"                                                                            \
    "    paths = list(sys.path)\n"                                                                 \
    "    for name in ('getsitepackages', 'getusersitepackages'):\n"                                \
    "        try:\n"                                                                               \
    "            got = getattr(site, name)()\n"                                                    \
    "            paths += [got] if isinstance(got, str) else list(got)\n"                          \
    "        except Exception:\n"                                                                  \
    "            pass\n"                                                                           \
    "    seen = set()\n"                                                                           \
    "    out = sys.stdout.buffer\n"                                                                \
    "    for p in paths:\n"                                                                        \
    "        a = os.fsencode(os.path.abspath(p or os.curdir))\n"                                   \
    "        if a in seen:\n"                                                                      \
    "            continue\n"                                                                       \
    "        seen.add(a)\n"                                                                        \
    "        if b'\\n' in a or b'\\r' in a:\n"                                                     \
    "            out.write(b'tep-probe-nocache\\n')\n"                                             \
    "        else:\n"                                                                              \
    "            out.write(b'tep-probe-path ' + a + b'\\n')\n"                                     \
    "    out.flush()\n"                                                                            \
    "try:\n"                                                                                       \
    "    _tep_paths()\n"                                                                           \
    "except Exception:\n"                                                                          \
    "    sys.stdout.write('tep-probe-nocache\\n')\n"

/* The job's copy, in the state folder (state_dir.h lists it, cleanup removes it). */
#define INTERP_CACHE_JOB_FILE "result-mode-probe.txt"

typedef struct {
    char *file;     /* the user cache's entry; NULL: no user cache for this probe */
    char *job_file; /* the job's copy; NULL: no job folder we own */
    char *head;     /* key and interpreter stamp, the entry's first lines; NULL:
                     * no entry can be kept (the interpreter does not resolve) */
} interp_cache_t;

/* Looks the probe up, in the job's copy first (job_dir: the state folder, or
 * NULL), then in the user cache. true with *answer (the probe's output as it
 * was, to be read as if the probe had just printed it; caller frees) when a
 * valid entry exists. Either way c is ready for interp_cache_store (after a
 * miss) and must be freed. python: the interpreter's words; probe: the
 * probe's whole text and arguments joined (a new probe is a new key); env:
 * the environment the probe gets. */
bool interp_cache_lookup(interp_cache_t *c, const char *job_dir, const strlist_t *python,
                         const char *probe, const strlist_t *env, char **answer);
/* Whether a miss could be kept anywhere (c has a key and a file or a job file). */
bool interp_cache_can_store(const interp_cache_t *c);
/* Keeps the probe's output (stamp lines and answer) for the next lookup, in
 * the user cache and the job's copy; does nothing when the output has no
 * usable stamps or c has neither. */
void interp_cache_store(const interp_cache_t *c, const char *output);
void interp_cache_free(interp_cache_t *c);

#endif
