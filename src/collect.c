#include "collect.h"
#include "buf.h"
#include "process.h"
#include "template.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_broken(collect_result_t *res, const char *start, size_t n)
{
    while (n && (start[n - 1] == ' ' || start[n - 1] == '_')) n--;
    char *file = xstrndup(start, n);
    if (*file && !strlist_contains(&res->broken_files, file)) strlist_push_owned(&res->broken_files, file);
    else free(file);
}

void collect_parse_output(const char *out, collect_result_t *res)
{
    strlist_t lines;
    strlist_init(&lines);
    strlist_push_lines(&lines, out);
    for (size_t i = 0; i < lines.len; i++) {
        const char *l = lines.items[i];
        const char *hit = strstr(l, "ERROR collecting ");
        if (hit) {
            hit += strlen("ERROR collecting ");
            add_broken(res, hit, strcspn(hit, " "));
        } else if (strncmp(l, "ERROR ", 6) == 0) {
            add_broken(res, l + 6, strcspn(l + 6, " "));
        } else if (strstr(l, "::") && l[0] != ' ' && strncmp(l, "FAILED", 6) != 0 && !strchr(l, ' ')) {
            strlist_push(&res->node_ids, l);
        }
    }
    strlist_free(&lines);
}

void collect_examples(const char *test_cmd, const strlist_t *files, collect_result_t *res)
{
    memset(res, 0, sizeof *res);
    strlist_init(&res->node_ids);
    strlist_init(&res->broken_files);
    strlist_t argv;
    strlist_init(&argv);
    char *err = NULL;
    if (!template_launcher(test_cmd, &argv, &err)) {
        res->error = xasprintf("test command: %s", err);
        free(err);
        strlist_free(&argv);
        return;
    }
    strlist_push(&argv, "--collect-only");
    strlist_push(&argv, "-q");
    for (size_t i = 0; i < files->len; i++) strlist_push(&argv, files->items[i]);
    buf_t out;
    buf_init(&out);
    proc_opts_t o = {.argv = argv.items, .capture = &out, .timeout_s = 600};
    proc_result_t r;
    proc_run(&o, &r);
    res->exit_code = r.exit_code;
    collect_parse_output(out.data, res);
    if (r.start_failed) res->error = xstrdup(r.start_error);
    else if (r.signal) res->error = xasprintf("pytest --collect-only was killed by signal %d", r.signal);
    else if (r.exit_code != 0 && res->broken_files.len == 0)
        res->error = xasprintf("pytest --collect-only exited %d: %.300s", r.exit_code, out.data);
    buf_free(&out);
    strlist_free(&argv);
}

void collect_result_free(collect_result_t *res)
{
    strlist_free(&res->node_ids);
    strlist_free(&res->broken_files);
    free(res->error);
}
