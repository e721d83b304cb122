#include "base/json_arena.h"
#include "base/buf.h"
#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>

/* Blocks of at least this size; a larger request gets a block of its own. */
#define JSON_ARENA_BLOCK (1u << 20)
#define JSON_ARENA_ALIGN alignof(max_align_t)

struct json_arena_block {
    struct json_arena_block *next;
    size_t used;
    size_t cap;
    alignas(max_align_t) unsigned char data[];
};

/* The arena cJSON's hooks draw from while json_arena_parse runs. */
static json_arena_t *json_arena_current;

static void *json_arena_malloc(size_t n)
{
    json_arena_t *a = json_arena_current;
    size_t need = (n + JSON_ARENA_ALIGN - 1) & ~(size_t)(JSON_ARENA_ALIGN - 1);
    struct json_arena_block *b = a->blocks;
    if (!b || b->cap - b->used < need) {
        size_t cap = need > JSON_ARENA_BLOCK ? need : JSON_ARENA_BLOCK;
        b = xmalloc(sizeof *b + cap);
        b->used = 0;
        b->cap = cap;
        b->next = a->blocks;
        a->blocks = b;
    }
    void *p = b->data + b->used;
    b->used += need;
    return p;
}

/* cJSON frees a failed parse's pieces as it goes: they go with the arena. */
static void json_arena_free_one(void *p)
{
    (void)p;
}

cJSON *json_arena_parse(json_arena_t *a, const char *text, size_t len)
{
    cJSON_Hooks hooks = {.malloc_fn = json_arena_malloc, .free_fn = json_arena_free_one};
    json_arena_current = a;
    cJSON_InitHooks(&hooks);
    cJSON *root = cJSON_ParseWithLength(text, len);
    cJSON_InitHooks(NULL); /* malloc and free again for every other tree */
    json_arena_current = NULL;
    return root;
}

void json_arena_free(json_arena_t *a)
{
    while (a->blocks) {
        struct json_arena_block *next = a->blocks->next;
        free(a->blocks);
        a->blocks = next;
    }
}
