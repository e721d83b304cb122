/* compat: the few library calls whose spelling depends on the platform's
 * versions, each behind one name, so the code builds and behaves the same
 * from the oldest platform we support (Debian 11: glibc 2.31, curl 7.74,
 * expat 2.2.10) to the newest (Debian 13: glibc 2.41, curl 8.14, expat 2.9,
 * which deprecates calls older ones only have). README's "Compatibility"
 * section lists what was tested.
 *
 * CMakeLists.txt checks at configure time what the platform has and defines
 * TEP_HAVE_<FEATURE>; this module picks the newer call when it is there and a
 * fallback with the same result otherwise. A binary built on the oldest
 * platform runs on newer ones (the fallbacks are still supported calls there,
 * only deprecated), which is how a release build is made.
 *
 * Never prints (see err.h). */
#ifndef TEP_COMPAT_H
#define TEP_COMPAT_H
#include <curl/curl.h>
#include <expat.h>

/* A signal's abbreviation without the "SIG" ("TERM" for SIGTERM), or NULL for
 * a number that names no signal: glibc's sigabbrev_np (2.32), or the table
 * below where the C library lacks it. */
const char *compat_sigabbrev(int sig);
/* The table used when the C library has no sigabbrev_np; public so its unit
 * test can hold it to sigabbrev_np where both exist. */
const char *compat_sigabbrev_table(int sig);

/* Restricts the handle to https (no other scheme, whatever the URL says):
 * CURLOPT_PROTOCOLS_STR (curl 7.85), or the bitmask CURLOPT_PROTOCOLS before
 * it. Returns curl's answer to the option. */
CURLcode compat_curl_https_only(CURL *h);

/* Where the parser is (the current event): its line (1-based), the offset of
 * its first byte in the input (-1 when unknown) and its length in bytes. The
 * 64-bit calls of newer expat (XML_GetCurrentLineNumber64 ...), which deprecate
 * the XML_Size ones, or those where they are missing. */
unsigned long compat_xml_line(XML_Parser p);
long long compat_xml_byte_index(XML_Parser p);
long long compat_xml_byte_count(XML_Parser p);
#endif
