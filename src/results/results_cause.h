/* results_cause: the one line a person needs from a failure text.
 *
 * Every reader of results shares it: the run model keeps each failed test's
 * cause, the salvage of a killed pytest's reports writes it, the annotation
 * shows it. pytest's texts are long tracebacks whose cause is near the end
 * (see results_cause_of); the run phase's exit status is run_classify.h's. */
#ifndef TEP_RESULTS_CAUSE_H
#define TEP_RESULTS_CAUSE_H

/* The cause in a failure text, on one line (caller frees), or NULL for an
 * empty text. pytest marks exception lines with "E   "; the cause is the
 * first "Name: message" line of the last such block (the exception that
 * ended the traceback), and a SyntaxError (or IndentationError, TabError)
 * gets the file and line from that block's 'File "...", line N'. `file` is
 * the test file as the run knows it (may be NULL): an absolute path ending
 * in it is shortened to it. A text without E lines (cut short) gives its
 * first line that is not a traceback frame, or failing that its first line. */
char *results_cause_of(const char *text, const char *file);

#endif
