/* cli_up: `hetki up`, the local stack supervisor. Starts an embedded Redis, then every service
 * binary found next to hetki, waits until each answers /readyz, prints what runs where and
 * supervises. A stop request (SIGINT, SIGTERM, SIGHUP) or any child dying stops everything:
 * services first, then Redis; SIGTERM, then SIGKILL after a grace period. This is a supervisor,
 * not an event-loop service, so it uses plain POSIX process control and blocking probes. */
#include "cli.h"
#include "cli_proc.h"
#include "hk_clock.h"
#include "hk_config.h"
#include "hk_log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define UP_MAX_PROCS 24
#define UP_MAX_REPLICAS 9
#define UP_STOP_GRACE_MS 10000
#define UP_POLL_MS 100
#define UP_TAIL_LINES 20

/* The services hetki up knows; only those whose binary exists next to hetki are started.
 * Router replica i (0-based) gets admin, contacts and events ports base + 10 * i, so replicas
 * never collide with each other nor with the other services' admin ports (base + 1 .. + 5);
 * an ephemeral bus port (0) stays 0 for every replica. */
enum { UP_ROUTER, UP_CHAT, UP_DASHBOARD, UP_PHONE, UP_EMAIL, UP_KIOSK, UP_SERVICES };
static const struct {
    const char *name;
    const char *binary;
} s_services[UP_SERVICES] = {
    {"router", "hetki-router"}, {"chat", "hetki-chat"},   {"dashboard", "hetki-dashboard"},
    {"phone", "hetki-phone"},   {"email", "hetki-email"}, {"kiosk", "hetki-kiosk"},
};

static struct {
    char data_dir[HK_CFG_STR_MAX];
    char redis_server[HK_CFG_STR_MAX];
    char log_level[HK_CFG_STR_MAX];
    long redis_port;
    long router_replicas;
    long ready_timeout_ms;
    long contacts_port;
    long events_port;
    long admin_port[UP_SERVICES];
} s_cfg;

#define UP_ADMIN(svc, var, def, help)                                                              \
    { var, HK_CFG_PORT, def, 1, 65535, NULL, &s_cfg.admin_port[svc], "admin port of " help }
static const hk_cfg_entry_t s_config[] = {
    {"HETKI_LOG_LEVEL", HK_CFG_ENUM, "info", 0, 0, "debug|info|warn|error", s_cfg.log_level,
     "log threshold"},
    {"HETKI_DATA_DIR", HK_CFG_STRING, ".hetki", 1, 200, NULL, s_cfg.data_dir,
     "stack data directory (Redis files, logs)"},
    {"HETKI_REDIS_PORT", HK_CFG_PORT, "6380", 1, 65535, NULL, &s_cfg.redis_port,
     "embedded Redis port"},
    {"HETKI_REDIS_SERVER", HK_CFG_STRING, "redis-server", 1, 255, NULL, s_cfg.redis_server,
     "redis-server program"},
    {"HETKI_ROUTER_REPLICAS", HK_CFG_INT, "1", 1, UP_MAX_REPLICAS, NULL, &s_cfg.router_replicas,
     "router replicas"},
    {"HETKI_UP_READY_TIMEOUT_MS", HK_CFG_INT, "20000", 100, 600000, NULL, &s_cfg.ready_timeout_ms,
     "how long each start phase may take"},
    {"HETKI_ROUTER_CONTACTS_PORT", HK_CFG_PORT, "5555", 0, 65535, NULL, &s_cfg.contacts_port,
     "first router's contacts port"},
    {"HETKI_ROUTER_EVENTS_PORT", HK_CFG_PORT, "5556", 0, 65535, NULL, &s_cfg.events_port,
     "first router's events port"},
    UP_ADMIN(UP_ROUTER, "HETKI_ROUTER_ADMIN_PORT", "9100", "the first router"),
    UP_ADMIN(UP_CHAT, "HETKI_CHAT_ADMIN_PORT", "9101", "hetki-chat"),
    UP_ADMIN(UP_DASHBOARD, "HETKI_DASHBOARD_ADMIN_PORT", "9102", "hetki-dashboard"),
    UP_ADMIN(UP_PHONE, "HETKI_PHONE_ADMIN_PORT", "9103", "hetki-phone"),
    UP_ADMIN(UP_EMAIL, "HETKI_EMAIL_ADMIN_PORT", "9104", "hetki-email"),
    UP_ADMIN(UP_KIOSK, "HETKI_KIOSK_ADMIN_PORT", "9105", "hetki-kiosk"),
};
#define UP_CONFIG_N (sizeof s_config / sizeof s_config[0])

