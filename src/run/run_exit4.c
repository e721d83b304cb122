#include "run/run_exit4.h"
#include "base/text.h"
#include "base/timeouts.h"
#include "base/fs.h"
#include "base/process.h"
#include "pytest/selector.h"
#include <dirent.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#define NOT_FOUND "file or directory not found: "

char *run_exit4_missing_path(const char *line)
{
    const char *hit = strstr(line, NOT_FOUND);
    if (!hit) return NULL;
    hit += strlen(NOT_FOUND);
    size_t n = strlen(hit);
    /* Not text_trim: a path may begin with a blank or end with a tab, and
     * both are part of it. Only the padding and a CRLF's '\r' go. */
    while (n && (hit[n - 1] == ' ' || hit[n - 1] == '\r')) n--;
    return n ? xstrndup(hit, n) : NULL;
}

static bool file_present_retrying(const char *path)
{
    for (int i = 0; i < 3; i++) {
        if (fs_exists(path)) return true;
        fs_sleep(0.2);
    }
    return false;
}

bool run_exit4_files_present(const strlist_t *selectors)
{
    for (size_t i = 0; i < selectors->len; i++) {
        char *file = selector_file_part(selectors->items[i]);
        bool ok = file_present_retrying(file);
        free(file);
        if (!ok) return false;
    }
    return true;
}

/* "parent=<dir> entries=N similar=[...]": how full the directory is, and
 * up to 5 names sharing the file's stem (a rename or a half-done checkout
 * shows up there). */
static void append_directory_entries(DIR *d, const char *parent, const char *stem, buf_t *out)
{
    strlist_t similar;
    strlist_init(&similar);
    size_t entries = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        entries++;
        if (*stem && strstr(de->d_name, stem)) strlist_push(&similar, de->d_name);
    }
    qsort(similar.items, similar.len, sizeof(char *), strlist_cmp);
    buf_printf(out, "parent=%s entries=%zu similar=[", parent, entries);
    for (size_t i = 0; i < similar.len && i < 5; i++)
        buf_printf(out, "%s%s", i ? ", " : "", similar.items[i]);
    buf_puts(out, "]\n");
    strlist_free(&similar);
}

static void append_parent_listing(const char *path, buf_t *out)
{
    char *copy = xstrdup(path); /* dirname and basename may write into it */
    char *copy2 = xstrdup(path);
    const char *parent = dirname(copy);
    char *stem = basename(copy2);
    char *dot = strrchr(stem, '.');
    if (dot) *dot = '\0';
    if (strlen(stem) > 12) stem[12] = '\0';
    DIR *d = opendir(parent);
    if (d) {
        append_directory_entries(d, parent, stem, out);
        closedir(d);
    } else {
        buf_printf(out, "parent=%s MISSING\n", parent);
    }
    free(copy);
    free(copy2);
}

static void append_git_status(buf_t *out)
{
    char *const argv[] = {"git", "status", "--porcelain", NULL};
    buf_t text;
    buf_init(&text);
    process_opts_t o = {.argv = argv, .capture = &text, .timeout_s = TIMEOUT_GIT_STATUS_S};
    process_result_t r;
    process_run(&o, &r);
    if (r.start_failed || r.signal || r.timed_out || r.exit_code != 0) {
        buf_printf(out, "git_status=unavailable (%s)\n",
                   r.start_failed ? r.error
                   : r.timed_out  ? "timed out after 10s"
                                  : "not a git checkout?");
    } else {
        strlist_t lines;
        strlist_init(&lines);
        strlist_push_lines(&lines, text.data);
        buf_printf(out, "git_dirty_entries=%zu\n", lines.len);
        for (size_t i = 0; i < lines.len && i < 10; i++) buf_printf(out, "  %s\n", lines.items[i]);
        strlist_free(&lines);
    }
    process_result_free(&r);
    buf_free(&text);
}

void run_exit4_forensics(const char *path, int retries_used, buf_t *out)
{
    /* pytest names the whole argument ("tests/a.py::test_x"); what can be
     * missing is its file part. */
    char *file = selector_file_part(path);
    if (strcmp(file, path) == 0)
        buf_printf(out, "--- exit-4 forensics for %s ---\n", path);
    else
        buf_printf(out, "--- exit-4 forensics for %s (file of %s) ---\n", file, path);
    buf_printf(out, "exists=%s retries_used=%d\n", fs_exists(file) ? "true" : "false",
               retries_used);
    append_parent_listing(file, out);
    append_git_status(out);
    buf_puts(out, "hint: pytest could not find a path that existed when the job started; the usual "
                  "cause is a test "
                  "or another process changing the checkout while tests run\n");
    free(file);
}

/* ---- exit 4 by cause ---- */

#define CONFTEST_HEAD "ImportError while loading conftest '"
#define NOT_FOUND_ID  "ERROR: not found: "

