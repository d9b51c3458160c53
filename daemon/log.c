/* dpuhostd's log lines: see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/macro.h"

/* systemd sets JOURNAL_STREAM=<dev>:<inode> of the stream it connected to stdout/stderr; only when
 * our stderr is still that stream does a "<N>" prefix mean something to the reader. */
static bool journal;

void dhd_log_init(void)
{
    const char *e = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    journal = e && sscanf(e, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
              (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static const char *level_word(int priority)
{
    switch (priority) {
    case LOG_EMERG:
    case LOG_ALERT:
    case LOG_CRIT:
    case LOG_ERR:
        return "error: ";
    case LOG_WARNING:
        return "warning: ";
    default:
        return "";
    }
}

void dhd_log(int priority, const char *fmt, ...)
{
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (journal)
        fprintf(stderr, "<%d>%s\n", priority, line);
    else
        fprintf(stderr, "dpuhostd: %s%s\n", level_word(priority), line);
}

void dhd_log_lines(int priority, const char *prefix, const char *text)
{
    for (const char *p = text; p && *p;) {
        size_t n = strcspn(p, "\n");
        if (n)
            dhd_log(priority, "%s%.*s", prefix, (int)n, p);
        p += n;
        if (*p == '\n')
            p++;
    }
}
