/* http_progress: what http.c has curl watch during one transfer (internal to
 * the HTTP client).
 *
 * curl polls the progress callback at least once a second even when no byte
 * moves: the place to notice a stop request and, for progress-limited
 * clients, a stall (nothing taken by the peer for stall_s seconds), a
 * trickle (less than HTTP_LOW_SPEED_BYTES a second over a window of stall_s
 * seconds), or an answer that does not end within stall_s seconds of the
 * peer taking the whole request (a gzip body of empty blocks moves bytes
 * forever and decodes to nothing). Progress counts bytes the peer took, not bytes handed to the
 * kernel (see http.h), so the connection's socket is noted as curl opens and
 * closes it. */
#ifndef TEP_HTTP_PROGRESS_H
#define TEP_HTTP_PROGRESS_H
#include <curl/curl.h>
#include <stdbool.h>

/* Bytes per second below which a transfer counts as trickling. */
#define HTTP_LOW_SPEED_BYTES 1024L

/* Returns a signal number (non-zero) when the caller wants everything stopped. */
typedef int (*http_stop_fn)(void);

typedef struct {
    const curl_socket_t *fd; /* the connection's socket, noted by the socket callbacks */
    http_stop_fn stop;
    int stopped_by;
    long stall_s;     /* 0: no progress rules */
    curl_off_t moved; /* bytes taken up + received, at the last change */
    double last_move; /* when that changed */
    curl_off_t window_bytes;
    double window_start;
    double sent_at;   /* when the peer had taken the whole request; 0: not yet */
    bool stalled;     /* the transfer was cut as stalled, trickling or answering late */
    bool answer_late; /* ... because the answer did not end within stall_s of sent_at */
} http_progress_t;

void http_progress_init(http_progress_t *w, const curl_socket_t *fd, http_stop_fn stop,
                        long stall_s);
/* CURLOPT_XFERINFOFUNCTION with an http_progress_t: non-zero cuts the transfer. */
int http_progress_callback(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                           curl_off_t ulnow);
/* CURLOPT_SOCKOPTFUNCTION / CLOSESOCKETFUNCTION with a curl_socket_t to note
 * the connection's socket in. */
int http_progress_socket_opened(void *user, curl_socket_t fd, curlsocktype purpose);
int http_progress_socket_closed(void *user, curl_socket_t fd);

#endif
