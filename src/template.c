#include "template.h"
#include "buf.h"
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

bool template_split(const char *text, strlist_t *words, char **err)
{
    buf_t w;
    buf_init(&w);
    bool in_word = false, quoted = false;
    const char *s = text;
    while (*s) {
        char c = *s;
        if (isspace((unsigned char)c)) {
            if (in_word) {
                if (!quoted && is_operator(w.data)) {
                    *err = xasprintf("'%s' needs a shell, and commands run without one; put the "
                                     "pipeline in a script and call that",
                                     w.data);
                    buf_free(&w);
                    return false;
                }
                strlist_push(words, w.data);
                buf_reset(&w);
                in_word = quoted = false;
            }
            s++;
        } else if (c == '\'') {
            const char *end = strchr(s + 1, '\'');
            if (!end) {
                *err = xstrdup("unterminated single quote");
                buf_free(&w);
                return false;
            }
            buf_append(&w, s + 1, (size_t)(end - s - 1));
            in_word = quoted = true;
            s = end + 1;
        } else if (c == '"') {
            s++;
            while (*s && *s != '"') {
                if (*s == '\\' && s[1] && strchr("\"\\$`\n", s[1])) s++;
                buf_putc(&w, *s++);
            }
            if (!*s) {
                *err = xstrdup("unterminated double quote");
                buf_free(&w);
                return false;
            }
            in_word = quoted = true;
            s++;
        } else if (c == '\\') {
            if (!s[1]) {
                *err = xstrdup("command ends with a lone backslash");
                buf_free(&w);
                return false;
            }
            buf_putc(&w, s[1]);
            in_word = quoted = true;
            s += 2;
        } else {
            buf_putc(&w, c);
            in_word = true;
            s++;
        }
    }
    if (in_word) {
        if (!quoted && is_operator(w.data)) {
            *err = xasprintf("'%s' needs a shell, and commands run without one; put the pipeline "
                             "in a script and call that",
                             w.data);
            buf_free(&w);
            return false;
        }
        strlist_push(words, w.data);
    }
    buf_free(&w);
    if (words->len == 0) {
        *err = xstrdup("command is empty");
        return false;
    }
    return true;
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
            *err = xasprintf("'%s': {{testExamples}} must be a word of its own", w);
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

bool template_has_option(const char *tmpl, const char *opt)
{
    strlist_t words;
    strlist_init(&words);
    char *err = NULL;
    bool hit = template_split(tmpl, &words, &err) && template_words_have_option(&words, opt);
    free(err);
    strlist_free(&words);
    return hit;
}
