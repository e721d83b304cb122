/* engine_api: the Test Engine plan endpoints and what their answers mean.
 *
 * Every answer is classified the way bktec does, with one deliberate change:
 * an unusable answer that is not the user's fault (timeouts, 5xx after the
 * retry budget, 404/422, billing, invalid JSON, an empty plan) falls back to
 * local splitting so the build still runs its tests; only answers that point
 * at configuration (401, 403, 400, an unverifiable certificate) are fatal. */
#ifndef TEP_ENGINE_API_H
#define TEP_ENGINE_API_H
#include <cjson/cJSON.h>
#include "base/buf.h"
#include "config/config.h"
#include "net/http.h"
#include "base/strlist.h"

typedef enum {
    ENGINE_API_OK,
    ENGINE_API_CACHE_MISS,
    ENGINE_API_FALLBACK,
    ENGINE_API_FATAL
} engine_api_outcome_t;

typedef struct {
    engine_api_outcome_t outcome;
    char *message; /* for FALLBACK / FATAL: "Label: detail" */
    char *body;    /* for OK */
} engine_api_answer_t;

/* The client for these endpoints: the API token, api-timeout and the API
 * retry budget; an unreachable host is not retried (the local plan is as good
 * as waiting for it); each failed attempt is a warning on stderr. */
void engine_api_client_init(http_client_t *c, const config_t *cfg);
void engine_api_answer_free(engine_api_answer_t *a);
/* The URL of a suite endpoint, e.g. suffix "/test_plan". */
char *engine_api_url(const config_t *cfg, const char *suffix);
/* Maps an HTTP response to an outcome; `is_cache_get` turns 404 into a miss. */
void engine_api_classify(const http_response_t *r, bool is_cache_get, engine_api_answer_t *a);

void engine_api_fetch_cached_plan(http_client_t *c, const config_t *cfg, engine_api_answer_t *a);
/* examples: cJSON array of example objects (may be NULL); selectors: files. */
void engine_api_create_plan(http_client_t *c, const config_t *cfg, const strlist_t *selectors,
                            cJSON *examples, engine_api_answer_t *a);
/* Fills `slow` with the paths the server wants split into examples. */
void engine_api_filter_tests(http_client_t *c, const config_t *cfg, const strlist_t *files,
                             strlist_t *slow, engine_api_answer_t *a);
/* The filter_tests answer: appends to `slow` the paths it names (without the
 * location prefix) that are among `files`, each once, in the answer's order;
 * anything else in it is ignored (invalid JSON: a warning, nothing added).
 * Exposed for the fuzz target. */
void engine_api_read_slow_files(const config_t *cfg, const strlist_t *files, const char *answer,
                                strlist_t *slow);
/* bktec's EnvPayload (all keys present), from user-given values. */
cJSON *engine_api_env_payload(const config_t *cfg);
/* POST test_plan_metadata; body is the full JSON. false with *err (the
 * transport's problem, or "HTTP <status>") unless the answer is 2xx. */
bool engine_api_post_metadata(http_client_t *c, const config_t *cfg, const char *body, char **err);
/* prefix joined with path the way bktec does (location prefix). */
char *engine_api_prefixed(const char *prefix, const char *path);
/* path without the location prefix (and the slashes after it), when it has it. */
const char *engine_api_unprefixed(const char *prefix, const char *path);
/* A file name that is not UTF-8 cannot go into the API's JSON as it is: it
 * is sent with its stray bytes (and '%') as %XX (text_escape_bytes), the
 * same on every job. engine_api_path_sent appends what goes; a path or node id
 * the server names comes back through engine_api_path_received: as it is when
 * that file exists, else unescaped when that names a file that exists and is
 * not UTF-8 (caller frees). */
void engine_api_path_sent(const char *path, buf_t *out);
char *engine_api_path_received(const char *path);

/* max_parallelism and target_time, when cfg->dynamic (plan --json). */
void engine_api_add_dynamic_fields(cJSON *body, const config_t *cfg);

#endif
