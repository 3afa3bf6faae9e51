/* hetki-loadgen: drives contacts through the real bus into the router replicas and reports
 * acked contacts/s and ack latency. Used by bench/ingest and by the integration tests as a
 * submitter process. Each contact gets the dedupe key <prefix>-<index>, so running it again
 * with the same prefix resubmits the same contacts (which must come back as duplicates).
 *
 * Output (stdout): with --out, one line per ack "<dedupe key> <contact id> <duplicate 0|1>";
 * at the end one summary line "loadgen sent=.. acked=.. duplicates=.. failed=.. ...".
 * Exit code 0 only when every contact was acked. */
#include "hk_clock.h"
#include "hk_config.h"
#include "hk_curve.h"
#include "hk_fmt.h"
#include "hk_log.h"
#include "hk_registry.h"
#include "hk_submit.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

typedef struct {
    long count, window, rate, start, urgent_every, min_routers, deadline_ms, timeout_ms;
    const char *tenant, *prefix, *out_path;
    const char *text;
} s_opts_t;

typedef struct s_req_t s_req_t;

typedef struct {
    s_opts_t o;
    uv_loop_t loop;
    void *zctx;
    hk_redis_t *redis;
    hk_registry_t *registry;
    hk_submit_t *submit;
    uv_timer_t pace;
    FILE *out;
    long next, inflight, acked, duplicates, failed, rejected;
    unsigned long resends;
    double *latency_ms;
    int64_t *sent_us;
    s_req_t *reqs; /* one per contact, by index - start */
    int64_t start_us, end_us;
    int running, done;
    char router[HK_CFG_STR_MAX];
    char key_head[160], text_head[256];
} s_gen_t;

struct s_req_t {
    s_gen_t *g;
    long index;
};

static void s_pump(s_gen_t *g);

static void s_finish(s_gen_t *g) {
    if (g->done) {
        return;
    }
    g->done = 1;
    g->end_us = hk_clock_real_us();
    g->resends = hk_submit_resends(g->submit);
    uv_timer_stop(&g->pace);
    uv_close((uv_handle_t *)&g->pace, NULL);
    hk_submit_destroy(&g->submit);
    hk_registry_destroy(&g->registry);
    hk_redis_destroy(&g->redis);
}

static void s_on_ack(const Hetki__V1__Ack *ack, const char *error, void *arg) {
    s_req_t *r = arg;
    s_gen_t *g = r->g;
    g->inflight--;
    if (!ack) {
        g->failed++;
        fprintf(stderr, "loadgen: %s-%ld failed: %s\n", g->o.prefix, r->index, error);
    } else if (ack->error_code != HETKI__V1__ERROR_CODE__ERROR_NONE) {
        g->rejected++;
        fprintf(stderr, "loadgen: %s-%ld refused: %s\n", g->o.prefix, r->index, ack->error_text);
    } else {
        g->acked++;
        g->duplicates += ack->duplicate ? 1 : 0;
        long slot = r->index - g->o.start;
        g->latency_ms[slot] = (double)(hk_clock_real_us() - g->sent_us[slot]) / 1000.0;
        if (g->out) {
            fprintf(g->out, "%s-%ld %s %d\n", g->o.prefix, r->index, ack->contact_id,
                    ack->duplicate ? 1 : 0);
        }
    }
    if (g->acked + g->failed + g->rejected == g->o.count) {
        s_finish(g);
    } else {
        s_pump(g);
    }
}

/* Writes head, n in decimal and tail into buf (len bytes), cut to fit as snprintf would. */
static void s_numbered(char *buf, size_t len, const char *head, long n, const char *tail) {
    char digits[HK_FMT_LONG_MAX];
    const char *part[3] = {head, digits, tail};
    size_t plen[3] = {strlen(head), hk_fmt_long(digits, n), strlen(tail)};
    size_t at = 0;
    for (int i = 0; i < 3; i++) {
        size_t k = plen[i] < len - 1 - at ? plen[i] : len - 1 - at;
        memcpy(buf + at, part[i], k);
        at += k;
    }
    buf[at] = '\0';
}

