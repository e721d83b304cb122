#include "agent.h"
#include "timeouts.h"
#include "fsutil.h"
#include "process.h"
#include "strlist.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The last non-blank line of the agent's stderr: its error message, without
 * the debug and retry lines that precede it. */
static char *last_line(const buf_t *b)
{
    const char *text = b->data ? b->data : "";
    size_t end = b->len;
    while (end && (text[end - 1] == '\n' || text[end - 1] == '\r' || text[end - 1] == ' ')) end--;
    size_t start = end;
    while (start && text[start - 1] != '\n') start--;
    size_t len = end - start;
    return xstrndup(text + start, len > 300 ? 300 : len);
}

/* Values come from stdout only: the agent logs to stderr, and an agent run
 * with --debug (BUILDKITE_AGENT_DEBUG=true) or one that retries a request
 * writes lines there that must never become part of a value. */
bool agent_call(const config_t *cfg, const char *const *args, const char *stdin_path,
                const char *cwd, buf_t *out, char **err)
{
    strlist_t argv;
    strlist_init(&argv);
    strlist_push(&argv, cfg->agent_cmd);
    for (const char *const *a = args; *a; a++) strlist_push(&argv, *a);
    buf_t local, errors;
    buf_init(&local);
    buf_init(&errors);
    process_opts_t o = {.argv = argv.items,
                        .capture = out ? out : &local,
                        .capture_err = &errors,
                        .timeout_s = TIMEOUT_AGENT_S,
                        .stdin_path = stdin_path,
                        .cwd = cwd};
    process_result_t r;
    process_run(&o, &r);
    bool ok = !r.start_failed && !r.signal && !r.timed_out && r.exit_code == 0;
    if (!ok && err) {
        char *why = last_line(&errors);
        if (r.start_failed)
            *err = xasprintf("%s", r.error);
        else if (r.timed_out)
            *err = xasprintf("buildkite-agent %s %s timed out", args[0], args[1] ? args[1] : "");
        else
            *err = xasprintf("buildkite-agent %s %s exited %d%s%s", args[0], args[1] ? args[1] : "",
                             r.signal ? 128 + r.signal : r.exit_code, *why ? ": " : "", why);
        free(why);
    }
    process_result_free(&r);
    buf_free(&errors);
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

bool agent_call_with_text(const config_t *cfg, const char *const *args, const char *text,
                          size_t len, char **err)
{
    char tmpl[] = "/tmp/tep-agent-stdin-XXXXXX";
    int fd = mkstemp(tmpl);
    bool ok = fd >= 0 && write(fd, text, len) == (ssize_t)len;
    if (fd >= 0) close(fd);
    if (ok)
        ok = agent_call(cfg, args, tmpl, NULL, NULL, err);
    else
        *err =
            xasprintf("cannot write the input of buildkite-agent %s to a temporary file", args[0]);
    if (fd >= 0) unlink(tmpl);
    return ok;
}

bool agent_metadata_set(const config_t *cfg, const char *key, const char *value, char **err)
{
    const char *args[] = {"meta-data", "set", key, NULL}; /* node id lists can exceed argv limits */
    return agent_call_with_text(cfg, args, value, strlen(value), err);
}
