/* test_routing_race: the routing engine under concurrency and a replica crash. Three router
 * replicas on one real Redis; 1,000 simulated agents (hetki-agentsim, four processes) accept,
 * decline and ignore offers while four submitters send 10,000 chat contacts, a fifth of them
 * urgent; offers lease for 2 s (a test policy loaded with `hetki policy load`), so ignored
 * offers time out and go to the next agent. Replica 0 is killed with SIGKILL once a fifth of
 * the contacts are stored.
 *
 * Every second during the run, and once more after everything stopped, one atomic snapshot
 * of the tenant (race_snapshot.lua) is checked: no contact has two live assignments (at most
 * one agent set holds it, and it is the contact's offer_agent or agent), no agent is over
 * capacity and each agent's load is the sum of the costs it holds, every contact is queued
 * (in exactly the queue zset its fields name), offered (with a lease timer), assigned,
 * resolution_proposed or closed. At the end: no acked contact is lost, no contact was
 * accepted by two agents, and every contact got closed within the settle time. Every
 * violation names the ids. */
#include "hk_test.h"
#include "hk_test_proc.h"

#include "hk_strmap.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_TENANT "race"
#define S_ROUTERS 3
#define S_SIMS 4
#define S_AGENTS_PER_SIM 250
#define S_SUBMITTERS 4
#define S_PER_SUBMITTER 2500
#define S_TOTAL (S_SUBMITTERS * S_PER_SUBMITTER)
#define S_SETTLE_MS 150000
#define S_SHOW 20 /* offending ids printed per rule */

typedef struct {
    pid_t pid;
    int admin_port;
} s_router_t;

typedef struct {
    char id[64];
    char state[24], agent[96], offer_agent[96], queue[48], lang[8];
    long cost;
    int exists, wrapped, leased;
    int owners;     /* agent contact sets holding it */
    char owner[96]; /* the first of them */
    int queued_in;  /* queue zsets holding it */
    char qkey[160]; /* the first of them */
    char accepted_by[96];
} s_contact_t;

/* One atomic snapshot of the tenant's routing state (race_snapshot.lua). */
typedef struct {
    s_contact_t *cs;
    int n;
    hk_strmap_t *by_id;
    long n_agents;
    long counts[6]; /* queued offered assigned resolution_proposed closed other */
} s_snap_t;

static char s_dir[256];
static char s_sha[64];
static const char *s_when = "";
static int s_violations;
static pid_t s_pids[S_ROUTERS + S_SIMS + S_SUBMITTERS + 1];
static int s_npids;
static hk_test_redis_t s_redis;
static hk_strmap_t *s_rule_counts;

/* Records one broken invariant; prints the first S_SHOW of each rule. */
static void s_violation(const char *rule, const char *fmt, ...) {
    s_violations++;
    long *n = hk_strmap_get(s_rule_counts, rule);
    if (!n) {
        n = calloc(1, sizeof *n);
        hk_strmap_put(s_rule_counts, rule, n);
    }
    if (++*n <= S_SHOW) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "VIOLATION (%s) %s: ", s_when, rule);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
}

/* At exit (also after a failed check): no process of ours outlives the test. */
static void s_cleanup(void) {
    for (int i = 0; i < s_npids; i++) {
        if (s_pids[i] > 0 && waitpid(s_pids[i], NULL, WNOHANG) == 0) {
            kill(s_pids[i], SIGKILL);
            waitpid(s_pids[i], NULL, 0);
        }
    }
    if (s_redis.pid > 0) {
        hk_test_redis_stop(&s_redis);
        s_redis.pid = 0;
    }
}

static pid_t s_track(pid_t pid) {
    s_pids[s_npids++] = pid;
    return pid;
}

