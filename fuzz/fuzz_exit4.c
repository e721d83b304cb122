/* pytest's stderr as the run phase hears it: run_exit4_hear line by line,
 * run_exit4_cause for every exit code, run_exit4_which_selector and the
 * widening of each id pytest could not find. Input: the slice's selectors
 * (tab-separated) on the first line, then pytest's stderr. Invariants: each
 * thing heard comes from a line that says it (a missing path without its
 * padding, a conftest path, an unknown id from an "ERROR: not found:" line);
 * the usage words are one line of at most 300 bytes and a cut note; the
 * conftest traceback kept stays within RUN_EXIT4_CONFTEST_KEEP and a line; a
 * cause other than none comes only for exit 4 (or a plugin pytest could not
 * import, exit 1); an unknown id maps to one of the slice's selectors or to
 * none, and widening it ends within its length. */
#include "fuzz_util.h"
#include "run/run_exit4.h"
#include "pytest/recorder.h"
#include <string.h>

static bool said_in(const strlist_t *lines, const char *what)
{
    for (size_t i = 0; i < lines->len; i++)
        if (strstr(lines->items[i], what)) return true;
    return false;
}

static void check_causes(const run_exit4_said_t *s)
{
    for (int code = -1; code <= 6; code++) {
        run_exit4_cause_t c = run_exit4_cause(s, code);
        FUZZ_CHECK(c >= EXIT4_NONE && c <= EXIT4_USAGE);
        if (code != 4 && code != 1) FUZZ_CHECK(c == EXIT4_NONE);
        if (code == 1) FUZZ_CHECK(c == EXIT4_NONE || (c == EXIT4_USAGE && s->usage));
    }
    run_exit4_cause_t c = run_exit4_cause(s, 4);
    FUZZ_CHECK(c != EXIT4_CONFTEST || s->conftest);
    FUZZ_CHECK(c != EXIT4_NOT_FOUND || s->not_found.len);
    FUZZ_CHECK(c != EXIT4_MISSING_PATH || s->missing_path);
}

static void check_unknown_id(const strlist_t *selectors, const char *id)
{
    const char *which = run_exit4_which_selector(selectors, id, "/builds/acme/shop");
    bool listed = false;
    for (size_t i = 0; i < selectors->len; i++) {
        listed |= which == selectors->items[i];
        if (strcmp(selectors->items[i], id) == 0) FUZZ_CHECK(which && strcmp(which, id) == 0);
    }
    FUZZ_CHECK(which == NULL || listed);
    char *wide = strdup(id);
    for (size_t rounds = 0; wide; rounds++) {
        FUZZ_CHECK(rounds <= strlen(id));
        char *wider = run_exit4_widen(wide);
        FUZZ_CHECK(wider == NULL ||
                   (strlen(wider) < strlen(wide) && strncmp(wider, wide, strlen(wider)) == 0));
        free(wide);
        wide = wider;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *first, *rest;
    fuzz_split(data, size, '\n', &first, &rest);
    strlist_t selectors = STRLIST_INIT, lines = STRLIST_INIT;
    for (char *save = NULL, *t = strtok_r(first, "\t", &save); t; t = strtok_r(NULL, "\t", &save))
        strlist_push(&selectors, t);
    /* lines as the process module hands them out: split at '\n' only */
    for (char *s = rest;;) {
        char *nl = strchr(s, '\n');
        if (nl) *nl = '\0';
        if (nl || *s) strlist_push(&lines, s);
        if (!nl) break;
        s = nl + 1;
    }

    run_exit4_said_t said;
    memset(&said, 0, sizeof said);
    size_t longest = 0, not_found_lines = 0;
    for (size_t i = 0; i < lines.len; i++) {
        const char *line = lines.items[i];
        if (strlen(line) > longest) longest = strlen(line);
        not_found_lines += strncmp(line, "ERROR: not found: ", 18) == 0;
        char *missing = run_exit4_missing_path(line);
        if (missing) {
            FUZZ_CHECK(*missing && strstr(line, missing) != NULL);
            char last = missing[strlen(missing) - 1];
            FUZZ_CHECK(last != ' ' && last != '\r');
        }
        free(missing);
        if (!recorder_load_failed(line)) run_exit4_hear(&said, line);
    }
    FUZZ_CHECK(!said.missing_path || said_in(&lines, said.missing_path));
    FUZZ_CHECK(!said.conftest || said_in(&lines, said.conftest));
    FUZZ_CHECK(said.not_found.len <= not_found_lines);
    FUZZ_CHECK(said.conftest_text.len <= RUN_EXIT4_CONFTEST_KEEP + longest + 1);
    if (said.usage) {
        FUZZ_CHECK(fuzz_one_line(said.usage));
        FUZZ_CHECK(strlen(said.usage) <= 300 + 64);
    }
    check_causes(&said);
    for (size_t i = 0; i < said.not_found.len; i++)
        check_unknown_id(&selectors, said.not_found.items[i]);

    run_exit4_said_free(&said);
    strlist_free(&lines);
    strlist_free(&selectors);
    free(first);
    free(rest);
    return 0;
}
