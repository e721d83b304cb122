#include "plan/plan_discover.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/pattern.h"
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    pattern_t include;
    pattern_t exclude;
    bool has_exclude;
    strlist_t *out;
    buf_t path; /* relative path being visited; "" is the root */
    const char *root;
} walk_t;

static bool excluded_dir(const walk_t *w, const char *rel)
{
    if (!w->has_exclude) return false;
    if (pattern_match(&w->exclude, rel)) return true;
    /* An exclude ending in a double-star segment covers the directory itself: do not descend. */
    char *probe = xasprintf("%s/\x01", rel);
    bool hit = pattern_match(&w->exclude, probe);
    free(probe);
    return hit;
}

static int entry_kind(const walk_t *w, struct dirent *de)
{
    if (de->d_type == DT_DIR) return 'd';
    if (de->d_type == DT_REG) return 'f';
    if (de->d_type != DT_UNKNOWN && de->d_type != DT_LNK) return 0;
    /* Unknown type or a symlink: stat it; follow links to files only. */
    char *full = fs_join(w->root, w->path.data);
    struct stat st;
    int kind = 0;
    if (stat(full, &st) == 0) {
        if (S_ISREG(st.st_mode))
            kind = 'f';
        else if (S_ISDIR(st.st_mode) && de->d_type != DT_LNK)
            kind = 'd';
    }
    free(full);
    return kind;
}

static void walk_dir(walk_t *w)
{
    char *full = w->path.len ? fs_join(w->root, w->path.data) : xstrdup(w->root);
    DIR *d = opendir(full);
    free(full);
    if (!d) return; /* unreadable directories are skipped, like find does after a warning */
    size_t base_len = w->path.len;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
        w->path.len = base_len;
        w->path.data[base_len] = '\0';
        if (base_len) buf_putc(&w->path, '/');
        buf_puts(&w->path, name);
        int kind = entry_kind(w, de);
        if (kind == 'd') {
            bool skipped_by_default = name[0] == '.' || strcmp(name, "node_modules") == 0;
            if (skipped_by_default && !pattern_names_dir(&w->include, name)) continue;
            if (!pattern_may_match_below(&w->include, w->path.data)) continue;
            if (excluded_dir(w, w->path.data)) continue;
            walk_dir(w);
        } else if (kind == 'f') {
            if (!pattern_match(&w->include, w->path.data)) continue;
            if (w->has_exclude && pattern_match(&w->exclude, w->path.data)) continue;
            strlist_push(w->out, w->path.data);
        }
    }
    w->path.len = base_len;
    w->path.data[base_len] = '\0';
    closedir(d);
}

bool plan_discover_walk(const char *root, const char *include, const char *exclude, strlist_t *out,
                        char **err)
{
    walk_t w = {.out = out, .root = root};
    char *perr = NULL;
    if (!pattern_compile(&w.include, include, &perr)) {
        err_set(err, "BUILDKITE_TEST_ENGINE_TEST_FILE_PATTERN '%s': %s", include, perr);
        free(perr);
        pattern_free(&w.include);
        return false;
    }
    w.has_exclude = exclude && *exclude;
    if (w.has_exclude && !pattern_compile(&w.exclude, exclude, &perr)) {
        err_set(err, "BUILDKITE_TEST_ENGINE_TEST_FILE_EXCLUDE_PATTERN '%s': %s", exclude, perr);
        free(perr);
        pattern_free(&w.include);
        pattern_free(&w.exclude);
        return false;
    }
    buf_init(&w.path);
    walk_dir(&w);
    buf_free(&w.path);
    pattern_free(&w.include);
    if (w.has_exclude) pattern_free(&w.exclude);
    strlist_sort(out);
    if (out->len == 0)
        return err_set(err,
                       "no test files match pattern '%s'%s%s%s; check "
                       "BUILDKITE_TEST_ENGINE_TEST_FILE_PATTERN and the working directory",
                       include, w.has_exclude ? " and exclude pattern '" : "",
                       w.has_exclude ? exclude : "", w.has_exclude ? "'" : "");
    return true;
}

bool plan_discover_read_list(const char *path, strlist_t *out, char **err)
{
    size_t len = 0;
    char *text = fs_read_file(path, &len);
    if (!text && errno == EFBIG)
        return err_set(err,
                       "BUILDKITE_TEST_ENGINE_FILES '%s': is larger than %lu MiB; give a file "
                       "listing one test file per line",
                       path, FS_READ_MAX >> 20);
    if (!text)
        return err_set(err, "BUILDKITE_TEST_ENGINE_FILES '%s': cannot read it (%s)", path,
                       strerror(errno));
    if (memchr(text, '\0', len)) {
        free(text);
        return err_set(
            err,
            "BUILDKITE_TEST_ENGINE_FILES '%s': is not a text file; give one test file per line",
            path);
    }
    strlist_push_lines(out, text);
    free(text);
    if (out->len == 0)
        return err_set(
            err, "BUILDKITE_TEST_ENGINE_FILES '%s': has no file names; give one test file per line",
            path);
    return true;
}
