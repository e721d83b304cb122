/* warncap: the first `max` warnings named, the rest counted; lines go to the
 * phase's warn_fn, and with none they are still counted but go nowhere. */
#include "unit.h"
#include "base/strlist.h"
#include "warn_lines.h"
#include "base/warncap.h"

static void names_max_then_counts(void **state)
{
    (void)state;
    strlist_t lines = STRLIST_INIT;
    warncap_t w = {.fn = warn_to_list, .user = &lines, .max = 2};
    for (int i = 1; i <= 5; i++)
        if (warncap_next(&w)) warncap_say(&w, "bad record %d", i);
    assert_int_equal(w.shown, 2);
    assert_int_equal(w.more, 3);
    warncap_say(&w, "%zu more (%zu shown)", w.more, w.shown); /* a total is never capped */
    assert_int_equal(lines.len, 3);
    assert_string_equal(lines.items[0], "bad record 1");
    assert_string_equal(lines.items[1], "bad record 2");
    assert_string_equal(lines.items[2], "3 more (2 shown)");
    strlist_free(&lines);
}

static void without_a_warn_fn_it_still_counts(void **state)
{
    (void)state;
    warncap_t w = {.max = 1};
    assert_true(warncap_next(&w));
    warncap_say(&w, "goes nowhere %s", "at all");
    assert_false(warncap_next(&w));
    assert_false(warncap_next(&w));
    assert_int_equal(w.shown, 1);
    assert_int_equal(w.more, 2);
}

static void a_cap_of_zero_names_none(void **state)
{
    (void)state;
    strlist_t lines = STRLIST_INIT;
    warncap_t w = {.fn = warn_to_list, .user = &lines};
    assert_false(warncap_next(&w));
    assert_int_equal(w.more, 1);
    assert_int_equal(lines.len, 0);
    strlist_free(&lines);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_max_then_counts),
        cmocka_unit_test(without_a_warn_fn_it_still_counts),
        cmocka_unit_test(a_cap_of_zero_names_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
