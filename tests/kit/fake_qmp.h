/* A fake QEMU on the other end of a QMP socket (tests only). It replays a transcript, a text file
 * of steps, in a thread:
 *
 *   # comment                  ignored, as are blank lines
 *   > {"execute": ...}         expect the client's next command to equal this object once its "id"
 *                              is removed; the id must be present and unique on the connection
 *   < {...}                    send this line (plus \r\n, as QEMU does). A reply ("return" or
 *                              "error") without "id" gets the id of the last expected command
 *   << text                    send text verbatim, without a line end: \r \n \t \\ \xHH are escapes and
 *                              $ID is the last command's id, so that a line can be split across
 *                              writes or several lines sent in one write
 *   sleep N                    wait N ms
 *   close                      close the socket (QEMU exiting)
 *
 * The peer fails the test (through fake_qmp_finish()) when the client sends a command that does
 * not match, a malformed line, a command without id or with a reused id, anything after the end of
 * the transcript, or when steps are left over. */
#pragma once

struct fake_qmp;

/* Directory that transcript names without '/' are looked up in (tests get it as argv[1]). */
void fake_qmp_set_dir(const char *dir);

/* Loads a transcript (a name in the transcript directory, or a path with '/') and starts the peer
 * on one end of a socketpair; *ret_client_fd is the other end (CLOEXEC), for dh_qmp_new_fd(). A
 * transcript that does not parse fails the test. */
struct fake_qmp *fake_qmp_start(const char *transcript, int *ret_client_fd);
/* The same for a transcript given as text; name is used in reports. */
struct fake_qmp *fake_qmp_start_text(const char *name, const char *text, int *ret_client_fd);
/* Like fake_qmp_start(), but the peer waits delay_ms, then creates a listening Unix socket at
 * sock_path and serves the first client: QEMU creating its -qmp socket a little after exec. */
struct fake_qmp *fake_qmp_listen(const char *transcript, const char *sock_path, int delay_ms);

/* Stops the peer and joins its thread: 0 when every step ran and the client sent nothing
 * unexpected; -1 otherwise, with *ret_report (when non-NULL; the caller frees it) saying what went
 * wrong, line by line. Frees f. Close the client first, or at least let every reply arrive: a
 * step still running counts as left over. */
int fake_qmp_finish(struct fake_qmp *f, char **ret_report);
/* fake_qmp_finish() that fails the test with the report. */
void fake_qmp_assert_done(struct fake_qmp *f);