static void s_start_router(s_router_t *rt, int redis_port, int index) {
    char bin[300], redis[48], admin[48], instance[64], log[300];
    rt->admin_port = hk_test_free_port();
    snprintf(redis, sizeof redis, "HETKI_REDIS_PORT=%d", redis_port);
    snprintf(admin, sizeof admin, "HETKI_ADMIN_PORT=%d", rt->admin_port);
    snprintf(instance, sizeof instance, "HETKI_INSTANCE=race-router-%d", index);
    snprintf(log, sizeof log, "%s/router-%d.log", s_dir, index);
    const char *env[] = {redis,
                         admin,
                         instance,
                         "HETKI_ROUTER_CONTACTS_PORT=0",
                         "HETKI_ROUTER_EVENTS_PORT=0",
                         "HETKI_REGISTRY_TTL_MS=1500",
                         "HETKI_ROUTER_TIMER_POLL_MS=50",
                         "HETKI_LOG_LEVEL=warn",
                         NULL};
    const char *argv[] = {hk_test_bin("hetki-router", bin, sizeof bin), NULL};
    rt->pid = s_track(hk_test_spawn(argv, env, log));
    HK_CHECK(hk_test_wait_ready(rt->admin_port, 30000) == 0, "router %d not ready (see %s)", index,
             log);
}

/* The tenant's policy: defaults, but offers lease for 2 s so that ignored offers come back
 * quickly (the default is 20 s). */
static void s_load_policy(int redis_port) {
    char path[300], bin[300], redis[48], log[300];
    snprintf(path, sizeof path, "%s/race.policy", s_dir);
    snprintf(log, sizeof log, "%s/policy.log", s_dir);
    FILE *f = fopen(path, "w");
    HK_CHECK(f, "cannot write %s", path);
    fprintf(f, "# test_routing_race\n[tenant]\nname = %s\n\n[agents]\noffer_lease = 2s\n",
            S_TENANT);
    fclose(f);
    snprintf(redis, sizeof redis, "HETKI_REDIS_PORT=%d", redis_port);
    const char *env[] = {redis, NULL};
    const char *argv[] = {hk_test_bin("hetki", bin, sizeof bin), "policy", "load", path, NULL};
    int status = 0;
    HK_CHECK(hk_test_wait(hk_test_spawn(argv, env, log), 30000, &status) == 0 &&
                 WIFEXITED(status) && WEXITSTATUS(status) == 0,
             "hetki policy load failed (see %s)", log);
}

static pid_t s_start_sim(int redis_port, int index) {
    char bin[300], redis[48], prefix[16], seed[16], n[16], out[300], log[300];
    snprintf(redis, sizeof redis, "HETKI_REDIS_PORT=%d", redis_port);
    snprintf(prefix, sizeof prefix, "sim%d", index);
    snprintf(seed, sizeof seed, "%d", 1000 + index);
    snprintf(n, sizeof n, "%d", S_AGENTS_PER_SIM);
    snprintf(out, sizeof out, "%s/sim-%d.out", s_dir, index);
    snprintf(log, sizeof log, "%s/sim-%d.log", s_dir, index);
    const char *env[] = {redis, NULL};
    /* A quarter of the agents do not chat (email only): they serve only the async queue. */
    /* clang-format off */
    const char *argv[] = {hk_test_bin("hetki-agentsim", bin, sizeof bin),
        "--tenant", S_TENANT, "--agents", n, "--prefix", prefix, "--seed", seed,
        "--accept", "0.78", "--decline", "0.12", "--handle-ms", "400", "--think-ms", "60",
        "--recover-ms", "300", "--duration-s", "900", "--min-routers", "3",
        "--channels", "chat,email,phone/chat/chat,email/email",
        "--languages", "fi,sv,en/en/fi,en/sv,en", "--out", out, "--progress-s", "10", NULL};
    /* clang-format on */
    return s_track(hk_test_spawn(argv, env, log));
}

static pid_t s_start_loadgen(int redis_port, int index) {
    char bin[300], redis[48], prefix[16], n[16], out[300], log[300];
    snprintf(redis, sizeof redis, "HETKI_REDIS_PORT=%d", redis_port);
    snprintf(prefix, sizeof prefix, "sub%d", index);
    snprintf(n, sizeof n, "%d", S_PER_SUBMITTER);
    snprintf(out, sizeof out, "%s/acks-%d.txt", s_dir, index);
    snprintf(log, sizeof log, "%s/sub-%d.log", s_dir, index);
    const char *env[] = {redis, NULL};
    /* clang-format off */
    const char *argv[] = {hk_test_bin("hetki-loadgen", bin, sizeof bin),
        "--tenant", S_TENANT, "--count", n, "--prefix", prefix, "--out", out,
        "--window", "64", "--rate", "600", "--urgent-every", "5", "--min-routers", "3",
        "--deadline-ms", "120000", NULL};
    /* clang-format on */
    return s_track(hk_test_spawn(argv, env, log));
}

