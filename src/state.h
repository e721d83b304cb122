/* state: what the phases hand to each other through the state directory.
 *
 *   slice.json       this job's tests, where the plan came from, muted tests
 *   results/         one result file per pytest attempt
 *   run.json         the run result (written by run, read by report)
 *
 * Files are written atomically, so a phase never reads half a file. */
#ifndef TEP_STATE_H
#define TEP_STATE_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include "config.h"
#include "plan.h"

typedef struct {
    char *source;          /* plan_source_name() text */
    char *reason;
    bool from_server;      /* metadata is posted only for server plans */
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
bool state_prepare(const config_t *cfg, char **err);
bool slice_write(const config_t *cfg, const plan_t *p, char **err);
/* false with *err NULL when there is no slice yet. */
bool slice_read(const config_t *cfg, slice_t *s, char **err);
void slice_free(slice_t *s);

#endif
