/* The collection plugin's JSON lines: collect_only_read_records on any text,
 * for any requested files (the input's first line, split at tabs).
 * Invariants: every node id handed out belongs to a requested file (its part
 * before the first "::", or the whole id); each requested file either owns a
 * node id or is in whole_files, never both; whole_files and broken_files hold
 * no duplicates; a foreign id is counted exactly when an example is kept. */
#include "plan/collect_only.h"
#include "fuzz_util.h"
#include "base/strset.h"
#include <string.h>

static char *file_part(const char *id)
{
    const char *sep = strstr(id, "::");
    return sep ? strndup(id, (size_t)(sep - id)) : strdup(id);
}

static void check_unique(const strlist_t *l)
{
    strset_t seen = STRSET_INIT;
    for (size_t i = 0; i < l->len; i++) FUZZ_CHECK(strset_add(&seen, l->items[i]));
    strset_free(&seen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *names, *text;
    fuzz_split(data, size, '\n', &names, &text);
    strlist_t files = STRLIST_INIT;
    for (char *save = NULL, *f = strtok_r(names, "\t", &save); f; f = strtok_r(NULL, "\t", &save))
        strlist_push(&files, f);
    strset_t requested = STRSET_INIT;
    strset_add_list(&requested, &files);

    collect_only_result_t res;
    memset(&res, 0, sizeof res);
    strlist_init(&res.node_ids);
    strlist_init(&res.whole_files);
    strlist_init(&res.broken_files);
    (void)collect_only_read_records(text, &files, &res);

    strset_t owners = STRSET_INIT;
    strlist_t owned = STRLIST_INIT;
    for (size_t i = 0; i < res.node_ids.len; i++) {
        char *file = file_part(res.node_ids.items[i]);
        FUZZ_CHECK(strset_has(&requested, file));
        strlist_push_owned(&owned, file);
        strset_add(&owners, file);
    }
    strset_t whole = STRSET_INIT;
    strset_add_list(&whole, &res.whole_files);
    for (size_t i = 0; i < res.whole_files.len; i++)
        FUZZ_CHECK(strset_has(&requested, res.whole_files.items[i]));
    for (size_t i = 0; i < files.len; i++)
        FUZZ_CHECK(strset_has(&owners, files.items[i]) != strset_has(&whole, files.items[i]));
    check_unique(&res.whole_files);
    check_unique(&res.broken_files);
    FUZZ_CHECK((res.foreign_ids > 0) == (res.foreign_example != NULL));

    strset_free(&owners);
    strset_free(&whole);
    strset_free(&requested);
    strlist_free(&owned);
    strlist_free(&files);
    collect_only_result_free(&res);
    free(names);
    free(text);
    return 0;
}
