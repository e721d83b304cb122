/* Glob patterns: compile, match, prune and name-a-directory on any pattern
 * and path (input: pattern, newline, path). On small inputs the answers are
 * checked against the old backtracking matcher (support/glob_oracle.c), so
 * the linear-time matcher keeps the exact semantics. */
#include "base/buf.h"
#include "fuzz_util.h"
#include "glob_oracle.h"
#include "base/pattern.h"
#include <string.h>

/* The oracle is exponential in stars: consult it only where that is cheap. */
static bool oracle_affordable(const pattern_t *p, const char *path)
{
    if (strlen(path) > 32 || p->alts.len > 16) return false;
    for (size_t i = 0; i < p->alts.len; i++) {
        size_t stars = 0;
        for (const char *s = p->alts.items[i]; *s; s++) stars += *s == '*';
        if (stars > 4) return false;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text, *path;
    fuzz_split(data, size, '\n', &text, &path);
    pattern_t p;
    char *err = NULL;
    if (!pattern_compile(&p, text, &err)) {
        FUZZ_CHECK(err != NULL && strchr(err, '\n') == NULL);
        free(err);
        pattern_free(&p);
        free(text);
        free(path);
        return 0;
    }
    FUZZ_CHECK(p.alts.len >= 1 && p.alts.len <= PATTERN_MAX_ALTS);
    bool hit = pattern_match(&p, path);
    bool below = pattern_may_match_below(&p, path);
    (void)pattern_names_dir(&p, path);
    if (oracle_affordable(&p, path)) {
        bool want = false, want_below = false;
        char *probe = xasprintf("%s/", path);
        for (size_t i = 0; i < p.alts.len; i++) {
            want = want || oracle_match(p.alts.items[i], path, false);
            want_below = want_below || oracle_match(p.alts.items[i], probe, true);
        }
        free(probe);
        if (hit != want || below != want_below)
            fprintf(stderr, "pattern '%s' path '%s': match %d (old %d), below %d (old %d)\n", text,
                    path, hit, want, below, want_below);
        FUZZ_CHECK(hit == want);
        FUZZ_CHECK(below == want_below);
    }
    pattern_free(&p);
    free(text);
    free(path);
    return 0;
}
