/* interp: which Python runs the test command's pytest.
 *
 * "python3 -m pytest" -> python3 (with the interpreter's own options that
 * come before -m); "pytest", ".venv/bin/pytest" or "coverage run -m pytest"
 * -> the interpreter in that script's shebang ("#!/usr/bin/python3",
 * "#!/usr/bin/env python3", and pip's "#!/bin/sh" + "'''exec' python"
 * trampoline for long paths). Anything else (a shell wrapper, docker, tox) is
 * unknown: we do not guess, because probing the wrong Python is what gave
 * pytest a --json it did not know. */
#ifndef TEP_INTERP_H
#define TEP_INTERP_H
#include <stdbool.h>
#include "base/strlist.h"

typedef struct {
    strlist_t argv;    /* the interpreter and its own options; empty when unknown */
    bool runs_pytest;  /* certain: the command imports pytest with this interpreter
                        * (-m pytest, or a pytest/py.test script) */
    char *why_unknown; /* set when argv is empty */
} interp_t;

/* The interpreter of a test command, from the words template_split made of
 * it (not empty): the run phase splits the command once and asks often. */
void interp_of_words(const strlist_t *words, interp_t *it);
void interp_free(interp_t *it);
/* The interpreter named by a script's first bytes (exposed for unit tests):
 * pushes it and its options to argv; false when it is not a Python. */
bool interp_from_shebang(const char *head, strlist_t *argv);

#endif
