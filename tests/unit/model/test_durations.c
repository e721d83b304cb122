/* Durations files with NaN, infinities, absurd and out-of-range values: each
 * entry is refused with a warning naming the file and key or line, and the
 * fallback plan built from what is left stays finite. */
#include "unit.h"
#include "base/buf.h"
#include "model/durations.h"
#include "base/fs.h"
#include "scratch.h"
#include "warn_lines.h"
#include "plan/plan_fallback.h"
#include <math.h>
#include <stdio.h>
#include <unistd.h>

typedef struct {
    bool ok;
    durations_t d;
    char *err;
    char *warnings; /* what went to stderr */
    size_t lines;
} loaded_t;

typedef struct {
    const char *path;
    loaded_t *out;
} load_call_t;

static void load_call(void *arg)
{
    load_call_t *c = arg;
    /* bad entries shown as plan shows them */
    c->out->ok = durations_load(c->path, warn_to_stderr, NULL, &c->out->d, &c->out->err);
}

static void load_text(const char *text, loaded_t *out)
{
    char *path = scratch_file("tep-dur", text, strlen(text));
    out->err = NULL;
    load_call_t c = {.path = path, .out = out};
    out->warnings = scratch_stderr(load_call, &c, &out->lines);
    unlink(path);
    free(path);
}

static void loaded_free(loaded_t *l)
{
    if (l->ok) durations_free(&l->d);
    free(l->err);
    free(l->warnings);
}

static void json_refuses_non_finite_and_absurd(void **state)
{
    (void)state;
    loaded_t l;
    load_text(
        "{\"a.py::t\": 1e999, \"b.py\": -1, \"c.py::x\": 2.5, \"c.py::y\": 0.5, \"d.py\": \"3\","
        " \"e.py\": 1e308, \"::x\": 1}",
        &l);
    assert_true(l.ok);
    assert_int_equal(l.d.len, 1);
    assert_float_equal(durations_get(&l.d, "c.py"), 3.0, 1e-9);
    assert_true(durations_get(&l.d, "a.py") < 0);
    assert_true(durations_get(&l.d, "e.py") < 0);
    assert_int_equal(l.lines, 5);
    assert_non_null(
        strstr(l.warnings, "key 'a.py::t': value is not a finite number; entry ignored"));
    assert_non_null(strstr(l.warnings, "key 'b.py': value is negative"));
    assert_non_null(strstr(l.warnings, "key 'd.py': value is not a number of seconds"));
    assert_non_null(strstr(l.warnings, "key 'e.py': value is longer than a week"));
    assert_non_null(strstr(l.warnings, "key '::x': the key has no file part"));
    assert_non_null(strstr(l.warnings, "/tmp/tep-dur-")); /* names the file */
    loaded_free(&l);
}

static void warnings_stay_on_one_line(void **state)
{
    (void)state;
    loaded_t l;
    load_text("{\"a.py\\n\\u001b[31mforged: ok\": -1}", &l);
    assert_true(l.ok);
    assert_int_equal(l.lines, 1);
    assert_non_null(strstr(l.warnings, "key 'a.py??[31mforged: ok': value is negative"));
    loaded_free(&l);
}

static void lines_refuse_non_finite_and_absurd(void **state)
{
    (void)state;
    loaded_t l;
    load_text("nan a.py\ninf b.py\n-Infinity c.py\n1e400 d.py\n1e308 e.py\n2 f.py\n1e-400 g.py\n# "
              "comment\n\n-3 h.py\n",
              &l);
    assert_true(l.ok);
    assert_int_equal(l.d.len, 2);
    assert_float_equal(durations_get(&l.d, "f.py"), 2.0, 1e-9);
    assert_float_equal(durations_get(&l.d, "g.py"), 0.0, 1e-9); /* underflow is just zero */
    assert_int_equal(l.lines, 6); /* five named, then the count of the rest */
    assert_non_null(strstr(l.warnings, "line 1: seconds is not a finite number; entry ignored"));
    assert_non_null(strstr(l.warnings, "line 4: seconds is not a finite number"));
    assert_non_null(strstr(l.warnings, "line 5: seconds is longer than a week"));
    assert_non_null(strstr(l.warnings, "1 more entries ignored"));
    loaded_free(&l);
}

static void malformed_lines_are_still_an_error(void **state)
{
    (void)state;
    const char *bad[] = {"0x10 a.py\n", "1.5\n",        "abc a.py\n",
                         "1,5 a.py\n",  "1e5e5 a.py\n", ". a.py\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        loaded_t l;
        load_text(bad[i], &l);
        if (l.ok) fail_msg("'%s' was accepted", bad[i]);
        assert_non_null(strstr(l.err, "line 1: expected '<seconds> <path>'"));
        loaded_free(&l);
    }
}

static void fallback_plan_stays_finite(void **state)
{
    (void)state;
    loaded_t l;
    load_text("{\"a.py\": 1e308, \"b.py\": 1e308, \"c.py\": 3, \"d.py\": 1}", &l);
    assert_true(l.ok);
    strlist_t files = STRLIST_INIT;
    const char *names[] = {"a.py", "b.py", "c.py", "d.py", "e.py"};
    for (int i = 0; i < 5; i++) strlist_push(&files, names[i]);
    plan_t p;
    plan_init(&p, 2);
    plan_fallback(&p, &files, &l.d);
    for (long j = 0; j < 2; j++) assert_true(isfinite(p.tasks[j].estimated_s));
    assert_true(isfinite(p.lower_bound_s));
    assert_true(p.lower_bound_s > 0);
    /* known c=3, d=1; unknown a, b, e count as the mean, 2: total 10, bound 5 */
    assert_float_equal(p.lower_bound_s, 5.0, 1e-9);
    plan_free(&p);
    strlist_free(&files);
    loaded_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_refuses_non_finite_and_absurd),
        cmocka_unit_test(warnings_stay_on_one_line),
        cmocka_unit_test(lines_refuse_non_finite_and_absurd),
        cmocka_unit_test(malformed_lines_are_still_an_error),
        cmocka_unit_test(fallback_plan_stays_finite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
