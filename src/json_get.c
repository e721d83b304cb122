#include "json_get.h"
#include "buf.h"
#include <math.h>

const char *json_get_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

char *json_get_strdup(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
}

double json_get_num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

long json_get_long(const cJSON *o, const char *key, long lo, long hi, long fallback)
{
    double d = json_get_num(o, key);
    /* The comparisons are false for NaN, so it falls back too. */
    return d >= (double)lo && d <= (double)hi ? (long)d : fallback;
}

size_t json_get_count(const cJSON *o, const char *key)
{
    return (size_t)json_get_long(o, key, 0, 999999999999999L, 0);
}

bool json_get_bool(const cJSON *o, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}
