/* http_progress: the rules curl's progress callback applies during a
 * transfer: a stop request aborts at once; without progress rules nothing
 * else does; with them, a stall (no byte taken for stall_s) or a trickle
 * (under HTTP_LOW_SPEED_BYTES a second over stall_s) cuts the transfer, and
 * a transfer that keeps moving is left alone. Real time, ~3 s in all. */
#include "unit.h"
#include "base/fs.h"
#include "net/http.h"
#include "net/http_progress.h"

static int stop_signal;
static int stop_requested(void)
{
    return stop_signal;
}

static int poll_at(http_progress_t *w, curl_off_t down, curl_off_t up)
{
    return http_progress_callback(w, 0, down, 0, up);
}

static void a_stop_request_aborts(void **state)
{
    (void)state;
    curl_socket_t fd = CURL_SOCKET_BAD;
    http_progress_t w;
    http_progress_init(&w, &fd, stop_requested, 0);
    stop_signal = 0;
    assert_int_equal(poll_at(&w, 0, 0), 0);
    stop_signal = 15;
    assert_int_not_equal(poll_at(&w, 0, 0), 0);
    assert_int_equal(w.stopped_by, 15);
    stop_signal = 0; /* remembered: the transfer stays aborted */
    assert_int_not_equal(poll_at(&w, 0, 0), 0);
    assert_false(w.stalled);
}

static void no_rules_no_cut(void **state)
{
    (void)state;
    curl_socket_t fd = CURL_SOCKET_BAD;
    http_progress_t w;
    http_progress_init(&w, &fd, NULL, 0);
    assert_int_equal(poll_at(&w, 0, 0), 0);
    fs_sleep(1.1);
    assert_int_equal(poll_at(&w, 0, 0), 0); /* nothing moved, and that is fine */
}

static void a_stall_is_cut(void **state)
{
    (void)state;
    curl_socket_t fd = CURL_SOCKET_BAD;
    http_progress_t w;
    http_progress_init(&w, &fd, NULL, 1);
    double t0 = fs_monotonic();
    assert_int_equal(poll_at(&w, 0, 5000), 0);
    fs_sleep(0.5);
    int early = poll_at(&w, 0, 5000);
    if (fs_monotonic() - t0 < 0.9)
        assert_int_equal(early, 0); /* not yet stall_s (unless slept long) */
    fs_sleep(0.6);
    assert_int_not_equal(poll_at(&w, 0, 5000), 0);
    assert_true(w.stalled);
}

static void a_trickle_is_cut_and_a_flow_is_not(void **state)
{
    (void)state;
    curl_socket_t fd = CURL_SOCKET_BAD;
    http_progress_t slow;
    http_progress_t fast;
    http_progress_init(&slow, &fd, NULL, 1);
    http_progress_init(&fast, &fd, NULL, 1);
    assert_int_equal(poll_at(&slow, 0, 0), 0);
    assert_int_equal(poll_at(&fast, 0, 0), 0);
    fs_sleep(1.05);
    /* Both moved; one far below 1 KiB/s, one far above. */
    assert_int_not_equal(poll_at(&slow, 100, 0), 0);
    assert_true(slow.stalled);
    assert_int_equal(poll_at(&fast, 0, 1 << 20), 0);
    assert_false(fast.stalled);
}

/* Once the peer has taken the whole request, the answer has stall_s to end,
 * however many bytes it moves meanwhile (a gzip body of empty blocks moved
 * 2 KiB/s for ever and held report 150 s and more). Before the request is
 * taken, moving bytes keep a transfer going. */
static void an_answer_that_does_not_end_is_cut(void **state)
{
    (void)state;
    curl_socket_t fd = CURL_SOCKET_BAD;
    http_progress_t w;
    http_progress_init(&w, &fd, NULL, 1);
    assert_int_equal(http_progress_callback(&w, 0, 0, 5000, 2000), 0);
    assert_int_equal(http_progress_callback(&w, 0, 0, 5000, 5000),
                     0); /* all sent: the clock runs */
    fs_sleep(0.6);
    assert_int_equal(http_progress_callback(&w, 0, 4000, 5000, 5000), 0); /* moving, well above */
    fs_sleep(0.6);
    assert_int_not_equal(http_progress_callback(&w, 0, 8000, 5000, 5000), 0);
    assert_true(w.stalled);
    assert_true(w.answer_late);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_stop_request_aborts),
        cmocka_unit_test(no_rules_no_cut),
        cmocka_unit_test(a_stall_is_cut),
        cmocka_unit_test(a_trickle_is_cut_and_a_flow_is_not),
        cmocka_unit_test(an_answer_that_does_not_end_is_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
