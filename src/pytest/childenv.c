#include "pytest/childenv.h"
#include "base/buf.h"
#include "base/process.h"
#include <stdlib.h>
#include <string.h>

void childenv_build(strlist_t *env)
{
    static const char *const tokens[] = {"BUILDKITE_ANALYTICS_TOKEN",
                                         "BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN", NULL};
    process_env_without(env, tokens);
}

static long find_var(const strlist_t *env, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < env->len; i++)
        if (strncmp(env->items[i], name, n) == 0 && env->items[i][n] == '=') return (long)i;
    return -1;
}

void childenv_set(strlist_t *env, const char *name, const char *value)
{
    char *entry = xasprintf("%s=%s", name, value);
    long i = find_var(env, name);
    if (i < 0) {
        strlist_push_owned(env, entry);
        return;
    }
    free(env->items[i]);
    env->items[i] = entry;
}

const char *childenv_get(const strlist_t *env, const char *name)
{
    long i = find_var(env, name);
    return i < 0 ? NULL : env->items[i] + strlen(name) + 1;
}
