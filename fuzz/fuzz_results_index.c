/* A result file's index (results_index.h) as the report phase reads it: any
 * bytes after a sound header for the result file, or any bytes as the whole
 * index. Input: a byte (bit 0: JUnit, bit 1: block checksums not compared,
 * so mutated entries reach the checks behind them; bit 2: the rest is the
 * whole index, header included), two bytes giving the result file's length,
 * the result file, then the index's bytes. Invariants: every entry handed out
 * lies inside the result file, after the one before; a timed entry's seconds
 * are finite and not negative, its key inside the block it came in, and a
 * rendered key a JSON string as the durations artifact writes one; the reader
 * ends (END or DAMAGED with one line), handing out no more entries than the
 * index has room for; the durations artifact written from the entries is one
 * JSON object with an entry per timed entry at most. */
#include "base/fs.h"
#include "fuzz_util.h"
#include "base/jsontext.h"
#include "report/report_durations.h"
#include "results/results_index.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

/* A sound header for path, as the run phase writes it: an index of no
 * entries, less its trailer. Caller frees. */
static char *sound_header(const char *path, result_mode_t mode, size_t *len)
{
    results_index_writer_t w;
    char *err = NULL;
    FUZZ_CHECK(results_index_writer_open(&w, path, mode, "sub/", &err));
    FUZZ_CHECK(results_index_writer_close(&w, NULL, &err));
    char *index = results_index_path(path);
    size_t n = 0;
    char *bytes = fs_read_file(index, &n);
    free(index);
    FUZZ_CHECK(bytes && n > 24);
    *len = n - 24; /* the trailer: u32 0, u32 0, u64 entries, u64 checksum */
    return bytes;
}

static void check_entry(const results_index_entry_t *e, size_t file_size, size_t *last_end,
                        buf_t *decoded)
{
    FUZZ_CHECK(e->start >= *last_end && e->start <= e->end && e->end <= file_size);
    *last_end = e->end;
    if (!e->timed) return;
    FUZZ_CHECK(isfinite(e->seconds) && e->seconds >= 0);
    FUZZ_CHECK(e->key_len <= RESULTS_INDEX_MAX_KEY);
    volatile unsigned char touch = 0; /* ASan: the key's bytes are the block's */
    for (size_t i = 0; i < e->key_len; i++) touch ^= (unsigned char)e->key[i];
    (void)touch;
    if (e->key_raw) return;
    FUZZ_CHECK(results_index_key_is_json(e->key, e->key_len));
    buf_reset(decoded);
    FUZZ_CHECK(jsontext_decode(e->key, e->key_len, decoded) == JSONTEXT_OK);
}

/* The artifact written from the entries is one JSON object. */
static void check_artifact(const char *path, size_t timed)
{
    size_t len = 0;
    char *text = fs_read_file(path, &len);
    FUZZ_CHECK(text != NULL);
    cJSON *doc = cJSON_ParseWithLength(text, len);
    FUZZ_CHECK(cJSON_IsObject(doc));
    FUZZ_CHECK((size_t)cJSON_GetArraySize(doc) <= timed);
    cJSON_Delete(doc);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    result_mode_t mode = data[0] & 1 ? MODE_JUNIT : MODE_JSON;
    results_index_set_checksums(!(data[0] & 2));
    bool whole = data[0] & 4;
    size_t file_len = (size_t)data[1] | (size_t)data[2] << 8;
    if (file_len > size - 3) file_len = size - 3;
    const uint8_t *rest = data + 3 + file_len;
    size_t rest_len = size - 3 - file_len;
    char *path = strdup(
        fuzz_dir_file(mode == MODE_JSON ? "attempt-0.json" : "attempt-0.xml", data + 3, file_len));
    char *index = results_index_path(path);
    buf_t bytes = BUF_INIT;
    if (!whole) {
        size_t head_len = 0;
        char *head = sound_header(path, mode, &head_len);
        buf_append(&bytes, head, head_len);
        free(head);
    }
    buf_append(&bytes, rest, rest_len);
    FUZZ_CHECK(fs_write_file(index, bytes.data ? bytes.data : "", bytes.len));

    bool missing = true;
    char *why = NULL;
    results_index_reader_t *r = results_index_open(path, mode, "sub/", &missing, &why);
    FUZZ_CHECK(!missing);
    if (!r) {
        FUZZ_CHECK(fuzz_one_line(why));
    } else {
        char *artifact = strdup(fuzz_dir_file("durations.json", NULL, 0));
        report_durations_t d;
        char *err = NULL;
        FUZZ_CHECK(report_durations_open(&d, artifact, NULL, &err));
        buf_t decoded = BUF_INIT;
        results_index_entry_t e;
        results_index_next_t got;
        size_t count = 0, timed = 0, last_end = 0;
        while ((got = results_index_next(r, &e, &why)) == RESULTS_INDEX_ENTRY) {
            check_entry(&e, file_len, &last_end, &decoded);
            count++;
            timed += e.timed;
            report_durations_add_entry(&d, &e);
        }
        FUZZ_CHECK(count == results_index_count(r));
        FUZZ_CHECK(count * 3 <= bytes.len); /* an entry is 3 bytes at least */
        FUZZ_CHECK(got == RESULTS_INDEX_END ? why == NULL : fuzz_one_line(why));
        /* once damaged, nothing more */
        FUZZ_CHECK(got == RESULTS_INDEX_END ||
                   results_index_next(r, &e, &why) == RESULTS_INDEX_DAMAGED);
        results_index_close(r);
        size_t written = 0;
        FUZZ_CHECK(report_durations_close(&d, &written, &err));
        FUZZ_CHECK(written == timed);
        check_artifact(artifact, timed);
        buf_free(&decoded);
        free(artifact);
    }
    free(why);
    buf_free(&bytes);
    free(index);
    free(path);
    return 0;
}
