/* The command template splitter and expander. Input: template, then after a
 * NUL byte one test example. Invariants: success gives words and no error,
 * failure gives an error; an expansion holds the example verbatim. */
#include "fuzz_util.h"
#include "config/template.h"
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *tmpl, *example;
    fuzz_split(data, size, '\0', &tmpl, &example);
    strlist_t words = STRLIST_INIT;
    char *err = NULL;
    bool ok = template_split(tmpl, &words, &err);
    FUZZ_CHECK(ok ? (words.len > 0 && err == NULL) : err != NULL);
    free(err);
    err = NULL;

    strlist_t examples = STRLIST_INIT, argv = STRLIST_INIT;
    strlist_push(&examples, example);
    strlist_push(&examples, "tests/test_a.py::test[a b]");
    if (template_expand(tmpl, &examples, "/tmp/results.json", &argv, &err)) {
        FUZZ_CHECK(ok);
        FUZZ_CHECK(strlist_contains(&argv, example));
    }
    free(err);
    err = NULL;
    strlist_t launcher = STRLIST_INIT;
    bool lok = template_launcher(tmpl, &launcher, &err);
    FUZZ_CHECK(lok == ok);
    free(err);
    (void)template_words_have_option(&words, "-p");
    (void)template_words_have_option(&words, "--junit-xml");
    strlist_free(&launcher);
    strlist_free(&argv);
    strlist_free(&examples);
    strlist_free(&words);
    free(tmpl);
    free(example);
    return 0;
}
