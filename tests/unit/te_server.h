/* Test helper: the local Test Engine stand-in (tests/support/te_server.py,
 * the one the integration suites use) as a child of a unit test, over real
 * HTTPS with a throwaway CA (tests/support/make_certs.sh). Control is through
 * files in its directory: faults.json (answers to give, in order), and what
 * it received, requests.jsonl, one JSON line per request. Include after
 * unit.h. Every wait is bounded: a server that does not start fails the test. */
#ifndef TEP_TEST_TE_SERVER_H
#define TEP_TEST_TE_SERVER_H
#include "scratch.h"
#include "base/fs.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    char dir[64];
    char *server_dir; /* the stand-in's --dir */
    char *ca;         /* the CA bundle that trusts it */
    char *url;        /* https://127.0.0.1:PORT */
    pid_t pid;
} te_server_t;

/* Debian's python3 when there is one: the first on PATH may be another build. */
static inline const char *te_server_python(void)
{
    return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

static inline void te_server_start(te_server_t *s)
{
    memset(s, 0, sizeof *s);
    scratch_dir(s->dir, sizeof s->dir, "tep-te-server");
    const char *src = getenv("TEP_SOURCE_DIR");
    src = src && *src ? src : ".";
    char *certs = fs_join(s->dir, "certs");
    char *make = xasprintf("'%s/tests/support/make_certs.sh' '%s'", src, certs);
    assert_int_equal(system(make), 0);
    free(make);
    s->ca = fs_join(certs, "ca.pem");
    s->server_dir = fs_join(s->dir, "server");
    assert_true(fs_mkdirs(s->server_dir));
    char *script = xasprintf("%s/tests/support/te_server.py", src);
    char *cert = fs_join(certs, "server.pem"), *key = fs_join(certs, "server.key");
    char *log = fs_join(s->dir, "server.log");
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        freopen(log, "w", stdout);
        freopen(log, "a", stderr);
        execlp(te_server_python(), "python3", script, "--dir", s->server_dir, "--cert", cert,
               "--key", key, (char *)NULL);
        _exit(127);
    }
    char *port_file = fs_join(s->server_dir, "port");
    double until = fs_monotonic() + 30;
    char *port = NULL;
    while (!(port = fs_read_file(port_file, NULL)) && fs_monotonic() < until) fs_sleep(0.02);
    assert_non_null(port); /* see server.log in the scratch directory */
    s->url = xasprintf("https://127.0.0.1:%s", port);
    free(port);
    free(port_file);
    free(log);
    free(key);
    free(cert);
    free(script);
    free(certs);
}

/* faults.json: what the stand-in answers next (see te_server.py). */
static inline void te_server_faults(const te_server_t *s, const char *json)
{
    scratch_put(s->server_dir, "faults.json", json);
}

/* requests.jsonl, whole ("" when nothing came). Caller frees. */
static inline char *te_server_requests(const te_server_t *s)
{
    char *path = fs_join(s->server_dir, "requests.jsonl");
    char *text = fs_read_file(path, NULL);
    free(path);
    return text ? text : xstrdup("");
}

static inline void te_server_stop(te_server_t *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
    }
    scratch_dir_remove(s->dir);
    free(s->url);
    free(s->ca);
    free(s->server_dir);
    memset(s, 0, sizeof *s);
}

#endif