/* True when the file at path contains needle (a log line). */
static int s_file_has(const char *path, const char *needle, char *line_out, size_t cap) {
    FILE *f = fopen(path, "r");
    char line[2048];
    int found = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (strstr(line, needle)) {
            found = 1;
            if (line_out) {
                snprintf(line_out, cap, "%s", line);
            }
        }
    }
    if (f) {
        fclose(f);
    }
    return found;
}

static long long s_int_reply(redisContext *c, const char *fmt, const char *arg) {
    redisReply *r = redisCommand(c, fmt, arg);
    HK_CHECK(r && r->type == REDIS_REPLY_INTEGER, "redis: %s %s failed", fmt, arg);
    long long n = r->integer;
    freeReplyObject(r);
    return n;
}

static const char *s_str(const redisReply *r, size_t i) {
    return r && r->type == REDIS_REPLY_ARRAY && i < r->elements &&
                   r->element[i]->type == REDIS_REPLY_STRING
               ? r->element[i]->str
               : "";
}

static void s_load_script(redisContext *c) {
    FILE *f = fopen(HK_RACE_SNAPSHOT_LUA, "r");
    HK_CHECK(f, "cannot open %s", HK_RACE_SNAPSHOT_LUA);
    static char body[16384];
    size_t len = fread(body, 1, sizeof body - 1, f);
    fclose(f);
    body[len] = '\0';
    redisReply *r = redisCommand(c, "SCRIPT LOAD %s", body);
    HK_CHECK(r && r->type == REDIS_REPLY_STRING, "SCRIPT LOAD: %s",
             r && r->type == REDIS_REPLY_ERROR ? r->str : "no answer");
    snprintf(s_sha, sizeof s_sha, "%s", r->str);
    freeReplyObject(r);
}

static void s_snap_free(s_snap_t *s) {
    hk_strmap_destroy(&s->by_id);
    free(s->cs);
    memset(s, 0, sizeof *s);
}

static void s_read_contacts(s_snap_t *s, const redisReply *rows) {
    s->n = (int)rows->elements;
    s->cs = calloc(rows->elements + 1, sizeof *s->cs);
    s->by_id = hk_strmap_new();
    for (size_t i = 0; i < rows->elements; i++) {
        const redisReply *r = rows->element[i];
        s_contact_t *x = &s->cs[i];
        snprintf(x->id, sizeof x->id, "%s", s_str(r, 0));
        snprintf(x->state, sizeof x->state, "%s", s_str(r, 1));
        snprintf(x->agent, sizeof x->agent, "%s", s_str(r, 2));
        snprintf(x->offer_agent, sizeof x->offer_agent, "%s", s_str(r, 3));
        snprintf(x->queue, sizeof x->queue, "%s", s_str(r, 4));
        snprintf(x->lang, sizeof x->lang, "%s", s_str(r, 5));
        x->cost = atol(s_str(r, 6));
        x->wrapped = s_str(r, 7)[0] != '\0';
        x->exists = s_str(r, 8)[0] != '\0';
        x->leased = !strcmp(s_str(r, 9), "1");
        hk_strmap_put(s->by_id, x->id, x);
    }
}

/* Agents: capacity and load; records which agent set holds each contact. */
static void s_check_agents(s_snap_t *s, const redisReply *rows) {
    s->n_agents = (long)rows->elements;
    for (size_t i = 0; i < rows->elements; i++) {
        const redisReply *r = rows->element[i];
        const char *aid = s_str(r, 0);
        const redisReply *set = r->element[3];
        long load = atol(s_str(r, 1)), capacity = atol(s_str(r, 2)), sum = 0;
        for (size_t k = 0; k < set->elements; k++) {
            const char *cid = set->element[k]->str;
            s_contact_t *x = hk_strmap_get(s->by_id, cid);
            if (!x) {
                s_violation("unknown_contact_held", "agent %s holds %s", aid, cid);
                continue;
            }
            sum += x->cost;
            if (x->owners++ == 0) {
                snprintf(x->owner, sizeof x->owner, "%s", aid);
            } else {
                s_violation("held_by_two_agents", "%s held by %s and %s", cid, x->owner, aid);
            }
        }
        if (load > capacity) {
            s_violation("over_capacity", "agent %s load=%ld capacity=%ld", aid, load, capacity);
        }
        if (load != sum) {
            s_violation("load_mismatch", "agent %s load=%ld but its %zu contacts cost %ld", aid,
                        load, set->elements, sum);
        }
    }
}

