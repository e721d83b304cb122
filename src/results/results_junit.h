/* results_junit: reads pytest's JUnit XML (--junit-xml / --junitxml) with expat,
 * streaming. <testsuites> or a bare <testsuite> root; <failure> and <error>
 * are failed, <skipped> is skipped. Node ids are rebuilt from classname and
 * name (bktec's rule: the module ends at the last test_* / *_test component).
 * Beyond bktec: pytest writes a collection error as a testcase with an empty
 * classname, the module as the name, and <error message="collection failure">;
 * that is recorded as a collection error naming the file.
 *
 * Each testcase is handed out as a test_record_t with the byte range of its
 * <testcase> element in the file and its time attribute, so the uploader can
 * cut a large file into documents that keep every testcase's bytes, and the
 * durations artifact gets every test's time, without the file in memory.
 *
 * Hostile input: a failure message or body keeps its first TEXT_KEEP
 * bytes (with a note that it was cut); a testcase whose classname or name is
 * over RESULTS_JUNIT_MAX_ID bytes is skipped with a warning (at most
 * RESULTS_JUNIT_MAX_WARNINGS per file, then a count); a <testcase> nested in another
 * is ignored and counted (warnings go to the caller's warn_fn: this module
 * never prints); reading stays linear in the file size however large
 * one tag is, and a tag over RESULTS_JUNIT_MAX_TOKEN bytes is an error. A file
 * that declares an entity is an error (pytest never writes one; this stops
 * entity amplification, "billion laughs", on every expat version, including
 * those without a limit of their own), and no external entity is loaded. */
#ifndef TEP_RESULTS_JUNIT_H
#define TEP_RESULTS_JUNIT_H
#include <stdbool.h>
#include "base/err.h"
#include "base/text.h"
#include "results/results_model.h"

#define RESULTS_JUNIT_MAX_ID       (64 * 1024)
#define RESULTS_JUNIT_MAX_WARNINGS 5
#define RESULTS_JUNIT_MAX_TOKEN    ((size_t)256 << 20)

typedef struct {
    size_t testcases;
    /* NULL when the file was read to its end, else why not (one line). The
     * caller frees it. */
    char *error;
} results_junit_scan_t;

/* Calls fn for every outermost <testcase>, in order: a usable record with its
 * fields, or one with rec->problem set (only start/end meaningful). With
 * `warn` (may be NULL), hands it a line for what is skipped or ignored (the
 * run phase warns, later readers do not). */
void results_junit_read_records(const char *path, record_fn fn, void *user, warn_fn warn,
                                void *warn_user, results_junit_scan_t *out);
/* Largest single tag accepted (0: RESULTS_JUNIT_MAX_TOKEN); tests lower it. */
void results_junit_set_max_token(size_t bytes);

/* "tests.test_auth.TestLogin" + "test_ok" -> "tests/test_auth.py::TestLogin::test_ok". Caller
 * frees. */
char *results_junit_node_id(const char *classname, const char *name);
/* "tests.test_import_error" -> "tests/test_import_error.py". Caller frees. */
char *results_junit_module_path(const char *dotted);
/* How much of a testcase's bytes results_junit_case_name needs at most: its
 * start tag, names included. */
#define RESULTS_JUNIT_NAME_READ ((size_t)256 << 10)
/* "classname::name" (each cut to 200 bytes; the name alone when the
 * classname is empty) of the <testcase> element that bytes start with, for a
 * message about it; NULL when its start tag cannot be read. Caller frees. */
char *results_junit_case_name(const char *bytes, size_t len);
/* The value of attribute key in expat's name/value list, or NULL. */
const char *results_junit_attr(const char **atts, const char *key);

#endif
