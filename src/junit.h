/* junit: reads pytest's JUnit XML (--junit-xml / --junitxml) with expat,
 * streaming. <testsuites> or a bare <testsuite> root; <failure> and <error>
 * are failed, <skipped> is skipped. Node ids are rebuilt from classname and
 * name (bktec's rule: the module ends at the last test_* / *_test component).
 * Beyond bktec: pytest writes a collection error as a testcase with an empty
 * classname, the module as the name, and <error message="collection failure">;
 * that is recorded as a collection error naming the file.
 *
 * Hostile input: a failure message or body keeps its first TEP_TEXT_KEEP
 * bytes (with a note that it was cut); a testcase whose classname or name is
 * over JUNIT_MAX_ID bytes is skipped with a warning (at most
 * JUNIT_MAX_WARNINGS per file, then a count); a <testcase> nested in another
 * is ignored and counted; reading stays linear in the file size however large
 * one tag is, and a tag over JUNIT_MAX_TOKEN bytes is an error. expat itself
 * refuses entity amplification ("billion laughs") and loads no external entity. */
#ifndef TEP_JUNIT_H
#define TEP_JUNIT_H
#include <stdbool.h>
#include "result.h"

#define JUNIT_MAX_ID (64 * 1024)
#define JUNIT_MAX_WARNINGS 5
#define JUNIT_MAX_TOKEN ((size_t)256 << 20)

typedef struct {
    size_t testcases;
    bool ok;
    char error[256];
} junit_scan_t;

void junit_read_results(const char *path, run_result_t *r, junit_scan_t *out);
/* Largest single tag accepted (0: JUNIT_MAX_TOKEN); tests lower it. */
void junit_set_max_token(size_t bytes);

/* Byte ranges of the <testcase> elements of a JUnit document in memory, so a
 * large file can be uploaded in batches that reuse its exact bytes. */
typedef struct {
    size_t *start, *end;   /* [start, end) per testcase */
    size_t len;
} junit_cases_t;

bool junit_case_ranges(const char *data, size_t len, junit_cases_t *out, char **err);
void junit_cases_free(junit_cases_t *c);
/* "tests.test_auth.TestLogin" + "test_ok" -> "tests/test_auth.py::TestLogin::test_ok". Caller frees. */
char *junit_node_id(const char *classname, const char *name);
/* "tests.test_import_error" -> "tests/test_import_error.py". Caller frees. */
char *junit_module_path(const char *dotted);

#endif