/* Queue zsets: records which queue holds each contact. */
static void s_check_queues(s_snap_t *s, const redisReply *rows) {
    for (size_t i = 0; i < rows->elements; i++) {
        const char *qkey = s_str(rows->element[i], 0);
        const redisReply *m = rows->element[i]->element[1];
        for (size_t k = 0; k < m->elements; k++) {
            s_contact_t *x = hk_strmap_get(s->by_id, m->element[k]->str);
            if (!x) {
                s_violation("unknown_contact_queued", "%s in %s", m->element[k]->str, qkey);
            } else if (x->queued_in++ == 0) {
                snprintf(x->qkey, sizeof x->qkey, "%s", qkey);
            } else {
                s_violation("in_two_queues", "%s in %s and %s", x->id, x->qkey, qkey);
            }
        }
    }
}

/* The per-contact rules; counts the states. */
static void s_check_contacts(s_snap_t *s) {
    static const char *const states[] = {"queued", "offered", "assigned", "resolution_proposed",
                                         "closed"};
    for (int i = 0; i < s->n; i++) {
        const s_contact_t *x = &s->cs[i];
        int st = 5;
        for (int k = 0; k < 5; k++) {
            st = !strcmp(x->state, states[k]) ? k : st;
        }
        s->counts[st]++;
        int holds_agent = x->owners == 1 && !strcmp(x->owner, x->agent);
        if (!x->exists) {
            s_violation("lost", "contact %s is listed but has no hash", x->id);
        } else if (st == 5) {
            s_violation("bad_state", "%s state=%s", x->id, x->state);
        } else if (st == 0) {
            char want[160];
            snprintf(want, sizeof want, "hk:{%s}:q:%s:%s", S_TENANT, x->queue, x->lang);
            if (x->queued_in != 1 || strcmp(x->qkey, want) != 0 || x->owners != 0) {
                s_violation("queued_wrong", "%s in %d queue(s) (%s, expected %s), %d agent set(s)",
                            x->id, x->queued_in, x->qkey, want, x->owners);
            }
        } else if (x->queued_in != 0) {
            s_violation("queued_and_not", "%s is %s but in %s", x->id, x->state, x->qkey);
        } else if (st == 1 && (x->owners != 1 || strcmp(x->owner, x->offer_agent) || !x->leased)) {
            s_violation("offer_wrong", "%s offered to %s, held by %d set(s) (%s), lease=%d", x->id,
                        x->offer_agent, x->owners, x->owner, x->leased);
        } else if (st == 2 && (!x->agent[0] || !holds_agent)) {
            s_violation("assignment_wrong", "%s agent=%s, held by %d set(s) (%s)", x->id, x->agent,
                        x->owners, x->owner);
        } else if (st == 3 && (!x->agent[0] || !(holds_agent || (x->owners == 0 && x->wrapped)))) {
            s_violation("proposed_wrong", "%s agent=%s wrapped=%d, held by %d set(s) (%s)", x->id,
                        x->agent, x->wrapped, x->owners, x->owner);
        } else if (st == 4 && x->owners != 0 && !(holds_agent && !x->wrapped)) {
            s_violation("closed_but_held", "%s held by %s after wrap-up", x->id, x->owner);
        }
    }
}

