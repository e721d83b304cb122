#include "durations.h"
#include "buf.h"
#include "fsutil.h"
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *path;
    double seconds;
} pair_t;

static int cmp_pair(const void *a, const void *b)
{
    return strcmp(((const pair_t *)a)->path, ((const pair_t *)b)->path);
}

static void add(pair_t **pairs, size_t *len, size_t *cap, const char *key, double seconds)
{
    if (*len == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *pairs = xrealloc(*pairs, *cap * sizeof(pair_t));
    }
    const char *sep = strstr(key, "::");
    (*pairs)[*len].path = sep ? xstrndup(key, (size_t)(sep - key)) : xstrdup(key);
    (*pairs)[(*len)++].seconds = seconds;
}

static bool parse_json(const char *text, const char *path, pair_t **pairs, size_t *len, size_t *cap, char **err)
{
    cJSON *root = cJSON_Parse(text);
    if (!cJSON_IsObject(root)) {
        *err = xasprintf("BUILDKITE_TEST_ENGINE_DURATIONS_FILE '%s': not a JSON object of path to seconds", path);
        cJSON_Delete(root);
        return false;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, root) {
        if (!cJSON_IsNumber(item) || item->valuedouble < 0) continue; /* ignore junk entries, keep the rest */
        add(pairs, len, cap, item->string, item->valuedouble);
    }
    cJSON_Delete(root);
    return true;
}

static bool parse_lines(const char *text, const char *path, pair_t **pairs, size_t *len, size_t *cap, char **err)
{
    int lineno = 0;
    for (const char *p = text; *p;) {
        const char *end = strchr(p, '\n');
        if (!end) end = p + strlen(p);
        lineno++;
        char *line = xstrndup(p, (size_t)(end - p));
        char *s = line;
        while (isspace((unsigned char)*s)) s++;
        size_t n = strlen(s);
        while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
        if (*s && *s != '#') {
            char *rest;
            errno = 0;
            double v = strtod(s, &rest);
            if (rest == s || errno || v < 0 || !isspace((unsigned char)*rest)) {
                *err = xasprintf("BUILDKITE_TEST_ENGINE_DURATIONS_FILE '%s' line %d: expected '<seconds> <path>'", path, lineno);
                free(line);
                return false;
            }
            while (isspace((unsigned char)*rest)) rest++;
            add(pairs, len, cap, rest, v);
        }
        free(line);
        p = *end ? end + 1 : end;
    }
    return true;
}

bool durations_load(const char *path, durations_t *d, char **err)
{
    memset(d, 0, sizeof *d);
    char *text = fs_read_file(path, NULL);
    if (!text) {
        *err = xasprintf("BUILDKITE_TEST_ENGINE_DURATIONS_FILE '%s': cannot read it (%s)", path, strerror(errno));
        return false;
    }
    pair_t *pairs = NULL;
    size_t len = 0, cap = 0;
    const char *first = text;
    while (isspace((unsigned char)*first)) first++;
    bool ok = *first == '{' ? parse_json(text, path, &pairs, &len, &cap, err)
                            : parse_lines(text, path, &pairs, &len, &cap, err);
    free(text);
    if (!ok) {
        for (size_t i = 0; i < len; i++) free(pairs[i].path);
        free(pairs);
        return false;
    }
    if (len) qsort(pairs, len, sizeof(pair_t), cmp_pair); /* an empty file gives pairs == NULL */
    /* Sum node ids of one file into a single entry. */
    d->paths = xcalloc(len, sizeof(char *));
    d->seconds = xcalloc(len, sizeof(double));
    for (size_t i = 0; i < len; i++) {
        if (d->len && strcmp(d->paths[d->len - 1], pairs[i].path) == 0) {
            d->seconds[d->len - 1] += pairs[i].seconds;
            free(pairs[i].path);
        } else {
            d->paths[d->len] = pairs[i].path;
            d->seconds[d->len++] = pairs[i].seconds;
        }
    }
    free(pairs);
    return true;
}

void durations_free(durations_t *d)
{
    for (size_t i = 0; i < d->len; i++) free(d->paths[i]);
    free(d->paths);
    free(d->seconds);
    memset(d, 0, sizeof *d);
}

double durations_get(const durations_t *d, const char *path)
{
    size_t lo = 0, hi = d->len;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(d->paths[mid], path);
        if (c == 0) return d->seconds[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}
