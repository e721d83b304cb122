#include "config/cmdcheck.h"
#include "base/buf.h"
#include "config/template.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *start; /* the raw word, quotes and all */
    const char *kind;  /* the first shell construct found in it, NULL if none */
} raw_word_t;

/* What an unquoted character at s starts, in shell terms; NULL if nothing. */
static const char *shell_construct(const char *s)
{
    switch (*s) {
    case '|': return s[1] == '|' ? "a command list" : "a pipe";
    case '&':
    case ';': return "a command list";
    case '<':
    case '>': return "a redirection";
    case '`': return "a command substitution";
    case '$': return s[1] == '(' ? "a command substitution" : NULL;
    default: return NULL;
    }
}

/* Skips a quoted part or an escape starting at s; returns the next unread
 * character, or NULL when the quote never ends (template_split reports it). */
static const char *skip_quoted(const char *s)
{
    if (*s == '\\') return s[1] ? s + 2 : NULL;
    if (*s == '\'') {
        const char *end = strchr(s + 1, '\'');
        return end ? end + 1 : NULL;
    }
    for (s++; *s && *s != '"'; s++)
        if (*s == '\\' && s[1]) s++;
    return *s ? s + 1 : NULL;
}

static void report_shell_word(const char *name, const raw_word_t *w, const char *end,
                              strlist_t *problems)
{
    strlist_push_owned(problems,
                       xasprintf("%s: '%.*s' needs a shell, and commands run without one (%s); "
                                 "put the shell part in a script and call that script",
                                 name, (int)(end - w->start), w->start, w->kind));
}

/* Stops at an unterminated quote: template_split names that problem. */
static void find_shell_syntax(const char *name, const char *tmpl, strlist_t *problems,
                              size_t *found)
{
    raw_word_t w = {NULL, NULL};
    for (const char *s = tmpl;;) {
        if (!*s || isspace((unsigned char)*s)) {
            if (w.start && w.kind) {
                report_shell_word(name, &w, s, problems);
                (*found)++;
            }
            w.start = w.kind = NULL;
            if (!*s) return;
            s++;
            continue;
        }
        if (!w.start) w.start = s;
        if (*s == '\\' || *s == '\'' || *s == '"') {
            s = skip_quoted(s);
            if (!s) return;
            continue;
        }
        if (!w.kind) w.kind = shell_construct(s);
        s++;
    }
}

void cmdcheck_command_words(const char *name, const char *tmpl, strlist_t *words,
                            strlist_t *problems)
{
    size_t found = 0;
    find_shell_syntax(name, tmpl, problems, &found);
    if (found) return; /* template_split would repeat the first of them */
    strlist_t split;
    strlist_init(&split);
    char *err = NULL;
    if (template_split(tmpl, &split, &err) && template_check_placeholders(&split, &err)) {
        for (size_t i = 0; i < split.len; i++) strlist_push(words, split.items[i]);
    } else {
        strlist_push_owned(problems, xasprintf("%s: %s", name, err));
    }
    free(err);
    strlist_free(&split);
}

void cmdcheck_command(const char *name, const char *tmpl, strlist_t *problems)
{
    strlist_t words;
    strlist_init(&words);
    cmdcheck_command_words(name, tmpl, &words, problems);
    strlist_free(&words);
}

void cmdcheck_commands_words(const config_t *cfg, strlist_t *test_words, strlist_t *problems)
{
    cmdcheck_command_words("BUILDKITE_TEST_ENGINE_TEST_CMD", config_test_command(cfg), test_words,
                           problems);
    if (*cfg->retry_cmd)
        cmdcheck_command("BUILDKITE_TEST_ENGINE_RETRY_CMD", cfg->retry_cmd, problems);
}

void cmdcheck_commands(const config_t *cfg, strlist_t *problems)
{
    strlist_t words;
    strlist_init(&words);
    cmdcheck_commands_words(cfg, &words, problems);
    strlist_free(&words);
}
