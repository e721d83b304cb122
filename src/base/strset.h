/* strset: a set of borrowed C strings with expected O(1) lookups.
 *
 * "Is this path one of those?" asked for every file against a list of
 * thousands made planning quadratic (10,000 slow files among 100,000 cost
 * seconds of strcmp). A strset answers it in constant time.
 *
 * The set keeps pointers, not copies: every string must outlive the set (they
 * normally sit in a strlist built alongside it). Open addressing with linear
 * probing, FNV-1a hashes, at most half full. A zeroed strset_t (STRSET_INIT,
 * `= {0}`) is a valid empty set. */
#ifndef TEP_STRSET_H
#define TEP_STRSET_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/strlist.h"

typedef struct {
    const char **slots; /* NULL = empty slot */
    size_t cap;         /* a power of two, or 0 before the first add */
    size_t len;
} strset_t;

#define STRSET_INIT ((strset_t){0})

void strset_free(strset_t *s);
/* Adds s (borrowed); returns false when an equal string was already there. */
bool strset_add(strset_t *s, const char *str);
bool strset_has(const strset_t *s, const char *str);
/* Adds every item of l (borrowed). */
void strset_add_list(strset_t *s, const strlist_t *l);
/* The 64-bit FNV-1a hash of s: the set's, and the one the other open-addressing
 * tables (results_model's index, results_merge's map) use. */
uint64_t strset_hash(const char *s);

#endif
