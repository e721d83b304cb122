/* cmd_durations: `test-engine-pytest durations merge FILE...`.
 *
 * Each parallel job can record the durations of the tests it ran (pytest-
 * split's format); the next build's fallback plan wants them in one file.
 * merge reads every file in either format the plan reads, lets later files
 * win (durations.h has the rules), and writes one pytest-split JSON object
 * with sorted keys to stdout, ready to commit as .test_durations.
 *
 * Strict where plan is lenient: a bad entry (NaN, a negative, a key with no
 * file part, ...) is an error naming its file and entry, and nothing is
 * written, so a merged file never silently lost entries. Exit 0; 65 when an
 * input cannot be read or has bad entries; 78 for a usage error; 74 when
 * stdout cannot be written. */
#include "cmd/cmd.h"
#include "base/buf.h"
#include "model/durations.h"
#include "base/log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_DATA  65
#define EXIT_IO    74
#define EXIT_USAGE 78

static void print_durations_usage(FILE *out)
{
    fputs("usage: test-engine-pytest durations merge FILE...\n"
          "\n"
          "Merges durations files (pytest-split .test_durations JSON, or 'seconds path'\n"
          "lines) into one pytest-split JSON object on stdout, keys sorted. For the same\n"
          "test or file, later files win (a later whole-file entry replaces earlier\n"
          "entries of that file's tests, and later test entries replace an earlier\n"
          "whole-file entry). Any bad entry is an error naming the file and the entry,\n"
          "and then nothing is written.\n"
          "\n"
          "Exit statuses: 0 merged; 65 an input cannot be read or has bad entries;\n"
          "78 usage error; 74 stdout cannot be written.\n",
          out);
}

/* Prints the usage and the problem (msg is freed); returns the usage status. */
static int usage_error(char *msg)
{
    print_durations_usage(stderr);
    fprintf(stderr, TEP_NAME ": durations: %s\n", msg);
    free(msg);
    return EXIT_USAGE;
}

/* Reads every file (all problems are named, not just the first). */
static bool read_all_durations(char **files, int n, durations_file_entries_t *e)
{
    bool ok = true;
    for (int i = 0; i < n; i++) {
        char *err = NULL;
        durations_file_opts_t o = {
            .label = "durations merge", .strict = true, .src = (unsigned)i, .warn = log_error_line};
        if (!durations_file_read(files[i], &o, e, &err)) {
            log_error("%s", err);
            free(err);
            ok = false;
        }
    }
    return ok;
}

static int merge_durations(char **files, int n)
{
    durations_file_entries_t e = {0};
    if (!read_all_durations(files, n, &e)) {
        durations_file_entries_free(&e);
        log_error("durations merge: nothing written; fix the input%s named above",
                  n == 1 ? "" : "s");
        return EXIT_DATA;
    }
    size_t in = e.len;
    durations_resolve(&e);
    int status = 0;
    if (!durations_file_write_json(&e, stdout)) {
        log_error("durations merge: cannot write the merged durations to standard output");
        status = EXIT_IO;
    } else {
        fprintf(stderr, TEP_NAME ": durations merge: %d file%s, %zu entr%s read, %zu written\n", n,
                n == 1 ? "" : "s", in, in == 1 ? "y" : "ies", e.len);
    }
    durations_file_entries_free(&e);
    return status;
}

int cmd_durations(int argc, char **argv)
{
    if (argc < 2) return usage_error(xstrdup("a subcommand is required: durations merge FILE..."));
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        print_durations_usage(stdout);
        return 0;
    }
    if (strcmp(sub, "merge") != 0)
        return usage_error(xasprintf("unknown subcommand '%s'; the one there is: merge", sub));
    char **files = xcalloc((size_t)argc, sizeof *files);
    int n = 0;
    int status = -1; /* -1: go on; else the exit status */
    bool options_done = false;
    for (int i = 2; i < argc && status < 0; i++) {
        const char *a = argv[i];
        if (!options_done && strcmp(a, "--") == 0) {
            options_done = true; /* the rest are files, even "-x" */
        } else if (!options_done && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            print_durations_usage(stdout);
            status = 0;
        } else if (!options_done && a[0] == '-') {
            status = usage_error(xasprintf(
                "merge: unknown option '%s' (for a file named so, put '--' before it)", a));
        } else {
            files[n++] = argv[i];
        }
    }
    if (status < 0 && n == 0)
        status = usage_error(xstrdup("merge: give one or more durations files"));
    if (status < 0) status = merge_durations(files, n);
    free(files);
    return status;
}
