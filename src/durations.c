#include "durations.h"
#include "buf.h"
#include "fsutil.h"
#include "log.h"
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* Where entries are refused: one warning each, up to a cap, then a count. */
typedef struct {
    const char *path;
    size_t warned, unwarned;
} warn_ctx_t;

static void refuse(warn_ctx_t *w, const char *where, const char *what, const char *why)
{
    if (w->warned >= DURATIONS_MAX_WARNINGS) {
        w->unwarned++;
        return;
    }
    w->warned++;
    log_warn("BUILDKITE_TEST_ENGINE_DURATIONS_FILE '%s' %s: %s %s; entry ignored", w->path, where, what, why);
}

/* NULL when seconds is a usable duration, else why not. NaN fails every
 * comparison, so the checks are written to let only good values through. */
static const char *duration_problem(double seconds)
{
    if (!isfinite(seconds)) return "is not a finite number";
    if (!(seconds >= 0)) return "is negative";
    if (!(seconds <= DURATIONS_MAX_S)) return "is longer than a week, which no test file takes";
    return NULL;
}

static bool parse_json(const char *text, warn_ctx_t *w, pair_t **pairs, size_t *len, size_t *cap, char **err)
{
    cJSON *root = cJSON_Parse(text);
    if (!cJSON_IsObject(root)) {
        *err = xasprintf("BUILDKITE_TEST_ENGINE_DURATIONS_FILE '%s': not a JSON object of path to seconds", w->path);
        cJSON_Delete(root);
        return false;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, root) {
        const char *key = item->string ? item->string : "";
        /* Keys are shown cut short and printable: the warning stays one line. */
        char *shown = text_excerpt(key, strlen(key), 80);
        char *where = xasprintf("key '%s'", shown);
        free(shown);
        const char *why = !cJSON_IsNumber(item) ? "is not a number of seconds"
                          : duration_problem(item->valuedouble);
        if (!why && strncmp(key, "::", 2) == 0) why = "has no file part";
        if (!why && !*key) why = "is an empty path";
        if (why) refuse(w, where, "value", why);
        else add(pairs, len, cap, key, item->valuedouble);
        free(where);
    }
    cJSON_Delete(root);
    return true;
}

/* The seconds field of a text line: plain decimal only, so strtod never sees
 * "nan", "inf" or hex floats. */
static bool plain_decimal(const char *s, size_t n)
{
    bool digit = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') digit = true;
        else if (!strchr(".eE+-", c)) return false;
    }
    return digit;
}

/* "nan", "-inf", "Infinity", "nan(0x1)": what strtod would turn into a
 * non-finite number. */
static bool names_non_finite(const char *s, size_t n)
{
    if (n && (*s == '+' || *s == '-')) s++, n--;
    return n >= 3 && (strncasecmp(s, "nan", 3) == 0 || strncasecmp(s, "inf", 3) == 0);
}

static bool parse_line(char *s, size_t lineno, warn_ctx_t *w, pair_t **pairs, size_t *len, size_t *cap, char **err)
{
    size_t n = strcspn(s, " \t\v\f\r");
    char *rest = s + n;
    while (isspace((unsigned char)*rest)) rest++;
    char where[48];
    snprintf(where, sizeof where, "line %zu", lineno);
    if (*rest && names_non_finite(s, n)) {
        refuse(w, where, "seconds", "is not a finite number");
        return true;
    }
    char *end = NULL;
    errno = 0;
    double v = plain_decimal(s, n) ? strtod(s, &end) : 0;
    if (end != s + n || !*rest) {
        *err = xasprintf("BUILDKITE_TEST_ENGINE_DURATIONS_FILE '%s' line %zu: expected '<seconds> <path>'", w->path,
                         lineno);
        return false;
    }
    /* ERANGE: overflow gives HUGE_VAL (refused below as not finite); underflow
     * gives a tiny value, which is just zero seconds. */
    const char *why = duration_problem(v);
    if (why) refuse(w, where, "seconds", why);
    else add(pairs, len, cap, rest, v);
    return true;
}

static bool parse_lines(const char *text, warn_ctx_t *w, pair_t **pairs, size_t *len, size_t *cap, char **err)
{
    size_t lineno = 0;
    for (const char *p = text; *p;) {
        const char *end = strchr(p, '\n');
        if (!end) end = p + strlen(p);
        lineno++;
        char *line = xstrndup(p, (size_t)(end - p));
        char *s = line;
        while (isspace((unsigned char)*s)) s++;
        size_t n = strlen(s);
        while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
        bool ok = !*s || *s == '#' || parse_line(s, lineno, w, pairs, len, cap, err);
        free(line);
        if (!ok) return false;
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
    warn_ctx_t w = {.path = path};
    bool ok = *first == '{' ? parse_json(text, &w, &pairs, &len, &cap, err)
                            : parse_lines(text, &w, &pairs, &len, &cap, err);
    free(text);
    if (w.unwarned)
        log_warn("BUILDKITE_TEST_ENGINE_DURATIONS_FILE '%s': %zu more entries ignored (%zu warnings shown)", path,
                 w.unwarned, w.warned);
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