/* Takes one atomic snapshot and checks what must hold at every moment. */
static void s_snapshot(redisContext *c, const char *when, s_snap_t *s) {
    s_when = when;
    memset(s, 0, sizeof *s);
    redisReply *r = redisCommand(c, "EVALSHA %s 1 hk:{" S_TENANT "}:", s_sha);
    HK_CHECK(r && r->type == REDIS_REPLY_ARRAY && r->elements == 3, "snapshot failed: %s",
             r && r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
    s_read_contacts(s, r->element[0]);
    s_check_agents(s, r->element[1]);
    s_check_queues(s, r->element[2]);
    s_check_contacts(s);
    freeReplyObject(r);
}

/* Reads the "<key> <id> <dup>" ack lines of all submitters into ids. */
static int s_read_acks(char (*ids)[64]) {
    hk_strmap_t *seen = hk_strmap_new();
    int n = 0;
    for (int i = 0; i < S_SUBMITTERS; i++) {
        char path[300], key[160], id[64];
        int dup;
        snprintf(path, sizeof path, "%s/acks-%d.txt", s_dir, i);
        FILE *f = fopen(path, "r");
        HK_CHECK(f, "cannot open %s", path);
        while (fscanf(f, "%159s %63s %d", key, id, &dup) == 3) {
            HK_CHECK(n < S_TOTAL, "more acks than contacts");
            HK_CHECK(!hk_strmap_get(seen, id), "contact %s acked twice (%s)", id, key);
            snprintf(ids[n], sizeof ids[n], "%s", id);
            hk_strmap_put(seen, ids[n], ids[n]);
            n++;
        }
        fclose(f);
    }
    hk_strmap_destroy(&seen);
    return n;
}

/* After the run: nothing lost, nobody accepted a contact another agent accepted, and every
 * contact got closed. */
static void s_check_final(s_snap_t *s, char (*ids)[64], int n) {
    s_when = "final";
    if (s->n != n) {
        s_violation("contact_count", "hk:{%s}:contacts has %d contacts, %d were acked", S_TENANT,
                    s->n, n);
    }
    for (int i = 0; i < n; i++) {
        s_contact_t *x = hk_strmap_get(s->by_id, ids[i]);
        if (!x || !x->exists) {
            s_violation("lost", "acked contact %s is not stored", ids[i]);
        }
    }
    for (int k = 0; k < S_SIMS; k++) {
        char path[300], what[16], cid[64], aid[96];
        snprintf(path, sizeof path, "%s/sim-%d.out", s_dir, k);
        FILE *f = fopen(path, "r");
        HK_CHECK(f, "cannot open %s", path);
        while (fscanf(f, "%15s %63s %95s", what, cid, aid) == 3) {
            s_contact_t *x = hk_strmap_get(s->by_id, cid);
            if (!x) {
                s_violation("unknown_contact_accepted", "%s by %s", cid, aid);
            } else if (!strcmp(what, "accept")) {
                if (x->accepted_by[0]) {
                    s_violation("accepted_twice", "%s by %s and by %s", cid, x->accepted_by, aid);
                }
                snprintf(x->accepted_by, sizeof x->accepted_by, "%s", aid);
                if (strcmp(x->agent, aid) != 0) {
                    s_violation("accepted_but_agent_differs", "%s accepted by %s, agent=%s", cid,
                                aid, x->agent);
                }
            }
        }
        fclose(f);
    }
    for (int i = 0; i < s->n; i++) {
        const s_contact_t *x = &s->cs[i];
        if (strcmp(x->state, "closed") != 0) {
            s_violation("not_closed", "%s is %s (agent=%s offer_agent=%s queue=%s)", x->id,
                        x->state, x->agent, x->offer_agent, x->queue);
        }
    }
}

static void s_print_trail(redisContext *c, const char *cid) {
    redisReply *r = redisCommand(c, "LRANGE hk:{" S_TENANT "}:trail:%s 0 -1", cid);
    fprintf(stderr, "trail of %s:\n", cid);
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        fprintf(stderr, "    %s\n", r->element[i]->str);
    }
    freeReplyObject(r);
}

/* Snapshots while the run goes on: every second until fn says stop. Returns how many were taken
 * and adds the live contacts (offered, assigned, proposed) they saw to *live. */
static int s_watch(redisContext *c, const char *when, int (*done)(void *), void *arg, long *live) {
    int taken = 0;
    long long next = 0;
    while (!done(arg)) {
        if (hk_test_now_ms() >= next) {
            s_snap_t s;
            s_snapshot(c, when, &s);
            *live += s.counts[1] + s.counts[2] + s.counts[3];
            s_snap_free(&s);
            taken++;
            next = hk_test_now_ms() + 1000;
        }
        hk_test_sleep_ms(50);
    }
    return taken;
}

typedef struct {
    pid_t *pids;
    int n;
    int statuses[S_SUBMITTERS];
    int exited;
    long long until;
} s_wait_t;

