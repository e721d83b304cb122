#include "base/json_get.h"
#include "base/buf.h"
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
    /* Only a double inside [-2^63, 2^63) converts to long defined; (double)hi
     * can round up past hi (LONG_MAX becomes 2^63), so the bounds are checked
     * again on the converted value. Comparisons are false for NaN. */
    if (!(d >= (double)lo && d <= (double)hi && d >= -0x1p63 && d < 0x1p63)) return fallback;
    long v = (long)d;
    return v >= lo && v <= hi ? v : fallback;
}

size_t json_get_count(const cJSON *o, const char *key)
{
    return (size_t)json_get_long(o, key, 0, 999999999999999L, 0);
}

bool json_get_bool(const cJSON *o, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}
