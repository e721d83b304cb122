/* selector: the guard between untrusted text and pytest's argv.
 *
 * Paths and node ids that come from the Test Engine server or from a previous
 * attempt's meta-data are data. Before one reaches pytest it must be relative,
 * stay inside the checkout, not start with '-' (pytest would read an option),
 * and hold no newline, carriage return or NUL. */
#ifndef TEP_SELECTOR_H
#define TEP_SELECTOR_H
#include <stddef.h>

/* NULL when the selector is safe, else a short reason. len is the byte
 * length as received (so an embedded NUL is caught). */
const char *selector_problem(const char *s, size_t len);
/* The file part of a node id: everything before the first "::" (caller frees). */
char *selector_file_part(const char *s);

#endif
