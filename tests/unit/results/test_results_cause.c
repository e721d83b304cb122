/* results_cause: the cause of a failure text. The texts are real pytest
 * 7.2.1 output (conformance run, collector 1.8.0 and JUnit), copied here. */
#include "results/results_cause.h"
#include "unit.h"
#include "base/buf.h"

/* failure_reason + failure_expanded of the collector's record (and, line for
 * line, the body of JUnit's <error message="collection failure">). */
static const char IMPORT_ERROR[] =
    "ImportError while importing test module '/builds/acme/shop/tests/test_import_error.py'.\n"
    "Hint: make sure your test modules/packages have valid Python names.\n"
    "Traceback:\n"
    "/usr/lib/python3.11/importlib/__init__.py:126: in import_module\n"
    "    return _bootstrap._gcd_import(name[level:], package, level)\n"
    "tests/test_import_error.py:1: in <module>\n"
    "    from missing_module_for_collection import thing\n"
    "E   ModuleNotFoundError: No module named 'missing_module_for_collection'";

static const char SYNTAX_ERROR[] =
    "/usr/lib/python3/dist-packages/_pytest/python.py:618: in _importtestmodule\n"
    "    mod = import_path(self.path, mode=importmode, root=self.config.rootpath)\n"
    "/usr/lib/python3/dist-packages/_pytest/pathlib.py:533: in import_path\n"
    "    importlib.import_module(module_name)\n"
    "<frozen importlib._bootstrap>:1206: in _gcd_import\n"
    "    ???\n"
    "/usr/lib/python3.11/ast.py:50: in parse\n"
    "    return compile(source, filename, mode, flags,\n"
    "E     File \"/builds/acme/shop/tests/test_syntax_error.py\", line 1\n"
    "E       def test_broken(:\n"
    "E                       ^\n"
    "E   SyntaxError: invalid syntax";

static void expect_cause(const char *text, const char *file, const char *want)
{
    char *got = results_cause_of(text, file);
    if (!want) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void collection_error_causes(void **state)
{
    (void)state;
    expect_cause(IMPORT_ERROR, "tests/test_import_error.py",
                 "ModuleNotFoundError: No module named 'missing_module_for_collection'");
    expect_cause(SYNTAX_ERROR, "tests/test_syntax_error.py",
                 "SyntaxError: invalid syntax (tests/test_syntax_error.py, line 1)");
    /* A file the run does not know keeps pytest's path. */
    expect_cause(
        SYNTAX_ERROR, NULL,
        "SyntaxError: invalid syntax (/builds/acme/shop/tests/test_syntax_error.py, line 1)");
    expect_cause(
        SYNTAX_ERROR, "other.py",
        "SyntaxError: invalid syntax (/builds/acme/shop/tests/test_syntax_error.py, line 1)");
    /* CRLF line ends change nothing. */
    expect_cause("x.py:1: in <module>\r\n    boom()\r\nE   RuntimeError: boom at import\r\n", NULL,
                 "RuntimeError: boom at import");
}

static void texts_cut_short(void **state)
{
    (void)state;
    /* What the parsers keep on their own: the first line. The best there is. */
    expect_cause("ImportError while importing test module '/b/tests/test_import_error.py'.", NULL,
                 "ImportError while importing test module '/b/tests/test_import_error.py'.");
    /* Frames only (the E lines were cut off): the first line that says
     * something, else the first line. */
    expect_cause("/usr/lib/python3/dist-packages/_pytest/python.py:618: in _importtestmodule", NULL,
                 "/usr/lib/python3/dist-packages/_pytest/python.py:618: in _importtestmodule");
    expect_cause("Hint: x\nTraceback:\n/a.py:1: in f\n    ???\nimport file mismatch:\n", NULL,
                 "import file mismatch:");
    expect_cause(NULL, NULL, NULL);
    expect_cause("", NULL, NULL);
}

static void other_shapes(void **state)
{
    (void)state;
    /* Chained exceptions: the one that ended the traceback. */
    expect_cause("test_chain.py:2: in <module>\n    import nosuch\nE   ModuleNotFoundError: No "
                 "module named 'nosuch'\n\n"
                 "During handling of the above exception, another exception occurred:\n"
                 "test_chain.py:4: in <module>\n    raise ValueError(\"wrapped\\nsecond line\")\n"
                 "E   ValueError: wrapped\nE   second line",
                 NULL, "ValueError: wrapped");
    /* A module-level pytest.skip: no traceback, the message is the cause. */
    expect_cause("Using pytest.skip outside of a test will skip the entire module. If that's your "
                 "intention, pass "
                 "`allow_module_level=True`.",
                 NULL,
                 "Using pytest.skip outside of a test will skip the entire module. If that's your "
                 "intention, pass "
                 "`allow_module_level=True`.");
    /* The code line above a SyntaxError can look like "name: value". */
    expect_cause("E     File \"/w/t.py\", line 3\nE       x: int = (\nE               ^\nE   "
                 "SyntaxError: '(' was never closed",
                 "t.py", "SyntaxError: '(' was never closed (t.py, line 3)");
    expect_cause(
        "E     File \"/w/t.py\", line 2\nE       pass\nE   IndentationError: unexpected indent",
        "t.py", "IndentationError: unexpected indent (t.py, line 2)");
    /* Dotted and bare exception names; assertion detail lines are not causes. */
    expect_cause("E   assert 1 == 2\nE   pkg.errors.ConfigError: bad value", NULL,
                 "pkg.errors.ConfigError: bad value");
    expect_cause("t.py:1: in <module>\n    raise KeyError\nE   KeyError", NULL, "KeyError");
    /* No exception line in the block: its last line. */
    expect_cause("E   something odd\nE   happened here", NULL, "happened here");
    /* An ordinary failure message is its own cause. */
    expect_cause("AssertionError: value mismatch", NULL, "AssertionError: value mismatch");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(collection_error_causes),
        cmocka_unit_test(texts_cut_short),
        cmocka_unit_test(other_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