static void s_send_one(s_gen_t *g) {
    long index = g->o.start + g->next;
    char key[160], text[256], session[64];
    s_numbered(key, sizeof key, g->key_head, index, "");
    s_numbered(text, sizeof text, g->text_head, index, ")");
    s_numbered(session, sizeof session, "load-", index, "");
    Hetki__V1__Choices choices = HETKI__V1__CHOICES__INIT;
    Hetki__V1__CustomerIdentity customer = HETKI__V1__CUSTOMER_IDENTITY__INIT;
    customer.chat_session = session;
    Hetki__V1__Contact c = HETKI__V1__CONTACT__INIT;
    c.tenant = (char *)g->o.tenant;
    c.channel = HETKI__V1__CHANNEL__CHANNEL_CHAT;
    c.dedupe_key = key;
    c.text = text;
    c.language = "en";
    c.customer = &customer;
    c.choices = &choices;
    c.gateway = "loadgen";
    c.received_at_ms = hk_clock_now_ms();
    if (g->o.urgent_every > 0 && index % g->o.urgent_every == 0) {
        choices.urgent = 1;
    }
    s_req_t *r = &g->reqs[g->next];
    r->g = g;
    r->index = index;
    g->sent_us[g->next] = hk_clock_real_us();
    g->next++;
    g->inflight++;
    if (hk_submit_contact(g->submit, &c, s_on_ack, r) != 0) {
        g->inflight--;
        g->failed++;
    }
}

/* Sends while the window and the rate allow. */
static void s_pump(s_gen_t *g) {
    if (!g->running || g->done) {
        return;
    }
    long allowed = g->o.count;
    if (g->o.rate > 0) {
        int64_t elapsed = hk_clock_real_us() - g->start_us;
        allowed = (long)(elapsed * g->o.rate / 1000000) + 1;
    }
    while (g->next < g->o.count && g->inflight < g->o.window && g->next < allowed) {
        s_send_one(g);
    }
}

static void s_on_pace(uv_timer_t *t) {
    s_gen_t *g = t->data;
    if (!g->running) {
        if (hk_submit_live(g->submit) >= (size_t)g->o.min_routers) {
            g->running = 1;
            g->start_us = hk_clock_real_us();
        } else if ((hk_clock_real_us() - g->start_us) / 1000 > g->o.timeout_ms) {
            fprintf(stderr, "loadgen: fewer than %ld routers found in %ld ms\n", g->o.min_routers,
                    g->o.timeout_ms);
            g->failed = g->o.count;
            s_finish(g);
            return;
        }
    }
    s_pump(g);
}

static int s_cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void s_usage(void) {
    fprintf(stderr, "usage: hetki-loadgen [--count N] [--window W] [--rate PER_S] [--tenant T]\n"
                    "       [--prefix P] [--start I] [--out FILE] [--urgent-every K]\n"
                    "       [--min-routers K] [--deadline-ms MS]\n"
                    "Routers are found in Redis (HETKI_REDIS_HOST/PORT) or given by "
                    "HETKI_ROUTER_ENDPOINT.\n");
}

