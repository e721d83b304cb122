#include "base/strlist.h"
#include "base/text.h"
#include "base/buf.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void strlist_init(strlist_t *l)
{
    l->cap = 8;
    l->len = 0;
    l->items = xcalloc(l->cap, sizeof(char *));
}

void strlist_clear(strlist_t *l)
{
    for (size_t i = 0; i < l->len; i++) free(l->items[i]);
    l->len = 0;
    if (l->items) l->items[0] = NULL;
}

void strlist_free(strlist_t *l)
{
    strlist_clear(l);
    free(l->items);
    l->items = NULL; /* a zeroed list: valid, empty, ready for push */
    l->cap = 0;
}

void strlist_push_owned(strlist_t *l, char *s)
{
    if (l->len + 1 >= l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8; /* a zeroed list starts here */
        if (cap > SIZE_MAX / sizeof(char *)) abort();
        l->items = xrealloc(l->items, cap * sizeof(char *));
        l->cap = cap;
    }
    l->items[l->len++] = s;
    l->items[l->len] = NULL;
}

void strlist_push(strlist_t *l, const char *s)
{
    strlist_push_owned(l, xstrdup(s));
}

int strlist_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void strlist_sort(strlist_t *l)
{
    if (l->len < 2) return; /* also keeps qsort away from a NULL array */
    qsort(l->items, l->len, sizeof(char *), strlist_cmp);
}

bool strlist_contains(const strlist_t *l, const char *s)
{
    for (size_t i = 0; i < l->len; i++)
        if (strcmp(l->items[i], s) == 0) return true;
    return false;
}

void strlist_push_lines(strlist_t *l, const char *text)
{
    const char *p = text;
    while (*p) {
        size_t n = strcspn(p, "\n");
        size_t kept = n;
        const char *line = text_trim(p, &kept);
        if (kept) strlist_push_owned(l, xstrndup(line, kept));
        p += n;
        if (*p) p++;
    }
}
