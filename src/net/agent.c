#include "net/agent.h"
#include "base/err.h"
#include "base/timeouts.h"
#include "base/strlist.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* `meta-data exists` exits with this when the key is absent. */
#define METADATA_ABSENT_EXIT 100

/* The last non-blank line of the agent's stderr: its error message, without
 * the debug and retry lines that precede it. */
static char *last_stderr_line(const buf_t *b)
{
    const char *text = buf_str(b);
    size_t end = b->len;
    while (end && (text[end - 1] == '\n' || text[end - 1] == '\r' || text[end - 1] == ' ')) end--;
    size_t start = end;
    while (start && text[start - 1] != '\n') start--;
    size_t len = end - start;
    return xstrndup(text + start, len > 300 ? 300 : len);
}

char *agent_failure(const char *const *args, const process_result_t *r, const buf_t *errors)
{
    const char *sub = args[1] ? args[1] : "";
    if (r->start_failed) return xstrdup(r->error);
    if (r->timed_out) return xasprintf("buildkite-agent %s %s timed out", args[0], sub);
    char *why = last_stderr_line(errors);
    char *msg = xasprintf("buildkite-agent %s %s exited %d%s%s", args[0], sub,
                          r->signal ? 128 + r->signal : r->exit_code, *why ? ": " : "", why);
    free(why);
    return msg;
}

static bool agent_succeeded(const process_result_t *r)
{
    return !r->start_failed && !r->signal && !r->timed_out && r->exit_code == 0;
}

/* Runs the agent with args; r tells how it ended, errors gets its stderr. */
static void run_agent(const config_t *cfg, const char *const *args, const char *stdin_path,
                      const char *cwd, buf_t *out, buf_t *errors, process_result_t *r)
{
    strlist_t argv;
    strlist_init(&argv);
    strlist_push(&argv, cfg->agent_cmd);
    for (const char *const *a = args; *a; a++) strlist_push(&argv, *a);
    buf_t dropped = BUF_INIT;
    process_opts_t o = {.argv = argv.items,
                        .capture = out ? out : &dropped,
                        .capture_err = errors,
                        .timeout_s = TIMEOUT_AGENT_S,
                        .stdin_path = stdin_path,
                        .cwd = cwd};
    process_run(&o, r);
    buf_free(&dropped);
    strlist_free(&argv);
}

/* Values come from stdout only: the agent logs to stderr, and an agent run
 * with --debug (BUILDKITE_AGENT_DEBUG=true) or one that retries a request
 * writes lines there that must never become part of a value. */
bool agent_call(const config_t *cfg, const char *const *args, const char *stdin_path,
                const char *cwd, buf_t *out, char **err)
{
    buf_t errors = BUF_INIT;
    process_result_t r;
    run_agent(cfg, args, stdin_path, cwd, out, &errors, &r);
    bool ok = agent_succeeded(&r);
    if (!ok) {
        free(*err);
        *err = agent_failure(args, &r, &errors);
    }
    process_result_free(&r);
    buf_free(&errors);
    return ok;
}

/* Whether the build has meta-data under key: true with *exists set, or false
 * with *err when the agent could not tell. */
static bool metadata_exists(const config_t *cfg, const char *key, bool *exists, char **err)
{
    const char *args[] = {"meta-data", "exists", key, NULL};
    buf_t errors = BUF_INIT;
    process_result_t r;
    run_agent(cfg, args, NULL, NULL, NULL, &errors, &r);
    bool absent =
        !r.start_failed && !r.signal && !r.timed_out && r.exit_code == METADATA_ABSENT_EXIT;
    bool ok = absent || agent_succeeded(&r);
    *exists = ok && !absent;
    if (!ok) {
        free(*err);
        *err = agent_failure(args, &r, &errors);
    }
    process_result_free(&r);
    buf_free(&errors);
    return ok;
}

bool agent_metadata_get(const config_t *cfg, const char *key, char **value, char **err)
{
    *value = NULL;
    bool exists = false;
    if (!metadata_exists(cfg, key, &exists, err)) return false;
    if (!exists) return true;
    const char *get[] = {"meta-data", "get", key, NULL};
    buf_t out = BUF_INIT;
    bool ok = agent_call(cfg, get, NULL, NULL, &out, err);
    if (ok) *value = buf_detach(&out);
    buf_free(&out);
    return ok;
}

bool agent_call_with_text(const config_t *cfg, const char *const *args, const char *text,
                          size_t len, char **err)
{
    char tmpl[] = "/tmp/tep-agent-stdin-XXXXXX";
    int fd = mkstemp(tmpl);
    bool written = fd >= 0 && write(fd, text, len) == (ssize_t)len;
    if (fd >= 0) close(fd);
    bool ok = written ? agent_call(cfg, args, tmpl, NULL, NULL, err)
                      : err_set(err,
                                "cannot write the input of buildkite-agent %s to a "
                                "temporary file",
                                args[0]);
    if (fd >= 0) unlink(tmpl);
    return ok;
}

bool agent_metadata_set(const config_t *cfg, const char *key, const char *value, char **err)
{
    const char *args[] = {"meta-data", "set", key, NULL}; /* node id lists can exceed argv limits */
    return agent_call_with_text(cfg, args, value, strlen(value), err);
}
