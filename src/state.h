/* state: what the phases hand to each other through the state directory.
 *
 *   slice.json       this job's tests, where the plan came from, muted tests,
 *                    and whom it was made for (plan identifier, suite, job)
 *   options.json     the plugin options the plan phase saw, for a command
 *                    phase that cannot see them (they exist only in hooks)
 *   results/         one result file per pytest attempt
 *   run.json         the run result (written by run, read by report)
 *   lock             held by the run phase: one run per state dir at a time
 *   test-engine-pytest-durations-<job id>.json   per-test durations (report)
 *
 * The default directory is .test-engine-pytest/<job id> in the checkout (see
 * config.c derive). Files are written atomically, so a phase never reads half
 * a file, and carry a version that readers check. */
#ifndef TEP_STATE_H
#define TEP_STATE_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include "config.h"
#include "plan.h"

typedef struct {
    char *suite;
    char *source; /* plan_source_name() text */
    char *reason;
    bool from_server; /* metadata is posted only for server plans */
    char *identifier;
    long job;
    long parallelism;
    strlist_t tests;
    plan_test_ref_t *muted;
    size_t n_muted;
    strlist_t skipped;
} slice_t;

char *state_file(const config_t *cfg, const char *name);
/* Parses a JSON object file of the state dir. NULL with *err NULL when the
 * file does not exist; NULL with *err set when it is not a JSON object. */
cJSON *state_read_json(const config_t *cfg, const char *name, char **err);
/* Creates the state dir (0700) and checks that only we can write it. */
bool state_prepare(const config_t *cfg, char **err);
/* Takes the run lock for the life of the process; false when another run holds it. */
bool state_lock(const config_t *cfg, char **err);
/* When the default state dir is not in the current directory, looks for it in
 * the parents and changes to the one that has it (*moved_to, caller frees). */
bool state_locate(const config_t *cfg, char **moved_to);
/* Removes the state dir if this tool made it (pre-exit). */
bool state_cleanup(const config_t *cfg, char **err);
bool state_write_options(const config_t *cfg, char **err);
/* Applies options.json if there is one (see config_apply_saved). */
bool state_apply_options(config_t *cfg, char **err);
bool slice_write(const config_t *cfg, const plan_t *p, char **err);
/* false with *err NULL when there is no slice yet. */
bool slice_read(const config_t *cfg, slice_t *s, char **err);
/* Why a slice was not made for this job (caller frees), or NULL if it was. */
char *slice_mismatch(const config_t *cfg, const slice_t *s);
void slice_free(slice_t *s);

#endif
