/* The glob matcher this project used before the NFA matcher: a recursive
 * backtracking matcher, exponential on patterns like '*a*a*a*b', kept here
 * only as a reference for differential fuzzing on small inputs. */
#ifndef TEP_GLOB_ORACLE_H
#define TEP_GLOB_ORACLE_H
#include <stdbool.h>

/* Does the brace-free alternative match s? prefix_mode as in pattern.c. */
bool oracle_match(const char *alt, const char *s, bool prefix_mode);

#endif
