#include "base/strset.h"
#include "base/buf.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

uint64_t strset_hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h;
}

/* The slot holding str, or the empty slot where it would go. */
static size_t strset_find_slot(const char **slots, size_t cap, const char *str)
{
    size_t mask = cap - 1;
    size_t i = (size_t)strset_hash(str) & mask;
    while (slots[i] && strcmp(slots[i], str) != 0) i = (i + 1) & mask;
    return i;
}

static void strset_grow(strset_t *s)
{
    size_t cap = s->cap ? s->cap * 2 : 16;
    if (cap > SIZE_MAX / sizeof(char *)) abort();
    const char **slots = xcalloc(cap, sizeof(char *));
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i]) slots[strset_find_slot(slots, cap, s->slots[i])] = s->slots[i];
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
}

void strset_free(strset_t *s)
{
    free(s->slots);
    memset(s, 0, sizeof *s);
}

bool strset_add(strset_t *s, const char *str)
{
    if ((s->len + 1) * 2 > s->cap) strset_grow(s); /* at most half full: probes stay short */
    size_t i = strset_find_slot(s->slots, s->cap, str);
    if (s->slots[i]) return false;
    s->slots[i] = str;
    s->len++;
    return true;
}

bool strset_has(const strset_t *s, const char *str)
{
    return s->cap && s->slots[strset_find_slot(s->slots, s->cap, str)] != NULL;
}

void strset_add_list(strset_t *s, const strlist_t *l)
{
    for (size_t i = 0; i < l->len; i++) strset_add(s, l->items[i]);
}
