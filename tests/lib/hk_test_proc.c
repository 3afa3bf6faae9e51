/* hk_test_proc: real processes and servers for integration tests. */
#include "hk_test_proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

long long hk_test_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void hk_test_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int hk_test_free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0) {
        port = ntohs(a.sin_port);
    }
    if (fd >= 0) {
        close(fd);
    }
    return port;
}

pid_t hk_test_spawn(const char *const *argv, const char *const *env, const char *log_path) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0) {
        return pid;
    }
    for (size_t i = 0; env && env[i]; i++) {
        putenv((char *)env[i]);
    }
    if (log_path) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
        dup2(devnull, 0);
        close(devnull);
    }
    execvp(argv[0], (char *const *)argv);
    fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

int hk_test_wait(pid_t pid, int timeout_ms, int *status) {
    long long until = hk_test_now_ms() + timeout_ms;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid) {
            return 0;
        }
        if (r < 0 || hk_test_now_ms() > until) {
            return -1;
        }
        hk_test_sleep_ms(10);
    }
}

int hk_test_stop(pid_t pid, int timeout_ms) {
    int status = 0;
    if (pid <= 0) {
        return -1;
    }
    kill(pid, SIGTERM);
    if (hk_test_wait(pid, timeout_ms, &status) != 0) {
        fprintf(stderr, "process %d ignored SIGTERM for %d ms: killing it\n", (int)pid, timeout_ms);
        kill(pid, SIGKILL);
        hk_test_wait(pid, 5000, &status);
        return -1;
    }
    return status;
}

const char *hk_test_bin(const char *name, char *buf, size_t len) {
    const char *dir = getenv("HETKI_BIN_DIR");
    snprintf(buf, len, "%s/%s", dir ? dir : ".", name);
    return buf;
}

redisContext *hk_test_redis_connect(int port) {
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (!c || c->err) {
        fprintf(stderr, "cannot connect to redis on %d: %s\n", port, c ? c->errstr : "oom");
        exit(1);
    }
    return c;
}

int hk_test_redis_start(hk_test_redis_t *r) {
    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "/tmp/hetki-test-redis-XXXXXX");
    if (!mkdtemp(r->dir)) {
        return -1;
    }
    r->port = hk_test_free_port();
    char port[16], log[300];
    snprintf(port, sizeof port, "%d", r->port);
    snprintf(log, sizeof log, "%s/redis.log", r->dir);
    const char *server =
        getenv("HETKI_REDIS_SERVER") ? getenv("HETKI_REDIS_SERVER") : "redis-server";
    const char *argv[] = {server,      "--port",       port,   "--bind",
                          "127.0.0.1", "--dir",        r->dir, "--save",
                          "",          "--appendonly", "yes",  "--appendfsync",
                          "everysec",  "--daemonize",  "no",   NULL};
    r->pid = hk_test_spawn(argv, NULL, log);
    long long until = hk_test_now_ms() + 10000;
    while (hk_test_now_ms() < until) {
        struct timeval tv = {0, 200000};
        redisContext *c = redisConnectWithTimeout("127.0.0.1", r->port, tv);
        if (c && !c->err) {
            redisReply *reply = redisCommand(c, "PING");
            int ok = reply && reply->type == REDIS_REPLY_STATUS;
            freeReplyObject(reply);
            redisFree(c);
            if (ok) {
                return 0;
            }
        } else if (c) {
            redisFree(c);
        }
        hk_test_sleep_ms(50);
    }
    return -1;
}

void hk_test_redis_stop(hk_test_redis_t *r) {
    if (r->pid > 0) {
        hk_test_stop(r->pid, 5000);
        r->pid = 0;
    }
    if (r->dir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", r->dir);
        if (system(cmd) != 0) {
            fprintf(stderr, "could not remove %s\n", r->dir);
        }
        r->dir[0] = '\0';
    }
}

int hk_test_http_get(int port, const char *path, char *body, size_t cap) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    size_t total = 0;
    char *buf = malloc(1 << 20);
    for (;;) {
        ssize_t got = read(fd, buf + total, (1 << 20) - 1 - total);
        if (got <= 0) {
            break;
        }
        total += (size_t)got;
    }
    close(fd);
    buf[total] = '\0';
    int code = -1;
    if (sscanf(buf, "HTTP/1.%*d %d", &code) != 1) {
        code = -1;
    }
    const char *sep = strstr(buf, "\r\n\r\n");
    if (body && cap) {
        snprintf(body, cap, "%s", sep ? sep + 4 : "");
    }
    free(buf);
    return code;
}

int hk_test_wait_ready(int admin_port, int timeout_ms) {
    long long until = hk_test_now_ms() + timeout_ms;
    while (hk_test_now_ms() < until) {
        if (hk_test_http_get(admin_port, "/readyz", NULL, 0) == 200) {
            return 0;
        }
        hk_test_sleep_ms(50);
    }
    return -1;
}

long long hk_test_metric(int admin_port, const char *name) {
    static char body[65536];
    if (hk_test_http_get(admin_port, "/metrics", body, sizeof body) != 200) {
        return -1;
    }
    size_t n = strlen(name);
    char *save = NULL;
    for (char *line = strtok_r(body, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (!strncmp(line, name, n) && line[n] == ' ') {
            return atoll(line + n + 1);
        }
    }
    return -1;
}

int hk_test_policy_load(int redis_port, const char *dir, const char *name, const char *text) {
    char path[512], log[512], redis[48], bin[300];
    snprintf(path, sizeof path, "%s/%s.policy", dir, name);
    snprintf(log, sizeof log, "%s/policy-load.log", dir);
    snprintf(redis, sizeof redis, "HETKI_REDIS_PORT=%d", redis_port);
    FILE *f = fopen(path, "w");
    if (!f) {
        return -1;
    }
    int written = fputs(text, f) >= 0;
    if (fclose(f) != 0 || !written) {
        return -1;
    }
    const char *env[] = {redis, NULL};
    const char *argv[] = {hk_test_bin("hetki", bin, sizeof bin), "policy", "load", path, NULL};
    int status = 0;
    if (hk_test_wait(hk_test_spawn(argv, env, log), 20000, &status) != 0 || !WIFEXITED(status)) {
        return -1;
    }
    return WEXITSTATUS(status);
}
