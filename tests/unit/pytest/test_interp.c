/* interp: which Python runs the test command. */
#include "unit.h"
#include "fake_agent.h"
#include "pytest/interp.h"
#include "config/template.h"
#include "base/fs.h"
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static void argv_is(const strlist_t *argv, const char *const *want, size_t n)
{
    assert_int_equal(argv->len, n);
    for (size_t i = 0; i < n; i++) assert_string_equal(argv->items[i], want[i]);
}

static void shebang_is(const char *head, const char *const *want, size_t n)
{
    strlist_t argv;
    strlist_init(&argv);
    assert_true(interp_from_shebang(head, &argv));
    argv_is(&argv, want, n);
    strlist_free(&argv);
}

static void shebangs(void **state)
{
    (void)state;
    const char *plain[] = {"/usr/bin/python3"};
    shebang_is("#!/usr/bin/python3\nimport sys\n", plain, 1);
    const char *with_opt[] = {"/opt/venv/bin/python", "-I"};
    shebang_is("#! /opt/venv/bin/python -I\r\nx", with_opt, 2);
    const char *env[] = {"python3.11", "-u"};
    shebang_is("#!/usr/bin/env -S PYTHONUTF8=1 python3.11 -u\n", env, 2);
    const char *trampoline[] = {"/a/very long/path/bin/python3"};
    shebang_is("#!/bin/sh\n'''exec' \"/a/very long/path/bin/python3\" \"$0\" \"$@\"\n' '''\n",
               trampoline, 1);
    const char *pypy[] = {"/usr/bin/pypy3"};
    shebang_is("#!/usr/bin/pypy3\n", pypy, 1);
}

static void not_python(void **state)
{
    (void)state;
    const char *heads[] = {"#!/bin/bash\nexec pytest \"$@\"\n", "#!/usr/bin/env node\n",
                           ("\x7f"
                            "ELF\x02\x01"),
                           "", "#!/bin/sh\necho\n"};
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        strlist_t argv;
        strlist_init(&argv);
        assert_false(interp_from_shebang(heads[i], &argv));
        assert_int_equal(argv.len, 0);
        strlist_free(&argv);
    }
}

/* interp_of_words on a command as the user writes it (split first, as the
 * run phase does). */
static void interp_of_text(const char *command, interp_t *it)
{
    strlist_t words;
    strlist_init(&words);
    char *err = NULL;
    assert_true(template_split(command, &words, &err));
    interp_of_words(&words, it);
    strlist_free(&words);
}

static void commands_naming_python(void **state)
{
    (void)state;
    interp_t it;
    interp_of_text("/usr/bin/python3 -X dev -m pytest -p xdist {{testExamples}}", &it);
    const char *want[] = {"/usr/bin/python3", "-X", "dev"};
    argv_is(&it.argv, want, 3);
    assert_true(it.runs_pytest);
    interp_free(&it);
    interp_of_text("python3 run_my_tests.py {{testExamples}}", &it);
    const char *script[] = {"python3"};
    argv_is(&it.argv, script, 1);
    assert_false(it.runs_pytest); /* a script may find pytest its own way */
    interp_free(&it);
}

static void commands_naming_a_script(void **state)
{
    (void)state;
    fake_bin_t bin;
    fake_bin_open(&bin, "tep-interp");
    fake_bin_script(&bin, "pytest", "#!/usr/bin/python3\nimport pytest\n");
    fake_bin_script(&bin, "coverage", "#!/usr/bin/env python3\n");
    fake_bin_script(&bin, "wrap", "#!/bin/sh\nexec pytest \"$@\"\n");
    setenv("PATH", bin.dir, 1); /* the fakes alone: nothing else is found */
    interp_t it;
    interp_of_text("pytest -x {{testExamples}}", &it); /* found on PATH */
    assert_int_equal(it.argv.len, 1);
    assert_string_equal(it.argv.items[0], "/usr/bin/python3");
    assert_true(it.runs_pytest);
    interp_free(&it);
    interp_of_text("coverage run -m pytest {{testExamples}}", &it);
    assert_string_equal(it.argv.items[0], "python3");
    assert_true(it.runs_pytest);
    interp_free(&it);
    interp_of_text("wrap {{testExamples}}", &it);
    assert_int_equal(it.argv.len, 0);
    assert_non_null(strstr(it.why_unknown, "is not a Python script"));
    interp_free(&it);
    interp_of_text("no-such-thing {{testExamples}}", &it);
    assert_string_equal(it.why_unknown, "'no-such-thing' is not on PATH");
    interp_free(&it);
    fake_bin_close(&bin);
}

/* The same answers from words split once by the caller. */
static void from_words(void **state)
{
    (void)state;
    strlist_t words;
    strlist_init(&words);
    strlist_push(&words, "python3");
    strlist_push(&words, "-X");
    strlist_push(&words, "dev");
    strlist_push(&words, "-m");
    strlist_push(&words, "pytest");
    interp_t it;
    interp_of_words(&words, &it);
    assert_int_equal(it.argv.len, 3);
    assert_string_equal(it.argv.items[2], "dev");
    assert_true(it.runs_pytest);
    assert_null(it.why_unknown);
    interp_free(&it);
    strlist_clear(&words);
    strlist_push(&words, "/nonexistent/tep-bin/pytest");
    interp_of_words(&words, &it);
    assert_int_equal(it.argv.len, 0);
    assert_non_null(strstr(it.why_unknown, "is not a Python script"));
    interp_free(&it);
    strlist_free(&words);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shebangs),
        cmocka_unit_test(not_python),
        cmocka_unit_test(commands_naming_python),
        cmocka_unit_test(commands_naming_a_script),
        cmocka_unit_test(from_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
