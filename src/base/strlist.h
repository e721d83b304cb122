/* strlist: an owned, growable array of C strings.
 *
 * File lists, argv vectors and selector lists are all strlists. Items are
 * owned by the list; once anything was pushed (or after strlist_init), items
 * is NULL-terminated so it can go straight to execvp.
 *
 * A zeroed strlist_t (STRLIST_INIT, `= {0}`) is a valid empty list, and
 * strlist_free leaves one: every function accepts it, push allocates. */
#ifndef TEP_STRLIST_H
#define TEP_STRLIST_H
#include <stddef.h>
#include <stdbool.h>

typedef struct {
    char **items; /* NULL-terminated; NULL only while cap == 0 (nothing allocated) */
    size_t len;
    size_t cap;
} strlist_t;

#define STRLIST_INIT ((strlist_t){0})

void strlist_init(strlist_t *l);
void strlist_free(strlist_t *l);
void strlist_clear(strlist_t *l);
void strlist_push(strlist_t *l, const char *s); /* copies s */
void strlist_push_owned(strlist_t *l, char *s); /* takes s */
void strlist_sort(strlist_t *l);                /* byte order */
/* qsort comparator for an array of C strings, in byte order. */
int strlist_cmp(const void *a, const void *b);
bool strlist_contains(const strlist_t *l, const char *s);
/* Appends each line of text (split on '\n'), trimmed of surrounding white
 * space as text_trim does ("\r" included); blank lines are dropped. */
void strlist_push_lines(strlist_t *l, const char *text);

#endif