/* One supervised process; procs[0] is always Redis. */
typedef struct {
    char name[32];
    char exe[PATH_MAX];
    char log_path[PATH_MAX + 40];
    pid_t pid; /* 0 before start and once reaped */
    int status;
    int ready;
    long admin_port; /* 0 for Redis */
    long contacts_port, events_port;
    int is_router;
} up_proc_t;

static up_proc_t s_procs[UP_MAX_PROCS];
static size_t s_nprocs;
static char s_data[PATH_MAX];
static sigset_t s_sigs;

typedef enum { UP_EV_NONE, UP_EV_STOP, UP_EV_DIED } up_event_t;

/* Sets NAME to a number in the environment. */
static void s_setenv_long(const char *name, long value) {
    char text[24];
    snprintf(text, sizeof text, "%ld", value);
    setenv(name, text, 1);
}

/* Runs in the forked child: redirects output to the log, sets the service environment and
 * execs argv. Never returns. */
static void s_child(const up_proc_t *p, char *const argv[], int logfd, pid_t parent) {
    setpgid(0, 0); /* terminal signals go to hetki up only; it stops children in order */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) {
        _exit(1);
    }
    int nullfd = open("/dev/null", O_RDONLY);
    if (nullfd >= 0) {
        dup2(nullfd, STDIN_FILENO);
    }
    dup2(logfd, STDOUT_FILENO);
    dup2(logfd, STDERR_FILENO);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (p->admin_port > 0) {
        unsetenv("HETKI_INSTANCE"); /* each instance names itself uniquely */
        setenv("HETKI_REDIS_HOST", "127.0.0.1", 1);
        s_setenv_long("HETKI_REDIS_PORT", s_cfg.redis_port);
        s_setenv_long("HETKI_ADMIN_PORT", p->admin_port);
        setenv("HETKI_DATA_DIR", s_data, 1);
    }
    if (p->is_router) {
        s_setenv_long("HETKI_ROUTER_CONTACTS_PORT", p->contacts_port);
        s_setenv_long("HETKI_ROUTER_EVENTS_PORT", p->events_port);
    }
    execvp(argv[0], argv);
    dprintf(STDERR_FILENO, "hetki up: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Starts one process with its output in its log file; returns 0 or -1. */
static int s_spawn(up_proc_t *p, char *const argv[]) {
    int logfd = open(p->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (logfd < 0) {
        HK_ERROR("up.log_open_failed", "name=%s path=%s error=\"%s\"", p->name, p->log_path,
                 strerror(errno));
        return -1;
    }
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        s_child(p, argv, logfd, parent);
    }
    close(logfd);
    if (pid < 0) {
        HK_ERROR("up.fork_failed", "name=%s error=\"%s\"", p->name, strerror(errno));
        return -1;
    }
    p->pid = pid;
    p->ready = 0;
    HK_INFO("up.started", "name=%s pid=%ld log=%s", p->name, (long)pid, p->log_path);
    return 0;
}

/* Reaps every exited child; returns the first one found, or NULL. */
static up_proc_t *s_reap(void) {
    up_proc_t *first = NULL;
    int status = 0;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (size_t i = 0; i < s_nprocs; i++) {
            if (s_procs[i].pid == pid) {
                s_procs[i].pid = 0;
                s_procs[i].status = status;
                first = first ? first : &s_procs[i];
            }
        }
    }
    return first;
}

/* Waits up to ms for a stop request or a child exit; *died gets the child that exited. */
static up_event_t s_wait_event(long ms, up_proc_t **died) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    int sig = ms > 0 ? sigtimedwait(&s_sigs, NULL, &ts) : -1;
    *died = s_reap();
    if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
        HK_INFO("up.stop_requested", "signal=%s", strsignal(sig));
        return UP_EV_STOP;
    }
    return *died ? UP_EV_DIED : UP_EV_NONE;
}

/* Reports a child that exited while it should be running. */
static void s_report_death(const up_proc_t *p) {
    char why[96];
    HK_ERROR("up.child_exited", "name=%s status=\"%s\"", p->name,
             cli_status_text(p->status, why, sizeof why));
    fprintf(stderr, "hetki: %s exited unexpectedly (%s)\n", p->name, why);
    cli_print_tail(p->log_path, UP_TAIL_LINES);
}

