/* json_get: typed reads of one member of a parsed JSON object (cJSON).
 *
 * The state files and the plan answer come from another process or another
 * machine, so every read says what a missing or mistyped member becomes, and
 * no number is ever cast to an integer type outside that type's range (NaN
 * and 1e999 included). Members are looked up case-sensitively. */
#ifndef TEP_JSON_GET_H
#define TEP_JSON_GET_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* The string, or "" when the member is absent or not a string (borrowed). */
const char *json_get_str(const cJSON *o, const char *key);
/* A copy of the string, or NULL when the member is absent or not a string. */
char *json_get_strdup(const cJSON *o, const char *key);
/* The number, or NaN when the member is absent or not a number. */
double json_get_num(const cJSON *o, const char *key);
/* The number truncated to an integer when it lies in [lo, hi]; otherwise
 * (absent, not a number, NaN, out of range) `fallback`. */
long json_get_long(const cJSON *o, const char *key, long lo, long hi, long fallback);
/* A count: the number truncated when it lies in [0, 1e15), else 0. */
size_t json_get_count(const cJSON *o, const char *key);
/* True only for a JSON true. */
bool json_get_bool(const cJSON *o, const char *key);

#endif
