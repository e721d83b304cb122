#include "pytest/nodeid.h"
#include "base/buf.h"
#include "base/err.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* dir's path below base ("" when equal), or NULL when it is not below. */
static const char *below(const char *dir, const char *base)
{
    size_t n = strlen(base);
    while (n > 1 && base[n - 1] == '/') n--;
    if (strncmp(dir, base, n) != 0) return NULL;
    if (dir[n] == '\0') return dir + n;
    if (n == 1 && base[0] == '/') return dir + 1;
    return dir[n] == '/' ? dir + n + 1 : NULL;
}

char *nodeid_prefix(const char *rootdir, const char *cwd, char **why)
{
    const char *rel = below(rootdir, cwd);
    char *real_root = NULL, *real_cwd = NULL;
    if (!rel) { /* the same places, spelt through a symlink? */
        real_root = realpath(rootdir, NULL);
        real_cwd = realpath(cwd, NULL);
        rel = real_root && real_cwd ? below(real_root, real_cwd) : NULL;
    }
    char *prefix = NULL;
    if (!rel)
        err_set(why,
                "pytest's rootdir %s is not inside the directory it ran in (%s), so its node ids "
                "cannot be given back to it from there",
                rootdir, cwd);
    else
        prefix = *rel ? xasprintf("%s/", rel) : xstrdup("");
    while (prefix && strlen(prefix) > 1 && prefix[strlen(prefix) - 2] == '/')
        prefix[strlen(prefix) - 1] = '\0'; /* "a//" from "a/" spelt with a slash */
    free(real_root);
    free(real_cwd);
    return prefix;
}

char *nodeid_prefix_of_record(const char *scope, const char *file_name)
{
    if (!scope || !file_name || !*scope) return xstrdup("");
    const char *sep = strstr(scope, "::");
    size_t file_len = sep ? (size_t)(sep - scope) : strlen(scope);
    size_t n = strlen(file_name);
    if (file_len == 0 || n <= file_len || file_name[n - file_len - 1] != '/' ||
        strncmp(file_name + n - file_len, scope, file_len) != 0)
        return xstrdup("");
    return xstrndup(file_name, n - file_len);
}

char *nodeid_of_record(const char *scope, const char *name, const char *file, const char *node_id,
                       bool collector_json, const char *attempt_prefix)
{
    if (!collector_json) return nodeid_join(attempt_prefix, node_id);
    char *prefix = nodeid_prefix_of_record(scope && *scope ? scope : name, file);
    char *id = nodeid_join(prefix, node_id);
    free(prefix);
    return id;
}

char *nodeid_join(const char *prefix, const char *id)
{
    if (!prefix || !*prefix) return xstrdup(id);
    return xasprintf("%s%s", prefix, id);
}

char *nodeid_junit_key(const char *node_id)
{
    /* pytest: path, "[", params = address.partition("["); names = path.split("::") */
    const char *bracket = strchr(node_id, '[');
    size_t path_len = bracket ? (size_t)(bracket - node_id) : strlen(node_id);
    buf_t b = BUF_INIT;
    const char *sep = NULL;
    /* the last "::" before params, found left to right as str.split("::") finds them */
    for (const char *p = strstr(node_id, "::"); p && p + 2 <= node_id + path_len;
         p = strstr(p + 2, "::"))
        sep = p;
    const char *first_sep = strstr(node_id, "::");
    size_t first_len = first_sep && (size_t)(first_sep - node_id) < path_len
                           ? (size_t)(first_sep - node_id)
                           : path_len;
    size_t module_len = first_len;
    if (module_len >= 3 && memcmp(node_id + module_len - 3, ".py", 3) == 0) module_len -= 3;
    for (size_t i = 0; i < module_len; i++) buf_putc(&b, node_id[i] == '/' ? '.' : node_id[i]);
    if (!sep) { /* a file alone: no class, the module is the name */
        char *name = xstrdup(b.data ? b.data : "");
        buf_reset(&b);
        buf_putc(&b, '\x1f');
        buf_puts(&b, name);
        buf_puts(&b, node_id + path_len);
        free(name);
        return buf_detach(&b);
    }
    for (const char *p = node_id + first_len; p < sep;) { /* "::Class" parts -> ".Class" */
        p += 2;
        const char *next = strstr(p, "::");
        size_t len = next && next <= sep ? (size_t)(next - p) : (size_t)(sep - p);
        buf_putc(&b, '.');
        buf_append(&b, p, len);
        p += len;
    }
    buf_putc(&b, '\x1f');
    buf_puts(&b, sep + 2);
    return buf_detach(&b);
}
