/* state_dir: the state directory, where the phases hand data to each other.
 *
 *   slice.json       this job's tests and whom they were made for (slice_file.h)
 *   options.json     the plugin options the plan phase saw (options_file.h)
 *   run.json         the run result, written by run, read by report (run_record.h)
 *   result-mode-probe.txt  the result-mode probe's answer, kept by plan for run
 *                    (interp_cache.h: the job's copy)
 *   results/         one result file per pytest attempt
 *   lock             held by the run phase: one run per state dir at a time
 *   .test-engine-pytest-state   the marker: this tool owns the folder
 *   test-engine-pytest-durations-<job id>.json   per-test durations (report)
 *   retry-selectors-*.txt  retry selectors published or downloaded (retrysel.c)
 *
 * Ownership: the tool owns a state folder only when it made it, or found it
 * empty and took it by creating the marker exclusively. A folder that holds
 * anything else and no marker is the user's and refused; so are /, $HOME,
 * the checkout and every folder above it, whatever they hold (`state-dir: .`
 * must never put the checkout in the tool's hands). Cleanup removes the
 * tool's own files by name (never a tree: a user's notes.txt or sub/ stays,
 * and so then does the folder, with a one-line note), and nothing at all
 * when the job id is no plain name (config.h's state_dir_problem).
 *
 * The default directory is .test-engine-pytest/<job id> in the checkout (see
 * config.c derive); BUILDKITE_TEST_ENGINE_STATE_DIR chooses another. This
 * module finds, makes, checks, locks and removes it, and holds the one reader
 * and writer of its JSON files that the format modules (slice_file,
 * options_file, run_record) share: each format has a <FORMAT>_VERSION it
 * writes and refuses to read another of, and every write is atomic.
 *
 * Errors follow src/err.h: false with *err, one line naming the directory or
 * file and what to do; nothing here prints. */
#ifndef TEP_STATE_DIR_H
#define TEP_STATE_DIR_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include "config/config.h"

/* The path of a file in the state dir (caller frees). */
char *state_dir_file(const config_t *cfg, const char *name);
/* Creates the state dir (0700; no link followed in the checkout, nothing
 * created inside before it is checked), checks that only we can write it (a
 * real directory, not group- or world-writable, ours or the checkout
 * owner's) and that it is ours to use (see above), hides the default top
 * folder from git, marks it and makes results/ inside. A full disk is said
 * as "disk full: ...". */
bool state_dir_prepare(const config_t *cfg, char **err);
/* Takes the run lock for the life of the process; false when another run
 * (another process, or another lock taken in this one) holds it. */
bool state_dir_lock(const config_t *cfg, char **err);
/* When the default state dir is not in the current directory, looks for a
 * slice.json in it in the parent directories and changes to the nearest one
 * that has it. Returns that directory (caller frees), or NULL when it stayed
 * (a chosen or present state dir, or none found). */
char *state_dir_locate(const config_t *cfg);
/* Removes this tool's files from the state dir when it owns it (its marker
 * is there), then the folder when that empties it, and the default top
 * folder when no other job's state is left in it (pre-exit). *note (caller
 * frees, NULL when all went) says in one line what was kept and why. */
bool state_dir_cleanup(const config_t *cfg, char **note, char **err);
/* The names cleanup removes: in the state dir, and in its results/. */
bool state_dir_is_own_name(const char *name);
bool state_dir_is_result_name(const char *name);
/* A result file as run.json names it: "results/" and a result name of the
 * run's own (attempt-N[.part-M].json or .xml). A copy (caller frees), or NULL
 * for anything else (absent, "../x", "/etc/x", a lock): report reads and
 * uploads that file, so a name that could lead elsewhere is never used. */
char *state_dir_result_file(const char *rel);
/* "cannot write <path> (<reason>)", or "disk full: ..." for ENOSPC/EDQUOT;
 * returns false, errno left as e. */
bool state_dir_write_error(const char *path, int e, char **err);

/* ---- a full disk ----
 * A full disk is not a configuration error: it is said as "disk full: ..."
 * and exits with STATE_DIR_EXIT_DISK_FULL (sysexits' EX_IOERR, beside 65
 * EX_DATAERR and 78 EX_CONFIG), which a retry rule may retry (another agent
 * may have room). run.json must still be written for what finished, so
 * prepare reserves room for it (STATE_DIR_RESERVE_BYTES, given back when
 * run.json cannot be written otherwise). */
#define STATE_DIR_EXIT_DISK_FULL 74
#define STATE_DIR_RESERVE_BYTES  (4L << 20)
/* The status for a state write that failed with errno e: the disk-full one
 * for ENOSPC/EDQUOT, else the configuration status. */
int state_dir_exit_status(const config_t *cfg, int e);
/* Whether the state dir's file system has (next to) no room left for us. */
bool state_dir_is_full(const config_t *cfg);
/* Makes the reservation (best effort: a disk already full has no room). */
void state_dir_reserve(const config_t *cfg);
/* Gives the reservation back; false when there was none. */
bool state_dir_release_reserve(const config_t *cfg);

/* Whether a state file's "version" member is exactly `version`. */
bool state_dir_version_is(const cJSON *o, int version);
/* Reads the state file `name`, which the plan phase writes: a JSON object
 * whose "version" is `version`. No such file: true with *out NULL. Not a JSON
 * object, or another version: false with *err. On true, *out is the caller's
 * (cJSON_Delete). */
bool state_dir_read_json(const config_t *cfg, const char *name, int version, cJSON **out,
                         char **err);
/* Writes root as the state file `name`, atomically; false with *err
 * ("cannot write <path> (<reason>)"). root stays the caller's. */
bool state_dir_write_json(const config_t *cfg, const char *name, const cJSON *root, char **err);

#endif
