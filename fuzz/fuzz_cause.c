/* The failure-text and collection-error readers: results_cause_of (and
 * results_model_cause, what the run keeps) and results_colldetail_bound on any text,
 * and the collection errors' whole texts read back from a result file of
 * either format (results_colldetail_offer_record as the collector's records are
 * read, results_colldetail_fill on a JUnit file), as the run phase does.
 * Input: a mode byte (0: text, 1: JUnit file, 2: collector JSON file), the
 * test file (or the node-id prefix) up to the first newline, then the text
 * or the file. Invariants: a cause is NULL only for an empty text, one line,
 * no longer than its text allows (a SyntaxError adds its location, once),
 * and at most RESULTS_MODEL_CAUSE_KEEP bytes and a cut note as kept; the bounded
 * text fits RESULTS_COLLDETAIL_MAX and keeps the text's start and end; reading
 * the whole texts changes only causes, each still one bounded line. */
#include "results/results_cause.h"
#include "fuzz_util.h"
#include "results/results_json.h"
#include "results/results.h"
#include "run/run_classify.h"
#include "results/results_colldetail.h"
#include "results/results_model.h"
#include <string.h>

/* A kept cause: one line, RESULTS_MODEL_CAUSE_KEEP bytes and text_cut's note. */
static void check_kept(const char *cause)
{
    FUZZ_CHECK(fuzz_one_line(cause));
    FUZZ_CHECK(strlen(cause) <= RESULTS_MODEL_CAUSE_KEEP + 64);
}

static void check_text(const char *text, const char *file)
{
    size_t len = strlen(text);
    char *cause = results_cause_of(text, file);
    FUZZ_CHECK((cause == NULL) == (len == 0));
    if (cause) {
        FUZZ_CHECK(fuzz_one_line(cause));
        /* the text's line, and "(<file>, line N)" from it for a SyntaxError */
        FUZZ_CHECK(strlen(cause) <= 2 * len + 32);
    }
    free(cause);
    char *kept = results_model_cause(text, file);
    if (kept) check_kept(kept);
    free(kept);
    char *bounded = results_colldetail_bound(text);
    size_t n = strlen(bounded);
    FUZZ_CHECK(n <= RESULTS_COLLDETAIL_MAX);
    if (len <= RESULTS_COLLDETAIL_MAX) {
        FUZZ_CHECK(strcmp(bounded, text) == 0);
    } else {
        FUZZ_CHECK(bounded[0] == text[0]);
        FUZZ_CHECK(bounded[n - 1] == text[len - 1]); /* its end, where the cause is */
    }
    free(bounded);
}

typedef struct {
    results_model_t r;
    bool json;
} reading_t;

static void on_record(const test_record_t *rec, void *user)
{
    reading_t *rd = user;
    results_model_add(&rd->r, rec);
    if (rd->json) results_colldetail_offer_record(&rd->r, rec);
}

static void check_file(result_mode_t mode, const char *prefix, const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    reading_t rd = {.json = mode == MODE_JSON};
    results_model_init(&rd.r, NULL, 0);
    char *err = NULL;
    (void)results_read_file(mode, path, on_record, &rd, NULL, NULL, &err);
    free(err);
    size_t len = rd.r.len;
    test_status_t *status = calloc(len + 1, sizeof *status);
    for (size_t i = 0; i < len; i++) status[i] = rd.r.tests[i].status;
    results_colldetail_fill(mode, path, prefix, &rd.r);
    FUZZ_CHECK(rd.r.len == len);
    for (size_t i = 0; i < len; i++) {
        const test_result_t *t = &rd.r.tests[i];
        FUZZ_CHECK(t->status == status[i]);
        if (t->failure) check_kept(t->failure);
    }
    free(status);
    results_model_free(&rd.r);
}

/* Reads of 4 KiB: boundaries inside records, and no 256 KiB buffer per read. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    results_json_set_chunk_size(4096);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    char *file, *text;
    fuzz_split(data + 1, size - 1, '\n', &file, &text);
    const uint8_t *cut = memchr(data + 1, '\n', size - 1);
    size_t skip = cut ? (size_t)(cut - data) + 1 : size; /* the file follows the first newline */
    switch (data[0] % 3) {
    case 0: check_text(text, *file ? file : NULL); break;
    case 1: check_file(MODE_JUNIT, file, data + skip, size - skip); break;
    default: check_file(MODE_JSON, file, data + skip, size - skip);
    }
    free(file);
    free(text);
    return 0;
}
