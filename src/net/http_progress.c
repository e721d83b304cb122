#include "net/http_progress.h"
#include "base/fs.h"
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <string.h>
#include <unistd.h>

/* Bytes the peer has taken: what curl sent minus what still waits in our
 * socket's send queue. curl's own count (and its low-speed check) sees bytes
 * handed to the kernel, and a socket buffer can swallow megabytes, a whole
 * batch, at once: after that a moving upload would look stalled, and a stalled
 * one moving. */
static curl_off_t bytes_taken(curl_socket_t fd, curl_off_t ulnow)
{
    int queued = 0;
    if (fd == CURL_SOCKET_BAD || ioctl(fd, SIOCOUTQ, &queued) != 0) return ulnow; /* no telling */
    /* The queue holds TLS records, a little larger than the bytes curl
     * counts: a queue as large as everything sent means nothing was taken
     * yet (never "all of it": the answer's clock must not start then). */
    return queued <= 0 ? ulnow : queued < ulnow ? ulnow - queued : 0;
}

/* The connection's socket, for bytes_taken: curl tells its info API about it
 * only after a transfer, so we note it when curl creates and closes it. */
int http_progress_socket_opened(void *user, curl_socket_t fd, curlsocktype purpose)
{
    if (purpose == CURLSOCKTYPE_IPCXN) *(curl_socket_t *)user = fd;
    return CURL_SOCKOPT_OK;
}

int http_progress_socket_closed(void *user, curl_socket_t fd)
{
    curl_socket_t *noted = user;
    if (*noted == fd) *noted = CURL_SOCKET_BAD;
    return close(fd);
}

void http_progress_init(http_progress_t *w, const curl_socket_t *fd, http_stop_fn stop,
                        long stall_s)
{
    memset(w, 0, sizeof *w);
    w->fd = fd;
    w->stop = stop;
    w->stall_s = stall_s;
}

int http_progress_callback(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                           curl_off_t ulnow)
{
    (void)dltotal;
    http_progress_t *w = user;
    if (w->stop && !w->stopped_by) w->stopped_by = w->stop();
    if (w->stopped_by) return 1; /* non-zero aborts with CURLE_ABORTED_BY_CALLBACK */
    if (!w->stall_s) return 0;
    double now = fs_monotonic();
    curl_off_t taken = bytes_taken(*w->fd, ulnow);
    curl_off_t moved = dlnow + taken;
    /* The whole request is with the peer: its answer has stall_s to end,
     * however many bytes it trickles meanwhile. */
    if (ultotal > 0 && taken >= ultotal && w->sent_at == 0) w->sent_at = now;
    if (w->sent_at > 0 && now - w->sent_at >= (double)w->stall_s) {
        w->stalled = w->answer_late = true;
        return 1;
    }
    if (w->last_move == 0) {
        w->moved = moved;
        w->window_bytes = moved;
        w->last_move = now;
        w->window_start = now;
    }
    if (moved != w->moved) {
        w->moved = moved;
        w->last_move = now;
    } else if (now - w->last_move >= (double)w->stall_s) {
        w->stalled = true;
        return 1;
    }
    if (now - w->window_start >= (double)w->stall_s) {
        w->stalled =
            moved - w->window_bytes < (curl_off_t)(HTTP_LOW_SPEED_BYTES * (now - w->window_start));
        if (w->stalled) return 1;
        w->window_bytes = moved;
        w->window_start = now;
    }
    return 0;
}
