/* cli_proc: process and probe helpers for hetki up (see cli_proc.h). */
#include "cli_proc.h"
#include "hk_clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Opens a TCP connection to 127.0.0.1:port within the probe timeout; returns the fd or -1. */
int cli_tcp_connect(long port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return -1;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        return fd;
    }
    if (errno == EINPROGRESS) {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int err = 0;
        socklen_t len = sizeof err;
        if (poll(&pfd, 1, CLI_PROBE_TIMEOUT_MS) == 1 &&
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
            return fd;
        }
    }
    close(fd);
    return -1;
}

/* Sends req and reads the reply until its first line is complete; returns 0 with the reply
 * NUL-terminated in resp, or -1. */
static int s_exchange(long port, const char *req, char *resp, size_t size) {
    int rc = -1;
    size_t have = 0;
    int fd = cli_tcp_connect(port);
    if (fd < 0) {
        return -1;
    }
    if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req)) {
        goto cleanup;
    }
    int64_t deadline = hk_clock_mono_ms() + CLI_PROBE_TIMEOUT_MS;
    resp[0] = '\0';
    while (have + 1 < size && !strstr(resp, "\r\n")) {
        int64_t left = deadline - hk_clock_mono_ms();
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&pfd, 1, (int)left) != 1) {
            goto cleanup;
        }
        ssize_t n = recv(fd, resp + have, size - 1 - have, 0);
        if (n <= 0) {
            break;
        }
        have += (size_t)n;
        resp[have] = '\0';
    }
    rc = have > 0 ? 0 : -1;
cleanup:
    close(fd);
    return rc;
}

/* Returns 1 when the Redis on port answers PING with +PONG. */
int cli_probe_redis(long port) {
    char resp[128];
    return s_exchange(port, "PING\r\n", resp, sizeof resp) == 0 && !strncmp(resp, "+PONG", 5);
}

/* Returns 1 when GET /readyz on the admin port answers 200. */
int cli_probe_http_ready(long port) {
    char req[128], resp[256];
    snprintf(req, sizeof req,
             "GET /readyz HTTP/1.1\r\nHost: 127.0.0.1:%ld\r\nConnection: close\r\n\r\n", port);
    if (s_exchange(port, req, resp, sizeof resp) != 0) {
        return 0;
    }
    char *eol = strstr(resp, "\r\n");
    if (eol) {
        *eol = '\0';
    }
    return !strncmp(resp, "HTTP/1.", 7) && strstr(resp, " 200 ") != NULL;
}

/* Creates path and its missing parents; returns 0 or -1 with errno set. */
int cli_mkdir_p(const char *path) {
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
                return -1;
            }
            *p = '/';
        }
    }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* Prints the last lines of a log file on stderr. */
void cli_print_tail(const char *path, int lines) {
    char buf[4096];
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "hetki: (no log at %s)\n", path);
        return;
    }
    if (fseek(f, 0, SEEK_END) == 0 && ftell(f) > (long)sizeof buf - 1) {
        fseek(f, -(long)(sizeof buf - 1), SEEK_END);
    } else {
        rewind(f);
    }
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n > 0 && buf[n - 1] == '\n') {
        buf[--n] = '\0';
    }
    char *start = buf;
    int seen = 0;
    for (char *p = buf + n; p > buf; p--) {
        if (p[-1] == '\n' && ++seen == lines) {
            start = p;
            break;
        }
    }
    fprintf(stderr, "---- last lines of %s ----\n%s\n----\n", path, start);
}

/* Describes a wait status ("exit code 1", "signal 9 (Killed)"). */
const char *cli_status_text(int status, char *buf, size_t size) {
    if (WIFEXITED(status)) {
        snprintf(buf, size, "exit code %d", WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
        snprintf(buf, size, "signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    } else {
        snprintf(buf, size, "status 0x%x", (unsigned)status);
    }
    return buf;
}
