/* cli_proc: small process and probe helpers for the hetki CLI's stack supervisor (hetki up):
 * loopback TCP probes (Redis PING, HTTP /readyz), mkdir -p, log tails, wait status text.
 * All calls block for at most CLI_PROBE_TIMEOUT_MS; they are not for event-loop services. */
#ifndef CLI_PROC_H
#define CLI_PROC_H

#include <stddef.h>

#define CLI_PROBE_TIMEOUT_MS 1000

/* Opens a TCP connection to 127.0.0.1:port within the probe timeout; returns the fd (the
 * caller closes it) or -1. */
int cli_tcp_connect(long port);

/* Returns 1 when a Redis on 127.0.0.1:port answers PING with +PONG, else 0. */
int cli_probe_redis(long port);

/* Returns 1 when GET /readyz on 127.0.0.1:port answers HTTP 200, else 0. */
int cli_probe_http_ready(long port);

/* Creates path and its missing parents; returns 0, or -1 with errno set. */
int cli_mkdir_p(const char *path);

/* Prints the last `lines` lines of a log file on stderr, framed by a header naming it. */
void cli_print_tail(const char *path, int lines);

/* Describes a wait status in buf ("exit code 1", "signal 9 (Killed)"); returns buf. */
const char *cli_status_text(int status, char *buf, size_t size);

#endif
