/* durations_lex: the JSON tokens of a durations file, read from a stdio stream
 * one byte at a time, for durations_file.c's pytest-split reader.
 *
 * No copy of the file and no tree: a string is decoded into the caller's
 * buffer (\u escapes become UTF-8; a surrogate that is not half of a pair is
 * reported, as it names no file on disk), a number is checked against JSON's
 * grammar (NaN, Infinity and -Infinity are also read, as Python's json writes
 * them, so the format can refuse them as entries instead of failing the
 * file), and any other value is skipped without recursion, however deep.
 *
 * The cursor is lex->c (EOF at the end), on line lex->line. The first problem
 * is kept in lex->err as one line "<label> '<path>' line <n>: <what>" (later
 * ones are consequences); every function that meets one returns false. */
#ifndef TEP_DURATIONS_LEX_H
#define TEP_DURATIONS_LEX_H
#include <stdbool.h>
#include <stdio.h>
#include "base/buf.h"

/* Limits that keep a file that is not a durations file (/dev/zero, a log)
 * from costing memory or time without end: the bytes read in all, and the
 * length of one string or line. */
#define DURATIONS_LEX_MAX_BYTES (128UL << 20)
#define DURATIONS_LEX_MAX_TEXT  (64UL << 10)

typedef struct {
    FILE *f;
    size_t bytes;      /* read so far; past DURATIONS_LEX_MAX_BYTES the stream ends with an error */
    const char *label; /* starts each message: "durations merge" */
    const char *path;
    int c;       /* the byte under the cursor, EOF at the end */
    size_t line; /* of the cursor, from 1 */
    char *err;   /* the first problem, or NULL */
    buf_t token; /* scratch: a number's text */
    buf_t skipped;
    buf_t stack; /* scratch for a value that is skipped */
} durations_lex_t;

/* Moves the cursor one byte on (EOF, with the first problem kept, once the
 * file is larger than DURATIONS_LEX_MAX_BYTES). */
void durations_lex_advance(durations_lex_t *x);
void durations_lex_skip_ws(durations_lex_t *x);
/* Keeps the first problem; returns false. */
bool durations_lex_fail(durations_lex_t *x, const char *what);
/* Whether a number (or NaN / Infinity) starts at the cursor. */
bool durations_lex_at_number(const durations_lex_t *x);
/* Reads the string whose opening quote is under the cursor into out (which it
 * resets); leaves the cursor after the closing quote. A string longer than
 * DURATIONS_LEX_MAX_TEXT is a problem. */
bool durations_lex_string(durations_lex_t *x, buf_t *out, bool *unpaired);
/* Reads the number at the cursor. Overflow gives HUGE_VAL (not finite). */
bool durations_lex_number(durations_lex_t *x, double *v);
/* Skips the value at the cursor, whatever it is. */
bool durations_lex_skip_value(durations_lex_t *x);
/* Frees the scratch buffers and err. */
void durations_lex_free(durations_lex_t *x);

#endif