/* Done when every submitter exited (or the time is up). */
static int s_submitters_done(void *arg) {
    s_wait_t *w = arg;
    for (int i = 0; i < w->n; i++) {
        if (w->pids[i] > 0 && waitpid(w->pids[i], &w->statuses[i], WNOHANG) == w->pids[i]) {
            w->pids[i] = 0;
            w->exited++;
        }
    }
    return w->exited == w->n || hk_test_now_ms() > w->until;
}

typedef struct {
    redisContext *c;
    long long until;
    int open;
} s_settle_t;

/* Done when every stored contact is closed (or the settle time is up). */
static int s_all_closed(void *arg) {
    s_settle_t *st = arg;
    redisReply *r = redisCommand(st->c, "ZRANGE hk:{" S_TENANT "}:contacts 0 -1");
    HK_CHECK(r && r->type == REDIS_REPLY_ARRAY, "ZRANGE contacts failed");
    for (size_t i = 0; i < r->elements; i++) {
        redisAppendCommand(st->c, "HGET hk:{" S_TENANT "}:contact:%s state", r->element[i]->str);
    }
    st->open = 0;
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *x = NULL;
        HK_CHECK(redisGetReply(st->c, (void **)&x) == REDIS_OK, "HGET state failed");
        st->open += !(x->type == REDIS_REPLY_STRING && !strcmp(x->str, "closed"));
        freeReplyObject(x);
    }
    freeReplyObject(r);
    return st->open == 0 || hk_test_now_ms() > st->until;
}

