/* run_classify: how the exit codes of a run split over several pytest
 * invocations combine, and the exit status of a run's outcome. */
#include "unit.h"
#include "run/run_classify.h"

static void combined_exit_codes(void **state)
{
    (void)state;
    assert_int_equal(run_classify_combine_exit(-1, 5), 5);
    assert_int_equal(run_classify_combine_exit(5, 5), 5); /* nothing collected anywhere */
    assert_int_equal(run_classify_combine_exit(5, 0), 0); /* one run collected tests: not 5 */
    assert_int_equal(run_classify_combine_exit(0, 5), 0);
    assert_int_equal(run_classify_combine_exit(0, 1), 1);
    assert_int_equal(run_classify_combine_exit(1, 0), 1);
    assert_int_equal(run_classify_combine_exit(1, 2),
                     2); /* collection error anywhere: interrupted */
    assert_int_equal(run_classify_combine_exit(2, 1), 2);
    assert_int_equal(run_classify_combine_exit(2, 3), 3);
    assert_int_equal(run_classify_combine_exit(3, 4), 4);
    assert_int_equal(run_classify_combine_exit(4, 0), 4);
    assert_int_equal(run_classify_combine_exit(0, 127), 127);
}

static void statuses(void **state)
{
    (void)state;
    config_t cfg = {.failure_exit_status = 1, .terminal_exit_status = 65, .config_exit_status = 78};
    bool terminal;
    outcome_t timeout = {.signal = 15, .timed_out = true, .failed = 3};
    assert_int_equal(run_classify(&cfg, &timeout, &terminal), 143);
    assert_false(terminal);
    outcome_t coll = {.last_exit = 1, .collection_errors = 1, .failed = 2};
    assert_int_equal(run_classify(&cfg, &coll, &terminal), 65);
    assert_true(terminal);
    outcome_t split_fail = {.last_exit = run_classify_combine_exit(0, 1), .failed = 1};
    assert_int_equal(run_classify(&cfg, &split_fail, &terminal), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(combined_exit_codes),
        cmocka_unit_test(statuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