/* 'ImportError while loading conftest '<path>'.' -> path. */
static char *conftest_path(const char *line)
{
    const char *p = strstr(line, CONFTEST_HEAD);
    if (!p) return NULL;
    p += strlen(CONFTEST_HEAD);
    const char *end = strrchr(p, '\'');
    return end && end > p ? xstrndup(p, (size_t)(end - p)) : NULL;
}

/* The last line of pytest's traceback for `-p name` it cannot import:
 * 'ImportError: Error importing plugin "name": ...'. Only that line: Python
 * 3.13 also prints the source of the raise, which holds the same words. */
static const char *plugin_import_error(const char *line)
{
    static const char head[] = "ImportError: ";
    if (strncmp(line, head, strlen(head)) != 0) return NULL;
    line += strlen(head);
    return strncmp(line, "Error importing plugin \"", 24) == 0 ? line : NULL;
}

static void set_usage(run_exit4_said_t *s, const char *words)
{
    if (s->usage) return; /* the first line that says it is the one */
    size_t n = strlen(words);
    while (n && (words[n - 1] == '\r' || words[n - 1] == ' ')) n--;
    s->usage = text_cut(words, n, 300);
}

void run_exit4_hear(run_exit4_said_t *s, const char *line)
{
    char *p;
    if (s->conftest) { /* its traceback follows it to the end */
        if (s->conftest_text.len < RUN_EXIT4_CONFTEST_KEEP) {
            buf_puts(&s->conftest_text, line);
            buf_putc(&s->conftest_text, '\n');
        }
    } else if ((p = conftest_path(line)) != NULL) {
        s->conftest = p;
    } else if ((p = run_exit4_missing_path(line)) != NULL) {
        free(s->missing_path);
        s->missing_path = p;
    } else if (strncmp(line, NOT_FOUND_ID, strlen(NOT_FOUND_ID)) == 0) {
        strlist_push(&s->not_found, line + strlen(NOT_FOUND_ID));
    } else if (strncmp(line, "ERROR: usage:", 13) == 0) {
        s->in_usage = true; /* argparse names the problem on a later line */
    } else if (s->in_usage && strstr(line, ": error: ")) {
        set_usage(s, strstr(line, ": error: ") + 9);
    } else if (strncmp(line, "ERROR: ", 7) == 0) {
        set_usage(s, line + 7);
    } else if (plugin_import_error(line)) {
        set_usage(s, plugin_import_error(line));
    }
}

run_exit4_cause_t run_exit4_cause(const run_exit4_said_t *s, int exit_code)
{
    if (exit_code == 1 && s->usage && strstr(s->usage, "Error importing plugin"))
        return EXIT4_USAGE;
    if (exit_code != 4) return EXIT4_NONE;
    if (s->conftest) return EXIT4_CONFTEST;
    if (s->not_found.len) return EXIT4_NOT_FOUND;
    if (s->missing_path) return EXIT4_MISSING_PATH;
    if (s->usage || s->in_usage) return EXIT4_USAGE;
    return EXIT4_NONE;
}

void run_exit4_said_free(run_exit4_said_t *s)
{
    free(s->missing_path);
    free(s->conftest);
    buf_free(&s->conftest_text);
    free(s->usage);
    strlist_free(&s->not_found);
    memset(s, 0, sizeof *s);
}

const char *run_exit4_which_selector(const strlist_t *selectors, const char *reported,
                                     const char *cwd)
{
    size_t cwd_len = cwd ? strlen(cwd) : 0;
    bool under_cwd = cwd_len && strncmp(reported, cwd, cwd_len) == 0 && reported[cwd_len] == '/';
    const char *rel = under_cwd ? reported + cwd_len + 1 : reported;
    for (size_t i = 0; i < selectors->len; i++)
        if (strcmp(selectors->items[i], rel) == 0) return selectors->items[i];
    /* a selector spelled as pytest printed it (absolute, under cwd) */
    for (size_t i = 0; rel != reported && i < selectors->len; i++)
        if (strcmp(selectors->items[i], reported) == 0) return selectors->items[i];
    /* pytest resolved it against a directory we did not expect: the longest
     * selector it ends with */
    const char *best = NULL;
    size_t rlen = strlen(reported);
    for (size_t i = 0; i < selectors->len; i++) {
        size_t n = strlen(selectors->items[i]);
        if (n < rlen && reported[rlen - n - 1] == '/' &&
            strcmp(reported + rlen - n, selectors->items[i]) == 0 && (!best || n > strlen(best)))
            best = selectors->items[i];
    }
    return best;
}

char *run_exit4_widen(const char *id)
{
    const char *sep = strstr(id, "::"); /* the file part ends at the first one */
    if (!sep) return NULL;
    /* parameters are the last part's "[...]" and may hold anything, "::" too */
    const char *bracket = strchr(sep, '[');
    size_t n = strlen(id);
    if (bracket && id[n - 1] == ']') return xstrndup(id, (size_t)(bracket - id));
    const char *last = sep;
    for (const char *p = strstr(sep + 2, "::"); p; p = strstr(p + 2, "::")) last = p;
    return xstrndup(id, (size_t)(last - id));
}