/* Stops procs[first .. first+count): SIGTERM, up to the grace period, then SIGKILL. */
static void s_stop_range(size_t first, size_t count) {
    int64_t deadline = hk_clock_mono_ms() + UP_STOP_GRACE_MS;
    for (size_t i = first; i < first + count; i++) {
        if (s_procs[i].pid > 0) {
            HK_INFO("up.stopping", "name=%s pid=%ld", s_procs[i].name, (long)s_procs[i].pid);
            kill(s_procs[i].pid, SIGTERM);
        }
    }
    for (;;) {
        size_t alive = 0;
        for (size_t i = first; i < first + count; i++) {
            alive += s_procs[i].pid > 0;
        }
        if (alive == 0 || hk_clock_mono_ms() >= deadline) {
            break;
        }
        up_proc_t *died = NULL;
        if (s_wait_event(UP_POLL_MS, &died) == UP_EV_STOP) {
            deadline = 0; /* a second stop request: do not wait any longer */
        }
    }
    for (size_t i = first; i < first + count; i++) {
        up_proc_t *p = &s_procs[i];
        if (p->pid > 0) {
            HK_WARN("up.killing", "name=%s pid=%ld reason=\"no exit after SIGTERM\"", p->name,
                    (long)p->pid);
            kill(p->pid, SIGKILL);
            while (waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR) {
            }
            p->pid = 0;
        }
    }
}

/* Stops everything: services first, then Redis. */
static void s_stop_all(void) {
    if (s_nprocs > 1) {
        s_stop_range(1, s_nprocs - 1);
    }
    s_stop_range(0, 1);
    HK_INFO("up.stopped", "procs=%zu", s_nprocs);
}

/* Waits until procs[first .. first+count) are ready; returns 0, 1 on a stop request, -1 on a
 * failure (reported with the failing process's log tail). */
static int s_wait_ready(size_t first, size_t count) {
    int64_t deadline = hk_clock_mono_ms() + s_cfg.ready_timeout_ms;
    for (;;) {
        size_t waiting = 0;
        for (size_t i = first; i < first + count; i++) {
            up_proc_t *p = &s_procs[i];
            if (!p->ready && p->pid > 0) {
                p->ready = p->admin_port > 0 ? cli_probe_http_ready(p->admin_port)
                                             : cli_probe_redis(s_cfg.redis_port);
                if (p->ready) {
                    HK_INFO("up.ready", "name=%s pid=%ld", p->name, (long)p->pid);
                }
            }
            waiting += !p->ready;
        }
        up_proc_t *died = NULL;
        up_event_t ev = s_wait_event(waiting ? UP_POLL_MS : 0, &died);
        if (ev == UP_EV_STOP) {
            return 1;
        }
        if (ev == UP_EV_DIED) {
            s_report_death(died);
            return -1;
        }
        if (waiting == 0) {
            return 0;
        }
        if (hk_clock_mono_ms() >= deadline) {
            for (size_t i = first; i < first + count; i++) {
                up_proc_t *p = &s_procs[i];
                if (!p->ready) {
                    HK_ERROR("up.not_ready", "name=%s timeout_ms=%ld", p->name,
                             s_cfg.ready_timeout_ms);
                    fprintf(stderr, "hetki: %s not ready after %ld ms (%s)\n", p->name,
                            s_cfg.ready_timeout_ms,
                            p->admin_port ? "GET /readyz did not answer 200" : "no PONG");
                    cli_print_tail(p->log_path, UP_TAIL_LINES);
                }
            }
            return -1;
        }
    }
}

/* Adds a process to the table; returns it, or NULL when the table is full. */
static up_proc_t *s_add(const char *name, const char *exe, long admin_port) {
    if (s_nprocs == UP_MAX_PROCS) {
        return NULL;
    }
    up_proc_t *p = &s_procs[s_nprocs++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->exe, sizeof p->exe, "%s", exe);
    snprintf(p->log_path, sizeof p->log_path, "%s/%s.log", s_data, name);
    p->admin_port = admin_port;
    return p;
}

