/* The test-file list a pipeline writes for BUILDKITE_TEST_ENGINE_FILES (often
 * `git diff --name-only`): plan_discover_read_list on any bytes. Invariants:
 * a list read holds at least one name, each one non-empty line without
 * white space at either end, no more names than lines; a file holding a NUL
 * byte is refused as not text; a refusal is one line naming the file. */
#include "fuzz_util.h"
#include "plan/plan_discover.h"
#include <ctype.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    size_t lines = 1;
    for (size_t i = 0; i < size; i++) lines += data[i] == '\n';
    strlist_t files = STRLIST_INIT;
    char *err = NULL;
    bool ok = plan_discover_read_list(path, &files, &err);
    if (!ok) {
        FUZZ_CHECK(files.len == 0 && fuzz_one_line(err) && strstr(err, path) != NULL);
        free(err);
        return 0;
    }
    FUZZ_CHECK(err == NULL && files.len >= 1 && files.len <= lines);
    FUZZ_CHECK(size == 0 || memchr(data, '\0', size) == NULL);
    for (size_t i = 0; i < files.len; i++) {
        const char *f = files.items[i];
        size_t n = strlen(f);
        FUZZ_CHECK(n > 0 && !strchr(f, '\n'));
        FUZZ_CHECK(!isspace((unsigned char)f[0]) && !isspace((unsigned char)f[n - 1]));
    }
    strlist_free(&files);
    return 0;
}