int main(void) {
    long long t0 = hk_test_now_ms();
    snprintf(s_dir, sizeof s_dir, "/tmp/hetki-it-race-XXXXXX");
    HK_CHECK(mkdtemp(s_dir), "mkdtemp");
    s_rule_counts = hk_strmap_new();
    HK_CHECK(hk_test_redis_start(&s_redis) == 0, "redis-server did not start");
    atexit(s_cleanup);
    s_load_policy(s_redis.port);
    s_router_t routers[S_ROUTERS];
    for (int i = 0; i < S_ROUTERS; i++) {
        s_start_router(&routers[i], s_redis.port, i);
    }
    redisContext *c = hk_test_redis_connect(s_redis.port);
    s_load_script(c);

    /* Agents first: each simulator registers its agents and makes them available. */
    pid_t sims[S_SIMS];
    for (int i = 0; i < S_SIMS; i++) {
        sims[i] = s_start_sim(s_redis.port, i);
    }
    for (int i = 0; i < S_SIMS; i++) {
        char log[300];
        snprintf(log, sizeof log, "%s/sim-%d.log", s_dir, i);
        long long until = hk_test_now_ms() + 120000;
        while (!s_file_has(log, "agents available", NULL, 0)) {
            HK_CHECK(hk_test_now_ms() < until && waitpid(sims[i], NULL, WNOHANG) == 0,
                     "simulator %d did not make its agents available (see %s)", i, log);
            hk_test_sleep_ms(100);
        }
    }
    fprintf(stderr, "%d agents available after %.1f s\n", S_SIMS * S_AGENTS_PER_SIM,
            (double)(hk_test_now_ms() - t0) / 1000.0);

    /* Contacts while agents accept, decline and ignore; kill replica 0 a fifth of the way. */
    pid_t gens[S_SUBMITTERS];
    for (int i = 0; i < S_SUBMITTERS; i++) {
        gens[i] = s_start_loadgen(s_redis.port, i);
    }
    long long until = hk_test_now_ms() + 180000;
    while (s_int_reply(c, "ZCARD %s", "hk:{" S_TENANT "}:contacts") < S_TOTAL / 5) {
        HK_CHECK(hk_test_now_ms() < until, "contacts are not arriving");
        hk_test_sleep_ms(20);
    }
    long long at_kill = s_int_reply(c, "ZCARD %s", "hk:{" S_TENANT "}:contacts");
    HK_CHECK(at_kill < S_TOTAL, "the run finished before the kill (%lld stored)", at_kill);
    kill(routers[0].pid, SIGKILL);
    waitpid(routers[0].pid, NULL, 0);
    fprintf(stderr, "killed router 0 after %lld contacts were stored (%.1f s)\n", at_kill,
            (double)(hk_test_now_ms() - t0) / 1000.0);

    /* Invariants hold at every moment: check atomic snapshots while the run goes on. */
    long live = 0;
    s_wait_t w = {.pids = gens, .n = S_SUBMITTERS, .until = hk_test_now_ms() + 300000};
    int snaps = s_watch(c, "during intake", s_submitters_done, &w, &live);
    HK_CHECK(w.exited == S_SUBMITTERS, "submitters hang (see %s/sub-*.log)", s_dir);
    for (int i = 0; i < S_SUBMITTERS; i++) {
        HK_CHECK(WIFEXITED(w.statuses[i]) && WEXITSTATUS(w.statuses[i]) == 0,
                 "submitter %d failed (see %s/sub-%d.log)", i, s_dir, i);
    }
    fprintf(stderr, "all %d contacts acked after %.1f s\n", S_TOTAL,
            (double)(hk_test_now_ms() - t0) / 1000.0);
    s_settle_t st = {.c = c, .until = hk_test_now_ms() + S_SETTLE_MS};
    snaps += s_watch(c, "settling", s_all_closed, &st, &live);
    fprintf(stderr,
            "settled after %.1f s with %d contacts open; %d snapshots checked, %ld live "
            "contacts seen in them\n",
            (double)(hk_test_now_ms() - t0) / 1000.0, st.open, snaps, live);
    HK_EXPECT(live > 0, "no snapshot caught a live offer or assignment");

    /* Stop everything, so that Redis holds still for the final check. */
    long timeouts = 0;
    for (int i = 0; i < S_SIMS; i++) {
        int status = hk_test_stop(sims[i], 20000);
        char log[300], line[2048] = "";
        snprintf(log, sizeof log, "%s/sim-%d.log", s_dir, i);
        HK_CHECK(s_file_has(log, "agentsim offers=", line, sizeof line), "no summary in %s", log);
        fprintf(stderr, "sim%d: %s", i, line);
        const char *t = strstr(line, " timeouts=");
        timeouts += t ? atol(t + 10) : 0;
        HK_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0 && strstr(line, " errors=0 ") &&
                      strstr(line, " dup_offers=0 "),
                  "simulator %d had errors or was offered a contact it held (see %s)", i, log);
    }
    for (int i = 1; i < S_ROUTERS; i++) {
        int status = hk_test_stop(routers[i].pid, 20000);
        HK_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "router %d exit status %d", i,
                  status);
    }
    HK_EXPECT(timeouts > 0, "no offer timed out: the ignore path was not exercised");

    static char ids[S_TOTAL][64];
    int n = s_read_acks(ids);
    HK_CHECK_INT_EQ(n, S_TOTAL);
    s_snap_t s;
    s_snapshot(c, "final", &s);
    HK_CHECK_INT_EQ(s.n_agents, S_SIMS * S_AGENTS_PER_SIM);
    s_check_final(&s, ids, n);
    fprintf(stderr,
            "final states: queued=%ld offered=%ld assigned=%ld resolution_proposed=%ld "
            "closed=%ld other=%ld\n",
            s.counts[0], s.counts[1], s.counts[2], s.counts[3], s.counts[4], s.counts[5]);
    if (s_violations) {
        for (int i = 0, shown = 0; i < s.n && shown < 3; i++) {
            if (strcmp(s.cs[i].state, "closed") != 0) {
                s_print_trail(c, s.cs[i].id);
                shown++;
            }
        }
        size_t nr = 0;
        char **rules = hk_strmap_keys(s_rule_counts, &nr);
        for (size_t i = 0; i < nr; i++) {
            fprintf(stderr, "rule %s: %ld violation(s)\n", rules[i],
                    *(long *)hk_strmap_get(s_rule_counts, rules[i]));
        }
        free(rules);
    }
    HK_EXPECT(s_violations == 0, "%d invariant violation(s); logs kept in %s", s_violations, s_dir);
    s_snap_free(&s);
    redisFree(c);
    s_cleanup();
    hk_strmap_destroy_values(&s_rule_counts, free);
    if (hk_test_failures(0) == 0) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
        HK_CHECK(system(cmd) == 0, "cleanup");
        printf("routing race: %d contacts, %d agents, %d replicas (one killed at %lld stored); "
               "%d snapshots consistent, all closed; %.1f s\n",
               S_TOTAL, S_SIMS * S_AGENTS_PER_SIM, S_ROUTERS, at_kill, snaps,
               (double)(hk_test_now_ms() - t0) / 1000.0);
    }
    return HK_TEST_EXIT();
}