/* Builds the process table from the services found next to this binary. Returns 0 or -1. */
static int s_plan(void) {
    char self[PATH_MAX], exe[PATH_MAX + 32], name[32];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        HK_ERROR("up.self_unknown", "error=\"%s\"", strerror(errno));
        return -1;
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash) {
        *slash = '\0';
    }
    s_add("redis", s_cfg.redis_server, 0);
    for (int s = 0; s < UP_SERVICES; s++) {
        snprintf(exe, sizeof exe, "%s/%s", self, s_services[s].binary);
        if (access(exe, X_OK) != 0) {
            continue;
        }
        long replicas = s == UP_ROUTER ? s_cfg.router_replicas : 1;
        for (long i = 0; i < replicas; i++) {
            snprintf(name, sizeof name, s == UP_ROUTER ? "%s-%ld" : "%s", s_services[s].name,
                     i + 1);
            up_proc_t *p = s_add(name, exe, s_cfg.admin_port[s] + 10 * i);
            if (!p || p->admin_port > 65535) {
                HK_ERROR("up.bad_plan", "name=%s reason=\"too many processes or port > 65535\"",
                         name);
                return -1;
            }
            if (s == UP_ROUTER) {
                p->is_router = 1;
                p->contacts_port = s_cfg.contacts_port ? s_cfg.contacts_port + 10 * i : 0;
                p->events_port = s_cfg.events_port ? s_cfg.events_port + 10 * i : 0;
                if (p->contacts_port > 65535 || p->events_port > 65535) {
                    HK_ERROR("up.bad_plan", "name=%s reason=\"bus port > 65535\"", name);
                    return -1;
                }
            }
        }
    }
    return 0;
}

/* Fails when any planned port already answers (another stack or program is using it). */
static int s_check_ports(void) {
    int rc = 0;
    for (size_t i = 0; i < s_nprocs; i++) {
        const up_proc_t *p = &s_procs[i];
        long ports[3] = {i == 0 ? s_cfg.redis_port : p->admin_port, p->contacts_port,
                         p->events_port};
        for (int k = 0; k < 3; k++) {
            int fd = ports[k] > 0 ? cli_tcp_connect(ports[k]) : -1;
            if (fd >= 0) {
                close(fd);
                fprintf(stderr, "hetki: port %ld for %s is already in use (another stack?)\n",
                        ports[k], p->name);
                rc = -1;
            }
        }
    }
    return rc;
}

/* The customer- or agent-facing endpoint of a service ("" for none): its default port unless
 * the service's own variable, which the service reads too, says otherwise. */
static void s_public_endpoint(const char *name, char *out, size_t len) {
    static const struct {
        const char *name, *var, *def, *fmt;
    } eps[] = {
        {"chat", "HETKI_CHAT_PORT", "8081", " http://127.0.0.1:%s/"},
        {"dashboard", "HETKI_DASHBOARD_PORT", "8080", " http://127.0.0.1:%s/"},
        {"phone", "HETKI_PHONE_SIP_PORT", "5060", " sip:127.0.0.1:%s (udp, tcp)"},
    };
    out[0] = '\0';
    for (size_t i = 0; i < sizeof eps / sizeof eps[0]; i++) {
        if (!strcmp(name, eps[i].name)) {
            const char *v = getenv(eps[i].var);
            snprintf(out, len, eps[i].fmt, v && v[0] ? v : eps[i].def);
        }
    }
}

/* Prints what runs where, and how to begin. */
static void s_print_table(void) {
    char ep[256];
    printf("hetki: local stack in %s\n  %-12s %-8s %-64s %s\n", s_data, "NAME", "PID", "ENDPOINTS",
           "LOG");
    for (size_t i = 0; i < s_nprocs; i++) {
        const up_proc_t *p = &s_procs[i];
        int n = i == 0 ? snprintf(ep, sizeof ep, "redis://127.0.0.1:%ld", s_cfg.redis_port)
                       : snprintf(ep, sizeof ep, "admin http://127.0.0.1:%ld", p->admin_port);
        if (p->is_router && n > 0 && (size_t)n < sizeof ep) {
            snprintf(ep + n, sizeof ep - (size_t)n, " contacts :%ld events :%ld", p->contacts_port,
                     p->events_port);
        } else if (n > 0 && (size_t)n < sizeof ep) {
            s_public_endpoint(p->name, ep + n, sizeof ep - (size_t)n);
        }
        printf("  %-12s %-8ld %-64s %s\n", p->name, (long)p->pid, ep, p->log_path);
    }
    for (size_t i = 0; i < s_nprocs; i++) {
        if (!strcmp(s_procs[i].name, "dashboard")) {
            printf("hetki: dashboard logins are made with (the password is read from stdin)\n"
                   "         hetki agent add --tenant demo --id aino --role agent --name 'Aino'\n"
                   "         hetki agent add --tenant demo --id sanna --role supervisor\n");
        }
    }
    printf("hetki: stack ready (Ctrl-C stops it)\n");
}

