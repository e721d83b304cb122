#include "base/compat.h"
#include <signal.h>
#include <stddef.h>
#include <string.h>

/* Linux's signals by name: the numbers differ between architectures, the
 * macros do not. glibc names SIGIO by its other name, POLL;
 * SIGIOT is SIGABRT. */
static const struct {
    int sig;
    const char *abbrev;
} compat_signals[] = {
    {SIGHUP, "HUP"},       {SIGINT, "INT"},   {SIGQUIT, "QUIT"},   {SIGILL, "ILL"},
    {SIGTRAP, "TRAP"},     {SIGABRT, "ABRT"}, {SIGBUS, "BUS"},     {SIGFPE, "FPE"},
    {SIGKILL, "KILL"},     {SIGUSR1, "USR1"}, {SIGSEGV, "SEGV"},   {SIGUSR2, "USR2"},
    {SIGPIPE, "PIPE"},     {SIGALRM, "ALRM"}, {SIGTERM, "TERM"},   {SIGCHLD, "CHLD"},
    {SIGCONT, "CONT"},     {SIGSTOP, "STOP"}, {SIGTSTP, "TSTP"},   {SIGTTIN, "TTIN"},
    {SIGTTOU, "TTOU"},     {SIGURG, "URG"},   {SIGXCPU, "XCPU"},   {SIGXFSZ, "XFSZ"},
    {SIGVTALRM, "VTALRM"}, {SIGPROF, "PROF"}, {SIGWINCH, "WINCH"}, {SIGPOLL, "POLL"},
    {SIGSYS, "SYS"},
#ifdef SIGSTKFLT
    {SIGSTKFLT, "STKFLT"},
#endif
#ifdef SIGPWR
    {SIGPWR, "PWR"},
#endif
};

const char *compat_sigabbrev_table(int sig)
{
    for (size_t i = 0; i < sizeof compat_signals / sizeof compat_signals[0]; i++)
        if (compat_signals[i].sig == sig) return compat_signals[i].abbrev;
    return NULL;
}

const char *compat_sigabbrev(int sig)
{
#if TEP_HAVE_SIGABBREV_NP
    return sigabbrev_np(sig);
#else
    return compat_sigabbrev_table(sig);
#endif
}

unsigned long compat_xml_line(XML_Parser p)
{
#if TEP_HAVE_XML_64BIT_LOCATIONS
    return (unsigned long)XML_GetCurrentLineNumber64(p);
#else
    return (unsigned long)XML_GetCurrentLineNumber(p);
#endif
}

long long compat_xml_byte_index(XML_Parser p)
{
#if TEP_HAVE_XML_64BIT_LOCATIONS
    return (long long)XML_GetCurrentByteIndex64(p);
#else
    return (long long)XML_GetCurrentByteIndex(p);
#endif
}

long long compat_xml_byte_count(XML_Parser p)
{
#if TEP_HAVE_XML_64BIT_LOCATIONS
    return (long long)XML_GetCurrentByteCount64(p);
#else
    return (long long)XML_GetCurrentByteCount(p);
#endif
}

CURLcode compat_curl_https_only(CURL *h)
{
#if TEP_HAVE_CURLOPT_PROTOCOLS_STR
    return curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
#else
    return curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
}
