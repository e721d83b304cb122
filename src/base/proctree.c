#include "base/proctree.h"
#include "base/buf.h"
#include "base/fs.h"
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    pid_t pid, ppid;
} proc_link_t;

bool proctree_stat_ppid(const char *path, pid_t *ppid)
{
    /* The whole file, not its first line: the name may hold a line break,
     * and the parent is after the name's last ')'. */
    char text[4096];
    FILE *f = fopen(path, "r");
    if (!f) return false;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *close_paren = strrchr(text, ')');
    int parent = 0;
    char state = 0;
    if (!close_paren || sscanf(close_paren + 1, " %c %d", &state, &parent) != 2) return false;
    *ppid = (pid_t)parent;
    return true;
}

static bool read_ppid(pid_t pid, pid_t *ppid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    return proctree_stat_ppid(path, ppid);
}

/* Every process's (pid, parent) pair, as /proc lists them now. */
static proc_link_t *read_links(size_t *n)
{
    *n = 0;
    size_t cap = 256;
    proc_link_t *links = xcalloc(cap, sizeof *links);
    DIR *d = opendir("/proc");
    if (!d) return links;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        pid_t ppid;
        if (*end || pid <= 0 || !read_ppid((pid_t)pid, &ppid)) continue;
        if (*n == cap) {
            cap *= 2;
            links = xrealloc(links, cap * sizeof *links);
        }
        links[*n] = (proc_link_t){(pid_t)pid, ppid};
        (*n)++;
    }
    closedir(d);
    return links;
}

/* Whether this process has a child (running, or dead and not yet reaped),
 * asked without reaping it. None means no descendant at all: an orphan of a
 * descendant is re-parented to us (or to a subreaper that is itself our
 * descendant), so every descendant has an ancestor among our children. */
static bool has_children(void)
{
    siginfo_t info;
    return waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0 || errno != ECHILD;
}

/* The pids of every process that descends from us. A few passes settle any
 * order /proc lists them in (a child may be listed before its parent); with
 * no child, /proc (hundreds of processes on a busy agent) is not read. */
static pid_t *list_descendants(size_t *count)
{
    if (!has_children()) {
        *count = 0;
        return xcalloc(1, sizeof(pid_t));
    }
    size_t n;
    proc_link_t *links = read_links(&n);
    pid_t *found = xcalloc(n + 1, sizeof *found);
    bool *in = xcalloc(n + 1, sizeof *in);
    pid_t self = getpid();
    size_t k = 0;
    for (bool grew = true; grew;) {
        grew = false;
        for (size_t i = 0; i < n; i++) {
            if (in[i]) continue;
            bool parent_in = links[i].ppid == self;
            for (size_t j = 0; !parent_in && j < k; j++) parent_in = links[i].ppid == found[j];
            if (parent_in) {
                in[i] = true;
                found[k++] = links[i].pid;
                grew = true;
            }
        }
    }
    free(in);
    free(links);
    *count = k;
    return found;
}

size_t proctree_signal_descendants(int sig)
{
    size_t n;
    pid_t *pids = list_descendants(&n);
    size_t sent = 0;
    for (size_t i = 0; i < n; i++) sent += kill(pids[i], sig) == 0;
    free(pids);
    return sent;
}

static void reap_except(pid_t keep)
{
    size_t n;
    pid_t *pids = list_descendants(&n);
    for (size_t i = 0; i < n; i++)
        if (pids[i] != keep) waitpid(pids[i], NULL, WNOHANG); /* only our direct children succeed */
    free(pids);
}

/* A zombie still appears in /proc until it is reaped, and one we leave
 * behind outlives us as far as kill(pid, 0) is concerned: reap as we look,
 * and count a process as gone only once it has left /proc. */
static size_t remaining_descendants(pid_t keep)
{
    reap_except(keep);
    size_t n, left = 0;
    pid_t *pids = list_descendants(&n);
    for (size_t i = 0; i < n; i++) left += pids[i] != keep;
    free(pids);
    return left;
}

bool proctree_gone_within(double seconds, pid_t keep)
{
    double until = fs_monotonic() + seconds;
    for (;;) {
        if (remaining_descendants(keep) == 0) return true;
        if (fs_monotonic() >= until) return false;
        fs_sleep(0.02);
    }
}

void proctree_kill_all(double grace)
{
    if (proctree_signal_descendants(SIGTERM) == 0) return;
    if (proctree_gone_within(grace, 0)) return;
    /* KILL again until none is left: a shell in a loop may fork between our
     * reading /proc and the signal, and its new child would outlive one KILL. */
    double until = fs_monotonic() + PROCTREE_KILL_WAIT_S;
    do proctree_signal_descendants(SIGKILL);
    while (!proctree_gone_within(0.1, 0) && fs_monotonic() < until);
}
