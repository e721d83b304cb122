/* Test Engine's answers, beside the plan itself (fuzz_plan): how the plan API's
 * answers are classified (engine_api_classify, for any status, transport
 * outcome and body), the filter_tests answer (engine_api_read_slow_files), the
 * dynamic-parallelism answer (plan_dynamic_read_answer) and the upload API's
 * 2xx answers (report_upload_read_answer, then the shortfall line built from
 * them). The first byte picks the reader. Invariants: an OK carries the body
 * and nothing else does; a cache miss is only a 404 to a cache lookup; every
 * other outcome has one message, one line of bounded size (the server's
 * words are cut); the slow files are among ours, each once; a dynamic answer gives a
 * parallelism from 1 to 1000 and an identifier that is one printable line
 * (it is put into a pipeline's environment), or a one-line refusal; an
 * upload answer accepts at most the batch, counts the rest as skipped, and
 * the shortfall is one line of bounded size. */
#include "config/config.h"
#include "fuzz_util.h"
#include "net/engine_api.h"
#include "plan/plan_dynamic.h"
#include "report/report_upload.h"
#include "base/strset.h"
#include <string.h>

#define MESSAGE_MAX 1024 /* a message's own words, and the server's, cut */

static bool printable_line(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return false;
    return true;
}

static void classify(const uint8_t *data, size_t size)
{
    static const long statuses[] = {0,   200, 201, 202, 400, 401, 403,
                                    404, 409, 413, 422, 429, 500, 503};
    if (size < 3) return;
    http_response_t r;
    http_response_init(&r);
    r.status = data[0] < 14 ? statuses[data[0]] : 100 + data[0];
    uint8_t flags = data[1];
    r.transport_error = flags & 1;
    r.tls_error = flags & 2;
    r.unreachable = flags & 4;
    r.too_large = flags & 8;
    r.gave_up = flags & 16;
    r.attempts = 1 + (flags >> 5);
    bool cache_get = data[2] & 1;
    char *error, *body;
    fuzz_split(data + 3, size - 3, '\n', &error, &body);
    if (*error) r.error = strdup(error);
    buf_puts(&r.body, body);
    engine_api_answer_t a;
    engine_api_classify(&r, cache_get, &a);
    FUZZ_CHECK(a.outcome >= ENGINE_API_OK && a.outcome <= ENGINE_API_FATAL);
    FUZZ_CHECK((a.outcome == ENGINE_API_OK) == (a.body != NULL));
    if (a.outcome == ENGINE_API_OK) FUZZ_CHECK(r.status == 200 && strcmp(a.body, body) == 0);
    if (a.outcome == ENGINE_API_CACHE_MISS) FUZZ_CHECK(cache_get && r.status == 404);
    bool said = a.outcome == ENGINE_API_FALLBACK || a.outcome == ENGINE_API_FATAL;
    FUZZ_CHECK(said == (a.message != NULL));
    if (a.message) {
        FUZZ_CHECK(strlen(a.message) <= MESSAGE_MAX + strlen(error));
        FUZZ_CHECK(strchr(error, '\n') ||
                   fuzz_one_line(a.message)); /* it goes into a plan reason */
    }
    engine_api_answer_free(&a);
    http_response_free(&r);
    free(error);
    free(body);
}

static void slow_files(const uint8_t *data, size_t size)
{
    char *prefix, *rest, *names, *answer;
    fuzz_split(data, size, '\n', &prefix, &rest);
    fuzz_split((const uint8_t *)rest, strlen(rest), '\n', &names, &answer);
    strlist_t files = STRLIST_INIT, slow = STRLIST_INIT;
    for (char *save = NULL, *f = strtok_r(names, "\t", &save); f; f = strtok_r(NULL, "\t", &save))
        strlist_push(&files, f);
    config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.location_prefix = prefix;
    engine_api_read_slow_files(&cfg, &files, answer, &slow);
    strset_t ours = STRSET_INIT, seen = STRSET_INIT;
    strset_add_list(&ours, &files);
    for (size_t i = 0; i < slow.len; i++) {
        FUZZ_CHECK(strset_has(&ours, slow.items[i]));
        FUZZ_CHECK(strset_add(&seen, slow.items[i]));
    }
    strset_free(&seen);
    strset_free(&ours);
    strlist_free(&slow);
    strlist_free(&files);
    free(prefix);
    free(rest);
    free(names);
    free(answer);
}

static void dynamic_answer(const uint8_t *data, size_t size)
{
    char *body = fuzz_cstr(data, size);
    long parallelism = -1;
    char *identifier = NULL, *err = NULL;
    if (plan_dynamic_read_answer(body, &parallelism, &identifier, &err)) {
        FUZZ_CHECK(err == NULL && parallelism >= 1 && parallelism <= 1000);
        FUZZ_CHECK(identifier == NULL || (*identifier && printable_line(identifier)));
    } else {
        FUZZ_CHECK(identifier == NULL && fuzz_one_line(err));
    }
    free(identifier);
    free(err);
    free(body);
}

static void upload_answers(const uint8_t *data, size_t size)
{
    if (size < 4) return;
    size_t batch = data[0] | (size_t)data[1] << 8;
    report_upload_summary_t sum;
    memset(&sum, 0, sizeof sum);
    sum.end = (report_upload_end_t)(data[2] % 7);
    sum.signal = data[3];
    char *first, *second;
    fuzz_split(data + 4, size - 4, '\0', &first, &second);
    const char *bodies[] = {first, second};
    for (size_t i = 0; i < 2; i++) {
        size_t skipped = sum.skipped;
        size_t accepted = report_upload_read_answer(&sum, bodies[i], strlen(bodies[i]), batch);
        FUZZ_CHECK(accepted <= batch && sum.skipped - skipped == batch - accepted);
        FUZZ_CHECK(!sum.skipped || sum.skip_error);
        sum.records += accepted;
        sum.total += batch;
        sum.requests++;
    }
    /* failed requests' errors, as the uploader keeps them, for the line */
    char *e1 = NULL, *e2 = NULL;
    if (asprintf(&e1, "HTTP 500: %.200s", first) < 0 ||
        asprintf(&e2, "HTTP 502: %.200s", second) < 0)
        abort();
    sum.first_error = e1;
    sum.last_error = e2;
    sum.failed_requests = data[3] & 1;
    char *line = report_upload_shortfall(&sum);
    FUZZ_CHECK((line == NULL) == (sum.end == REPORT_UPLOAD_DONE && sum.records >= sum.total));
    if (line) FUZZ_CHECK(fuzz_one_line(line) && strlen(line) <= MESSAGE_MAX);
    free(line);
    report_upload_summary_free(&sum);
    free(first);
    free(second);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    switch (data[0] % 4) {
    case 0: classify(data + 1, size - 1); break;
    case 1: slow_files(data + 1, size - 1); break;
    case 2: dynamic_answer(data + 1, size - 1); break;
    default: upload_answers(data + 1, size - 1);
    }
    return 0;
}
