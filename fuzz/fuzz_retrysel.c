/* Retry selectors as read back from build meta-data: retrysel_parse, then the
 * selector guard on every line (what retrysel_load does). Invariant: a line
 * the guard accepts can be neither an option, an args file, nor hold a
 * control character. */
#include "fuzz_util.h"
#include "state/retrysel.h"
#include "pytest/selector.h"
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *value = fuzz_cstr(data, size);
    strlist_t sel = STRLIST_INIT;
    char *artifact = NULL;
    char *job = NULL;
    char *err = NULL;
    if (retrysel_parse(value, &sel, &artifact, &job, &err)) {
        FUZZ_CHECK(err == NULL);
        /* An artifact name from meta-data reaches buildkite-agent's argv only
         * when it is one of ours: never an option, a path or a glob. */
        if (artifact && retrysel_artifact_name_ok(artifact))
            FUZZ_CHECK(artifact[0] != '-' && !strchr(artifact, '/') && !strchr(artifact, '*') &&
                       !strstr(artifact, ".."));
        for (size_t i = 0; i < sel.len; i++) {
            const char *s = sel.items[i];
            if (selector_problem(s, strlen(s))) continue;
            FUZZ_CHECK(s[0] != '-' && s[0] != '@' && s[0] != '/' && s[0] != '~');
            for (const unsigned char *c = (const unsigned char *)s; *c; c++)
                FUZZ_CHECK(*c >= 0x20 && *c != 0x7f);
            char *file = selector_file_part(s);
            FUZZ_CHECK(*file);
            free(file);
        }
    } else {
        /* A refusal says why in one line, and hands nothing out. */
        FUZZ_CHECK(err && *err && !strchr(err, '\n'));
        FUZZ_CHECK(sel.len == 0 && artifact == NULL && job == NULL);
    }
    /* The guard on the raw bytes too, embedded NULs included. */
    (void)selector_problem(value, size);
    free(artifact);
    free(job);
    free(err);
    strlist_free(&sel);
    free(value);
    return 0;
}
