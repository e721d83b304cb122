#include "agent.h"
#include "fsutil.h"
#include "process.h"
#include "strlist.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool agent_call(const config_t *cfg, const char *const *args, const char *stdin_path, const char *cwd, buf_t *out, char **err)
{
    strlist_t argv;
    strlist_init(&argv);
    strlist_push(&argv, cfg->agent_cmd);
    for (const char *const *a = args; *a; a++) strlist_push(&argv, *a);
    buf_t local;
    buf_init(&local);
    proc_opts_t o = {.argv = argv.items, .capture = out ? out : &local, .timeout_s = 120, .stdin_path = stdin_path, .cwd = cwd};
    proc_result_t r;
    proc_run(&o, &r);
    bool ok = !r.start_failed && !r.signal && r.exit_code == 0;
    if (!ok && err) {
        const char *text = (out ? out : &local)->data;
        if (r.start_failed) *err = xasprintf("%s", r.start_error);
        else *err = xasprintf("buildkite-agent %s %s exited %d: %.200s", args[0], args[1] ? args[1] : "", r.exit_code, text);
    }
    buf_free(&local);
    strlist_free(&argv);
    return ok;
}

bool agent_metadata_get(const config_t *cfg, const char *key, char **value)
{
    const char *exists[] = {"meta-data", "exists", key, NULL};
    if (!agent_call(cfg, exists, NULL, NULL, NULL, NULL)) return false;
    const char *get[] = {"meta-data", "get", key, NULL};
    buf_t out;
    buf_init(&out);
    bool ok = agent_call(cfg, get, NULL, NULL, &out, NULL);
    *value = ok ? buf_detach(&out) : NULL;
    buf_free(&out);
    return ok;
}

bool agent_call_with_text(const config_t *cfg, const char *const *args, const char *text, size_t len, char **err)
{
    char tmpl[] = "/tmp/tep-agent-stdin-XXXXXX";
    int fd = mkstemp(tmpl);
    bool ok = fd >= 0 && write(fd, text, len) == (ssize_t)len;
    if (fd >= 0) close(fd);
    if (ok) ok = agent_call(cfg, args, tmpl, NULL, NULL, err);
    else *err = xasprintf("cannot write the input of buildkite-agent %s to a temporary file", args[0]);
    if (fd >= 0) unlink(tmpl);
    return ok;
}

bool agent_metadata_set(const config_t *cfg, const char *key, const char *value, char **err)
{
    const char *args[] = {"meta-data", "set", key, NULL}; /* node id lists can exceed argv limits */
    return agent_call_with_text(cfg, args, value, strlen(value), err);
}
