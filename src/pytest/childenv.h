/* childenv: the environment every child that runs the user's Python gets.
 *
 * pytest, a --collect-only run and the collector probe all import the user's
 * code (conftest.py, plugins). None of them may see our tokens: the collector
 * would upload what report uploads, and user code has no business reading an
 * API token. So every such child starts from this list, never from ours. */
#ifndef TEP_CHILDENV_H
#define TEP_CHILDENV_H
#include "base/strlist.h"

/* Our environment minus both Test Engine tokens. */
void childenv_build(strlist_t *env);
/* Sets NAME=value in env, replacing an existing NAME. */
void childenv_set(strlist_t *env, const char *name, const char *value);
/* The value of NAME in env, or NULL. */
const char *childenv_get(const strlist_t *env, const char *name);

#endif
