#include "run_exit4.h"
#include "text.h"
#include "timeouts.h"
#include "fs.h"
#include "process.h"
#include "selector.h"
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
