/* dpuhostd's log: one line per event on stderr, which systemd sends to the journal. Under systemd
 * (JOURNAL_STREAM names our stderr) each line starts with a syslog priority prefix ("<3>") so that
 * journalctl -p works; on a terminal the level is spelled out instead. Thread-safe. */
#pragma once

#include <syslog.h>

/* Looks at JOURNAL_STREAM once, before any thread logs. */
void dhd_log_init(void);
void dhd_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Every line of a multi-line text (e.g. the recovery report), each with prefix. */
void dhd_log_lines(int priority, const char *prefix, const char *text);