/* Starts Redis, then the services, and waits for each phase; returns 0, 1, or -1. */
static int s_start(void) {
    char port[16], redis_dir[PATH_MAX + 8], redis_log[PATH_MAX + 16];
    snprintf(port, sizeof port, "%ld", s_cfg.redis_port);
    snprintf(redis_dir, sizeof redis_dir, "%s/redis", s_data);
    snprintf(redis_log, sizeof redis_log, "%s/redis.log", s_data);
    if (cli_mkdir_p(redis_dir) != 0) {
        HK_ERROR("up.mkdir_failed", "path=%s error=\"%s\"", redis_dir, strerror(errno));
        return -1;
    }
    char *redis_argv[] = {s_procs[0].exe,
                          "--port",
                          port,
                          "--bind",
                          "127.0.0.1",
                          "--dir",
                          redis_dir,
                          "--appendonly",
                          "yes",
                          "--appendfsync",
                          "always",
                          "--save",
                          "",
                          "--daemonize",
                          "no",
                          "--protected-mode",
                          "yes",
                          "--logfile",
                          redis_log,
                          NULL};
    if (s_spawn(&s_procs[0], redis_argv) != 0) {
        return -1;
    }
    int rc = s_wait_ready(0, 1);
    for (size_t i = 1; rc == 0 && i < s_nprocs; i++) {
        char *argv[] = {s_procs[i].exe, NULL};
        rc = s_spawn(&s_procs[i], argv);
    }
    return rc == 0 && s_nprocs > 1 ? s_wait_ready(1, s_nprocs - 1) : rc;
}

int cli_up(int argc, char **argv) {
    char err[512];
    if (argc > 0) {
        int help = !strcmp(argv[0], "-h") || !strcmp(argv[0], "--help");
        fprintf(help ? stdout : stderr,
                "usage: hetki up\n  runs Redis and every service found next to hetki until "
                "Ctrl-C; settings:\n");
        for (size_t i = 0; i < UP_CONFIG_N; i++) {
            fprintf(help ? stdout : stderr, "  %-28s %s (default %s)\n", s_config[i].name,
                    s_config[i].help, s_config[i].default_value);
        }
        return help ? 0 : 2;
    }
    if (hk_config_load(s_config, UP_CONFIG_N, err, sizeof err) != 0) {
        fprintf(stderr, "hetki up: %s\n", err);
        return 2;
    }
    hk_log_level_t level = HK_LOG_INFO;
    hk_log_level_parse(s_cfg.log_level, &level);
    hk_log_init("up", "hetki-up", level);
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* Signals are taken synchronously (sigtimedwait); dispositions are reset first because a
     * background shell starts us with SIGINT ignored, and an ignored signal is never pending. */
    int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGCHLD};
    sigemptyset(&s_sigs);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        signal(sigs[i], SIG_DFL);
        sigaddset(&s_sigs, sigs[i]);
    }
    sigprocmask(SIG_BLOCK, &s_sigs, NULL);

    if (cli_mkdir_p(s_cfg.data_dir) != 0 || !realpath(s_cfg.data_dir, s_data)) {
        fprintf(stderr, "hetki up: cannot create data directory %s: %s\n", s_cfg.data_dir,
                strerror(errno));
        return 1;
    }
    if (s_plan() != 0 || s_check_ports() != 0) {
        return 1;
    }
    if (s_nprocs == 1) {
        HK_WARN("up.no_services", "reason=\"no hetki-* binaries next to hetki\"");
    }
    int rc = s_start();
    if (rc == 0) {
        s_print_table();
        up_proc_t *died = NULL;
        up_event_t ev;
        while ((ev = s_wait_event(60000, &died)) == UP_EV_NONE) {
        }
        if (ev == UP_EV_DIED) {
            s_report_death(died);
            rc = -1;
        }
    }
    s_stop_all();
    return rc < 0 ? 1 : 0;
}
