/* json_arena: a cJSON tree parsed into one arena, for a big answer that is
 * read once and dropped whole (Test Engine's plan: 100,000 entries, about
 * 900,000 cJSON nodes and strings).
 *
 * cJSON allocates every node, key and string on its own: for a plan of
 * 8 MB, malloc, free and glibc's consolidation of the freed chunks took a
 * third of the plan phase. Here the parse draws from large blocks and the
 * tree goes in one release of those blocks.
 *
 * The tree is read-only: never cJSON_Delete it, nor add to, detach from or
 * replace anything in it (cJSON would free arena memory with free()). Read it
 * with cJSON_GetObjectItem*, cJSON_ArrayForEach, json_get.h; copy what must
 * outlive json_arena_free. cJSON's allocation hooks are global: they point at
 * the arena only for the duration of json_arena_parse (single-threaded use).
 * A zeroed json_arena_t (JSON_ARENA_INIT) is a valid empty arena. */
#ifndef TEP_JSON_ARENA_H
#define TEP_JSON_ARENA_H
#include <cjson/cJSON.h>
#include <stddef.h>

struct json_arena_block;
typedef struct {
    struct json_arena_block *blocks;
} json_arena_t;
#define JSON_ARENA_INIT ((json_arena_t){0})

/* The tree of the JSON value in text[0, len) (a part of a larger text:
 * it need not end with a NUL), or NULL when it is not JSON. */
cJSON *json_arena_parse(json_arena_t *a, const char *text, size_t len);
/* Releases every tree parsed into a; a is left empty, ready for reuse. */
void json_arena_free(json_arena_t *a);

#endif
