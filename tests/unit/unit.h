/* Shared includes for the cmocka unit tests. */
#ifndef TEP_UNIT_H
#define TEP_UNIT_H
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#endif
