#include "config/template.h"
#include "base/buf.h"
#include "base/err.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define EXAMPLES "{{testExamples}}"
#define RESULT   "{{resultPath}}"

static bool is_operator(const char *w)
{
    static const char *ops[] = {"&&", "||", "|", ";", ">", ">>", "<", "&", "2>", "2>&1"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(w, ops[i]) == 0) return true;
    return false;
}

/* Ends the word being read: an unquoted shell operator is refused (there is
 * no shell to run it), anything else joins the words. */
static bool end_split_word(buf_t *w, bool quoted, strlist_t *words, char **err)
{
    if (!quoted && is_operator(w->data))
        return err_set(err,
                       "'%s' needs a shell, and commands run without one; put the pipeline in a "
                       "script and call that",
                       w->data);
    strlist_push(words, w->data);
    buf_reset(w);
    return true;
}

/* Reads one quoted or escaped piece at s (a ', " or \) into w; returns the
 * byte after it, or NULL with *err when it never ends. */
static const char *read_quoted(const char *s, buf_t *w, char **err)
{
    if (*s == '\'') {
        const char *end = strchr(s + 1, '\'');
        if (!end) {
            err_set(err, "unterminated single quote");
            return NULL;
        }
        buf_append(w, s + 1, (size_t)(end - s - 1));
        return end + 1;
    }
    if (*s == '"') {
        s++;
        while (*s && *s != '"') {
            if (*s == '\\' && s[1] && strchr("\"\\$`\n", s[1])) s++;
            buf_putc(w, *s++);
        }
        if (!*s) {
            err_set(err, "unterminated double quote");
            return NULL;
        }
        return s + 1;
    }
    if (!s[1]) {
        err_set(err, "command ends with a lone backslash");
        return NULL;
    }
    buf_putc(w, s[1]);
    return s + 2;
}

bool template_split(const char *text, strlist_t *words, char **err)
{
    buf_t w = BUF_INIT;
    buf_reserve(&w, 0); /* w.data is a string from the start */
    bool in_word = false;
    bool quoted = false;
    bool ok = true;
    for (const char *s = text; ok && *s;) {
        if (isspace((unsigned char)*s)) {
            if (in_word) ok = end_split_word(&w, quoted, words, err);
            in_word = false;
            quoted = false;
            s++;
        } else if (*s == '\'' || *s == '"' || *s == '\\') {
            s = read_quoted(s, &w, err);
            ok = s != NULL;
            in_word = true;
            quoted = true;
        } else {
            buf_putc(&w, *s++);
            in_word = true;
        }
    }
    if (ok && in_word) ok = end_split_word(&w, quoted, words, err);
    buf_free(&w);
    if (ok && words->len == 0) return err_set(err, "command is empty");
    return ok;
}

static char *replace_all(const char *word, const char *needle, const char *with)
{
    buf_t b;
    buf_init(&b);
    size_t n = strlen(needle);
    for (const char *s = word; *s;) {
        if (strncmp(s, needle, n) == 0) {
            buf_puts(&b, with);
            s += n;
        } else {
            buf_putc(&b, *s++);
        }
    }
    return buf_detach(&b);
}

bool template_expand(const char *tmpl, const strlist_t *examples, const char *result_path,
                     strlist_t *argv, char **err)
{
    strlist_t words;
    strlist_init(&words);
    if (!template_split(tmpl, &words, err)) {
        strlist_free(&words);
        return false;
    }
    bool placed = false;
    for (size_t i = 0; i < words.len; i++) {
        const char *w = words.items[i];
        if (strcmp(w, EXAMPLES) == 0) {
            for (size_t j = 0; j < examples->len; j++) strlist_push(argv, examples->items[j]);
            placed = true;
        } else if (strstr(w, EXAMPLES)) {
            err_set(err, "'%s': {{testExamples}} must be a word of its own", w);
            strlist_free(&words);
            return false;
        } else {
            strlist_push_owned(argv, replace_all(w, RESULT, result_path ? result_path : ""));
        }
    }
    if (!placed)
        for (size_t j = 0; j < examples->len; j++) strlist_push(argv, examples->items[j]);
    strlist_free(&words);
    return true;
}

/* w with every known placeholder taken out, for the check below. */
static char *without_placeholders(const char *w)
{
    char *a = replace_all(w, EXAMPLES, "");
    char *b = replace_all(a, RESULT, "");
    free(a);
    return b;
}

bool template_check_placeholders(const strlist_t *words, char **err)
{
    for (size_t i = 0; i < words->len; i++) {
        const char *w = words->items[i];
        if (strstr(w, EXAMPLES) && strcmp(w, EXAMPLES) != 0)
            return err_set(err, "'%s': {{testExamples}} must be a word of its own", w);
        char *rest = without_placeholders(w);
        bool stray = strstr(rest, "{{") || strstr(rest, "}}");
        free(rest);
        if (stray)
            return err_set(err,
                           "'%s': a placeholder that is unknown or not closed; the known ones are "
                           "{{testExamples}} and {{resultPath}}",
                           w);
    }
    return true;
}

bool template_launcher(const char *tmpl, strlist_t *argv, char **err)
{
    strlist_t words;
    strlist_init(&words);
    if (!template_split(tmpl, &words, err)) {
        strlist_free(&words);
        return false;
    }
    for (size_t i = 0; i < words.len; i++) {
        if (strstr(words.items[i], EXAMPLES) || strstr(words.items[i], RESULT)) break;
        if (i > 0 && words.items[i][0] != '-' && strcmp(words.items[i - 1], "-m") != 0 &&
            strcmp(words.items[i - 1], "-p") != 0 && strcmp(words.items[i - 1], "-c") != 0)
            break; /* a positional path in the template: stop before it */
        strlist_push(argv, words.items[i]);
    }
    strlist_free(&words);
    return true;
}

bool template_words_have_option(const strlist_t *words, const char *opt)
{
    size_t n = strlen(opt);
    for (size_t i = 0; i < words->len; i++)
        if (strncmp(words->items[i], opt, n) == 0 &&
            (words->items[i][n] == '\0' || words->items[i][n] == '='))
            return true;
    return false;
}