int main(int argc, char **argv) {
    static s_gen_t g;
    g.o = (s_opts_t){.count = 1000,
                     .window = 256,
                     .tenant = "load",
                     .prefix = "load",
                     .min_routers = 1,
                     .deadline_ms = 60000,
                     .timeout_ms = 15000,
                     .text = "load test contact"};
    static const struct option opts[] = {{"count", 1, 0, 'n'},
                                         {"window", 1, 0, 'w'},
                                         {"rate", 1, 0, 'r'},
                                         {"tenant", 1, 0, 't'},
                                         {"prefix", 1, 0, 'p'},
                                         {"start", 1, 0, 's'},
                                         {"out", 1, 0, 'o'},
                                         {"urgent-every", 1, 0, 'u'},
                                         {"min-routers", 1, 0, 'm'},
                                         {"deadline-ms", 1, 0, 'd'},
                                         {0, 0, 0, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'n':
            g.o.count = atol(optarg);
            break;
        case 'w':
            g.o.window = atol(optarg);
            break;
        case 'r':
            g.o.rate = atol(optarg);
            break;
        case 't':
            g.o.tenant = optarg;
            break;
        case 'p':
            g.o.prefix = optarg;
            break;
        case 's':
            g.o.start = atol(optarg);
            break;
        case 'o':
            g.o.out_path = optarg;
            break;
        case 'u':
            g.o.urgent_every = atol(optarg);
            break;
        case 'm':
            g.o.min_routers = atol(optarg);
            break;
        case 'd':
            g.o.deadline_ms = atol(optarg);
            break;
        default:
            s_usage();
            return 2;
        }
    }
    if (g.o.count <= 0 || g.o.window <= 0 || g.o.rate < 0) {
        s_usage();
        return 2;
    }
    char redis_host[HK_CFG_STR_MAX], log_level[HK_CFG_STR_MAX];
    long redis_port;
    hk_cfg_entry_t table[] = {
        {"HETKI_REDIS_HOST", HK_CFG_STRING, "127.0.0.1", 1, 255, NULL, redis_host, ""},
        {"HETKI_REDIS_PORT", HK_CFG_PORT, "6380", 1, 65535, NULL, &redis_port, ""},
        {"HETKI_ROUTER_ENDPOINT", HK_CFG_STRING, "", 0, 255, NULL, g.router, ""},
        {"HETKI_LOG_LEVEL", HK_CFG_ENUM, "warn", 0, 0, "debug|info|warn|error", log_level, ""},
    };
    char err[512];
    if (hk_config_load(table, 4, err, sizeof err) != 0) {
        fprintf(stderr, "hetki-loadgen: configuration error: %s\n", err);
        return 2;
    }
    hk_log_level_t level = HK_LOG_WARN;
    hk_log_level_parse(log_level, &level);
    hk_log_init("loadgen", g.o.prefix, level);
    if (g.o.out_path && !(g.out = fopen(g.o.out_path, "w"))) {
        perror(g.o.out_path);
        return 2;
    }
    g.latency_ms = calloc((size_t)g.o.count, sizeof *g.latency_ms);
    g.sent_us = calloc((size_t)g.o.count, sizeof *g.sent_us);
    g.reqs = calloc((size_t)g.o.count, sizeof *g.reqs);
    if (!g.latency_ms || !g.sent_us || !g.reqs) {
        fprintf(stderr, "hetki-loadgen: out of memory for %ld contacts\n", g.o.count);
        return 2;
    }
    /* The constant parts of the dedupe key "<prefix>-<index>" and text "<text> (<index>)". */
    snprintf(g.key_head, sizeof g.key_head, "%s-", g.o.prefix);
    snprintf(g.text_head, sizeof g.text_head, "%s (", g.o.text);
    uv_loop_init(&g.loop);
    if (hk_curve_from_env("hetki-loadgen") != 0) {
        return 2;
    }
    g.zctx = zmq_ctx_new();
    g.redis = hk_redis_new(&g.loop, redis_host, (int)redis_port);
    g.registry = hk_registry_new(&g.loop, g.redis, NULL, NULL, 0);
    hk_submit_opts_t sopts = {
        .attempt_timeout_ms = 1000, .deadline_ms = (int)g.o.deadline_ms, .discovery_ms = 500};
    g.submit = hk_submit_new(&g.loop, g.zctx, g.router[0] ? NULL : g.registry, &sopts);
    if (g.router[0]) {
        hk_submit_add_endpoint(g.submit, g.router);
    }
    hk_redis_start(g.redis);
    uv_timer_init(&g.loop, &g.pace);
    g.pace.data = &g;
    g.start_us = hk_clock_real_us();
    uv_timer_start(&g.pace, s_on_pace, 1, 1);
    uv_run(&g.loop, UV_RUN_DEFAULT);
    uv_loop_close(&g.loop);
    zmq_ctx_term(g.zctx);

    double elapsed = (double)(g.end_us - g.start_us) / 1e6;
    size_t n = 0;
    for (long i = 0; i < g.o.count; i++) {
        if (g.latency_ms[i] > 0) {
            g.latency_ms[n++] = g.latency_ms[i];
        }
    }
    qsort(g.latency_ms, n, sizeof *g.latency_ms, s_cmp);
    double p50 = n ? g.latency_ms[n / 2] : 0, p99 = n ? g.latency_ms[(n * 99) / 100] : 0;
    double max = n ? g.latency_ms[n - 1] : 0;
    printf("loadgen sent=%ld acked=%ld duplicates=%ld failed=%ld refused=%ld resends=%lu "
           "elapsed_s=%.3f rate_per_s=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
           g.next, g.acked, g.duplicates, g.failed, g.rejected, g.resends, elapsed,
           elapsed > 0 ? (double)g.acked / elapsed : 0.0, p50, p99, max);
    if (g.out) {
        fclose(g.out);
    }
    free(g.latency_ms);
    free(g.sent_us);
    free(g.reqs);
    return g.acked == g.o.count ? 0 : 1;
}
