/* hetki-agentsim: simulates the agents of one tenant over the real bus, for the routing race
 * test and bench/assign. It registers N agents (AgentProfile), makes them available, and
 * answers the offers the routers publish for them (contact.offered events): accept with
 * probability --accept, decline with --decline, and ignore the rest so that the lease runs
 * out. An accepted contact is handled for about --handle-ms, then the agent proposes a
 * resolution, the customer confirms it (CustomerConfirm) and the agent wraps up. An agent
 * the router marks not responding goes available again after --recover-ms. It stops after
 * --duration-s, or once --until-closed contacts were closed or --until-accepted accepted.
 *
 * Every command carries its own command_id and goes through hk_submit, which resends it to
 * another replica on timeout; the router answers a resend with the first reply, so a replica
 * dying mid-command is harmless. Events are checked by (publisher, seq) (see common/hk_events.h).
 *
 * Routers are found in the registry in Redis, or given by HETKI_ROUTER_ENDPOINT (requests)
 * and HETKI_ROUTER_EVENTS_ENDPOINT (events).
 *
 * Output: with --out, lines "accept <contact> <agent>" and "closed <contact> <agent>"; at the
 * end one summary line on stdout "agentsim offers=.. accepted=.. declined=.. ignored=..
 * closed=.. errors=.. ...". Exit code 0 when no command failed unexpectedly. */
#include "hk_events.h"
#include "as_options.h"

#include "hk_clock.h"
#include "hk_config.h"
#include "hk_curve.h"
#include "hk_id.h"
#include "hk_log.h"
#include "hk_registry.h"
#include "hk_strmap.h"
#include "hk_submit.h"

#include <assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_SETUP_WINDOW 200
#define S_GIVE_UPS 3
#define S_TICK_MS 50
#define S_RESYNC_EVERY_MS 5000

typedef enum { S_START, S_REGISTER, S_AVAILABLE, S_RUN, S_STOP } s_stage_t;
typedef enum {
    C_PROFILE,
    C_AVAILABLE,
    C_ACCEPT,
    C_DECLINE,
    C_PROPOSE,
    C_CONFIRM,
    C_WRAPUP
} s_cmd_t;
typedef enum { J_THINK, J_IGNORED, J_BUSY, J_HANDLE } s_phase_t;

typedef struct s_sim s_sim_t;

typedef struct {
    s_sim_t *sim;
    long index;
    char id[96];
    int recovering; /* an AVAILABLE is scheduled or in flight */
    uv_timer_t timer;
} s_agent_t;

/* One offer to one of our agents, followed through its lifecycle. */
typedef struct {
    s_sim_t *sim;
    s_agent_t *agent;
    char key[160]; /* "<contact>/<agent index>" */
    char cid[64];
    s_phase_t phase;
    int accept;         /* the decision: 1 accept, 0 decline */
    int64_t offered_ms; /* the router's clock when it published the offer */
    uv_timer_t timer;
} s_job_t;

/* One command in flight; resubmitted with the same command_id when hk_submit gives up. */
typedef struct {
    s_sim_t *sim;
    s_cmd_t what;
    s_agent_t *agent;
    s_job_t *job;
    char command_id[HK_ID_LEN + 1];
    int64_t sent_us;
    int tries;
    int setup;
} s_call_t;

typedef struct {
    double *v;
    size_t n, cap;
} s_lat_t;

struct s_sim {
    as_opts_t o;
    uv_loop_t loop;
    void *zctx;
    hk_redis_t *redis;
    hk_registry_t *registry;
    hk_submit_t *submit;
    hk_events_t *events;
    uv_timer_t tick, duration;
    uv_signal_t sigint, sigterm;
    s_stage_t stage;
    int stopping;
    s_agent_t *agents;
    hk_strmap_t *jobs;
    uint64_t rng;
    long setup_next, setup_inflight, setup_done;
    int64_t start_ms, wait_since_ms, run_ms, first_offer_ms, last_accept_ms, last_resync_ms;
    int resync_due;
    int64_t last_progress_ms;
    hk_events_stats_t final_events; /* kept when the subscriber is destroyed */
    unsigned long final_resends;
    unsigned long offers, accepted, declined, ignored, timeouts, stale, closed, errors;
    unsigned long not_responding, resyncs, give_ups, dup_offers;
    s_lat_t decision, command, offer_to_accept;
    FILE *out;
    char router[HK_CFG_STR_MAX], router_events[HK_CFG_STR_MAX];
};

static void s_send(s_call_t *call);
static void s_call_done(s_call_t *call, int free_job);
static void s_stop(s_sim_t *sim);

/* splitmix64: small, seedable, good enough for a simulation. */
static double s_rand01(s_sim_t *sim) {
    uint64_t z = (sim->rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

static void s_lat_add(s_lat_t *l, double ms) {
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 1024;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        assert(l->v);
    }
    l->v[l->n++] = ms;
}

static int s_cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The q-th quantile (0..1) of l, sorting it in place; 0 when empty. */
static double s_quantile(s_lat_t *l, double q) {
    if (l->n == 0) {
        return 0;
    }
    qsort(l->v, l->n, sizeof *l->v, s_cmp);
    size_t i = (size_t)(q * (double)l->n);
    return l->v[i < l->n ? i : l->n - 1];
}

/* ------------------------------------------------------------------------------------- */
/* Jobs                                                                                   */

static void s_on_job_closed(uv_handle_t *h) {
    free(h->data);
}

static void s_job_free(s_job_t *job) {
    hk_strmap_remove(job->sim->jobs, job->key);
    uv_close((uv_handle_t *)&job->timer, s_on_job_closed);
}

static s_call_t *s_call(s_sim_t *sim, s_cmd_t what, s_agent_t *agent, s_job_t *job) {
    s_call_t *call = calloc(1, sizeof *call);
    assert(call);
    call->sim = sim;
    call->what = what;
    call->agent = agent;
    call->job = job;
    hk_id_new(call->command_id);
    call->sent_us = hk_clock_real_us();
    return call;
}

static void s_command(s_sim_t *sim, s_cmd_t what, s_agent_t *agent, s_job_t *job) {
    s_send(s_call(sim, what, agent, job));
}

/* A uniformly random delay in [base/2, 3*base/2]. */
static uint64_t s_jitter(s_sim_t *sim, long base) {
    return base <= 0 ? 0 : (uint64_t)((double)base * (0.5 + s_rand01(sim)));
}

static void s_on_decide(uv_timer_t *t) {
    s_job_t *job = t->data;
    job->phase = J_BUSY;
    s_command(job->sim, job->accept ? C_ACCEPT : C_DECLINE, job->agent, job);
}

static void s_on_handled(uv_timer_t *t) {
    s_job_t *job = t->data;
    job->phase = J_BUSY;
    s_command(job->sim, C_PROPOSE, job->agent, job);
}

static void s_on_offer(s_sim_t *sim, s_agent_t *a, const Hetki__V1__ContactEvent *ev) {
    char key[160];
    snprintf(key, sizeof key, "%s/%ld", ev->contact_id, a->index);
    s_job_t *old = hk_strmap_get(sim->jobs, key);
    if (old && old->phase == J_IGNORED) {
        s_job_free(old); /* offered again (its timeout event was lost): a new offer */
    } else if (old) {
        sim->dup_offers++; /* offered again while we act on the first offer: tell */
        HK_WARN("agentsim.offered_twice", "contact=%s agent=%s", ev->contact_id, a->id);
        return;
    }
    s_job_t *job = calloc(1, sizeof *job);
    assert(job);
    job->sim = sim;
    job->agent = a;
    snprintf(job->key, sizeof job->key, "%s", key);
    snprintf(job->cid, sizeof job->cid, "%s", ev->contact_id);
    job->offered_ms = ev->at_ms;
    uv_timer_init(&sim->loop, &job->timer);
    job->timer.data = job;
    hk_strmap_put(sim->jobs, job->key, job);
    sim->offers++;
    if (!sim->first_offer_ms) {
        sim->first_offer_ms = hk_clock_now_ms();
    }
    double r = s_rand01(sim);
    if (r >= sim->o.p_accept + sim->o.p_decline) {
        job->phase = J_IGNORED; /* let the lease run out */
        sim->ignored++;
        return;
    }
    job->accept = r < sim->o.p_accept;
    if (sim->o.think_ms > 0) {
        job->phase = J_THINK;
        uv_timer_start(&job->timer, s_on_decide, (uint64_t)(s_rand01(sim) * sim->o.think_ms), 0);
    } else {
        s_on_decide(&job->timer);
    }
}

/* ------------------------------------------------------------------------------------- */
/* Agents                                                                                 */

static s_agent_t *s_our_agent(s_sim_t *sim, const char *aid) {
    size_t n = strlen(sim->o.prefix);
    if (strncmp(aid, sim->o.prefix, n) != 0 || aid[n] != '-') {
        return NULL;
    }
    char *end = NULL;
    long i = strtol(aid + n + 1, &end, 10);
    if (!end || *end || end == aid + n + 1 || i < 0 || i >= sim->o.agents) {
        return NULL;
    }
    return &sim->agents[i];
}

static void s_on_recover(uv_timer_t *t) {
    s_agent_t *a = t->data;
    s_command(a->sim, C_AVAILABLE, a, NULL);
}

static void s_recover(s_agent_t *a, uint64_t delay_ms) {
    if (!a->recovering && !a->sim->stopping && a->sim->stage >= S_AVAILABLE) {
        a->recovering = 1;
        uv_timer_start(&a->timer, s_on_recover, delay_ms, 0);
    }
}

static void s_on_event(const Hetki__V1__ContactEvent *ev, void *arg) {
    s_sim_t *sim = arg;
    s_agent_t *a = ev->agent_id[0] ? s_our_agent(sim, ev->agent_id) : NULL;
    if (!a || sim->stopping) {
        return;
    }
    if (!strcmp(ev->kind, "contact.offered")) {
        s_on_offer(sim, a, ev);
    } else if (!strcmp(ev->kind, "contact.offer_timeout")) {
        char key[160];
        snprintf(key, sizeof key, "%s/%ld", ev->contact_id, a->index);
        s_job_t *job = hk_strmap_get(sim->jobs, key);
        if (job && job->phase == J_IGNORED) {
            sim->timeouts++;
            s_job_free(job);
        }
    } else if (!strcmp(ev->kind, "agent.state") && !strcmp(ev->state, "not_responding")) {
        sim->not_responding++;
        s_recover(a, (uint64_t)sim->o.recover_ms);
    }
}

/* Events were lost: an agent may have missed being marked not responding. Make every agent
 * available again (harmless for those that are), at most every few seconds. */
static void s_on_gap(const char *publisher, unsigned long missed, void *arg) {
    s_sim_t *sim = arg;
    sim->resync_due = 1;
}

static void s_resync(s_sim_t *sim) {
    int64_t now = hk_clock_mono_ms();
    if (!sim->resync_due || now - sim->last_resync_ms < S_RESYNC_EVERY_MS) {
        return;
    }
    sim->resync_due = 0;
    sim->last_resync_ms = now;
    sim->resyncs++;
    for (long i = 0; i < sim->o.agents; i++) {
        s_recover(&sim->agents[i], (uint64_t)(s_rand01(sim) * 1000));
    }
}

/* ------------------------------------------------------------------------------------- */
/* Commands                                                                               */

static void s_fill_profile(s_sim_t *sim, s_agent_t *a, Hetki__V1__AgentProfile *p) {
    const as_set_t *cs = &sim->o.ch_sets[a->index % (long)sim->o.n_ch_sets];
    const as_set_t *ls = &sim->o.lang_sets[a->index % (long)sim->o.n_lang_sets];
    p->tenant = (char *)sim->o.tenant;
    p->agent_id = a->id;
    p->display_name = a->id;
    p->n_channels = cs->n_ch;
    p->channels = (Hetki__V1__Channel *)cs->ch;
    p->n_languages = ls->n_lang;
    p->languages = (char **)ls->lang;
    p->n_skills = sim->o.n_skills;
    p->skills = sim->o.skills;
    p->capacity = (int32_t)sim->o.capacity;
}

static void s_on_reply(const hk_envelope_t *reply, const char *error, void *arg);

static void s_send(s_call_t *call) {
    s_sim_t *sim = call->sim;
    hk_envelope_t env = HETKI__V1__ENVELOPE__INIT;
    Hetki__V1__AgentProfile profile = HETKI__V1__AGENT_PROFILE__INIT;
    Hetki__V1__AgentCommand cmd = HETKI__V1__AGENT_COMMAND__INIT;
    Hetki__V1__CustomerConfirm confirm = HETKI__V1__CUSTOMER_CONFIRM__INIT;
    static const Hetki__V1__AgentCommandKind kinds[] = {
        HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_UNSPECIFIED,
        HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_AVAILABLE,
        HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_ACCEPT,
        HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_DECLINE,
        HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_PROPOSE_RESOLUTION,
        HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_UNSPECIFIED,
        HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_WRAP_UP};
    if (call->what == C_PROFILE) {
        s_fill_profile(sim, call->agent, &profile);
        env.body_case = HETKI__V1__ENVELOPE__BODY_AGENT_PROFILE;
        env.agent_profile = &profile;
    } else if (call->what == C_CONFIRM) {
        confirm.command_id = call->command_id;
        confirm.tenant = (char *)sim->o.tenant;
        confirm.contact_id = call->job->cid;
        confirm.confirmed = 1;
        confirm.text = "thanks, that fixed it";
        env.body_case = HETKI__V1__ENVELOPE__BODY_CUSTOMER_CONFIRM;
        env.customer_confirm = &confirm;
    } else {
        cmd.command_id = call->command_id;
        cmd.tenant = (char *)sim->o.tenant;
        cmd.agent_id = call->agent->id;
        cmd.kind = kinds[call->what];
        cmd.contact_id = call->job ? call->job->cid : "";
        cmd.wrap_code = call->what == C_WRAPUP ? (char *)sim->o.wrap_code : "";
        env.body_case = HETKI__V1__ENVELOPE__BODY_AGENT_COMMAND;
        env.agent_command = &cmd;
    }
    if (hk_submit_request(sim->submit, &env, s_on_reply, call) != 0) {
        sim->errors++;
        HK_ERROR("agentsim.encode_failed", "agent=%s", call->agent->id);
        s_call_done(call, 1);
    }
}

static void s_setup_pump(s_sim_t *sim);

/* The end of a job's lifecycle or of a command that went wrong. */
static void s_call_done(s_call_t *call, int free_job) {
    if (free_job && call->job) {
        s_job_free(call->job);
    }
    if (call->what == C_AVAILABLE && !call->setup) {
        call->agent->recovering = 0;
    }
    if (call->setup) {
        call->sim->setup_inflight--;
        call->sim->setup_done++;
        s_setup_pump(call->sim);
    }
    free(call);
}

static const char *s_code_name(Hetki__V1__ErrorCode code) {
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&hetki__v1__error_code__descriptor, (int)code);
    return v ? v->name : "?";
}

static void s_on_reply(const hk_envelope_t *reply, const char *error, void *arg) {
    s_call_t *call = arg;
    s_sim_t *sim = call->sim;
    s_job_t *job = call->job;
    if (sim->stopping) {
        s_call_done(call, 1);
        return;
    }
    if (!reply) {
        sim->give_ups++;
        if (++call->tries < S_GIVE_UPS) {
            s_send(call); /* same command_id: the router answers a repeat with the first reply */
            return;
        }
        sim->errors++;
        HK_ERROR("agentsim.command_lost", "agent=%s contact=%s what=%d error=\"%s\"",
                 call->agent->id, job ? job->cid : "", (int)call->what, error);
        s_call_done(call, 1);
        return;
    }
    double ms = (double)(hk_clock_real_us() - call->sent_us) / 1000.0;
    s_lat_add(&sim->command, ms);
    Hetki__V1__ErrorCode code = HETKI__V1__ERROR_CODE__ERROR_INTERNAL;
    const char *text = "not a command reply";
    if (reply->body_case == HETKI__V1__ENVELOPE__BODY_COMMAND_REPLY) {
        code = reply->command_reply->error_code;
        text = reply->command_reply->error_text;
    }
    int ok = code == HETKI__V1__ERROR_CODE__ERROR_NONE;
    int raced = code == HETKI__V1__ERROR_CODE__ERROR_NOT_YOURS ||
                code == HETKI__V1__ERROR_CODE__ERROR_STATE;
    if (call->what == C_ACCEPT || call->what == C_DECLINE) {
        s_lat_add(&sim->decision, ms);
        if (!ok && raced) {
            sim->stale++; /* the lease ran out first (or the replica died): not ours any more */
            HK_INFO("agentsim.stale_offer", "contact=%s agent=%s error=\"%s\"", job->cid,
                    call->agent->id, text);
            s_call_done(call, 1);
            return;
        }
    }
    if (!ok) {
        sim->errors++;
        HK_ERROR("agentsim.command_failed", "agent=%s contact=%s what=%d code=%s error=\"%s\"",
                 call->agent->id, job ? job->cid : "", (int)call->what, s_code_name(code), text);
        s_call_done(call, 1);
        return;
    }
    switch (call->what) {
    case C_ACCEPT:
        sim->accepted++;
        sim->last_accept_ms = hk_clock_now_ms();
        s_lat_add(&sim->offer_to_accept, (double)(sim->last_accept_ms - job->offered_ms));
        if (sim->out) {
            fprintf(sim->out, "accept %s %s\n", job->cid, call->agent->id);
        }
        job->phase = J_HANDLE;
        uv_timer_start(&job->timer, s_on_handled, s_jitter(sim, sim->o.handle_ms), 0);
        if (sim->o.until_accepted > 0 && (long)sim->accepted >= sim->o.until_accepted) {
            s_call_done(call, 0);
            s_stop(sim);
            return;
        }
        break;
    case C_DECLINE:
        sim->declined++;
        s_call_done(call, 1);
        return;
    case C_PROPOSE:
        s_command(sim, C_CONFIRM, call->agent, job);
        break;
    case C_CONFIRM:
        s_command(sim, C_WRAPUP, call->agent, job);
        break;
    case C_WRAPUP:
        sim->closed++;
        if (sim->out) {
            fprintf(sim->out, "closed %s %s\n", job->cid, call->agent->id);
        }
        s_call_done(call, 1);
        if (sim->o.until_closed > 0 && (long)sim->closed >= sim->o.until_closed) {
            s_stop(sim);
        }
        return;
    default:
        break;
    }
    s_call_done(call, 0);
}

/* Sends profiles, then AVAILABLE commands, S_SETUP_WINDOW at a time. */
static void s_setup_pump(s_sim_t *sim) {
    if (sim->stopping) {
        return;
    }
    if (sim->setup_done == sim->o.agents && sim->setup_inflight == 0) {
        if (sim->stage == S_REGISTER) {
            sim->stage = S_AVAILABLE;
            sim->setup_next = sim->setup_done = 0;
        } else if (sim->stage == S_AVAILABLE) {
            sim->stage = S_RUN;
            sim->run_ms = hk_clock_now_ms();
            fprintf(stderr, "agentsim: %ld agents available after %.3f s\n", sim->o.agents,
                    (double)(sim->run_ms - sim->start_ms) / 1000.0);
            return;
        }
    }
    while ((sim->stage == S_REGISTER || sim->stage == S_AVAILABLE) &&
           sim->setup_next < sim->o.agents && sim->setup_inflight < S_SETUP_WINDOW) {
        s_agent_t *a = &sim->agents[sim->setup_next++];
        s_call_t *call = s_call(sim, sim->stage == S_REGISTER ? C_PROFILE : C_AVAILABLE, a, NULL);
        call->setup = 1;
        sim->setup_inflight++;
        s_send(call);
    }
}

/* ------------------------------------------------------------------------------------- */
/* Run control                                                                            */

static void s_progress(s_sim_t *sim, const char *what) {
    hk_events_stats_t st;
    hk_events_stats(sim->events, &st);
    fprintf(stderr,
            "agentsim %s offers=%lu accepted=%lu declined=%lu ignored=%lu timeouts=%lu "
            "stale=%lu closed=%lu errors=%lu jobs=%zu gaps=%lu not_responding=%lu\n",
            what, sim->offers, sim->accepted, sim->declined, sim->ignored, sim->timeouts,
            sim->stale, sim->closed, sim->errors, hk_strmap_size(sim->jobs), st.gaps,
            sim->not_responding);
}

static void s_on_tick(uv_timer_t *t) {
    s_sim_t *sim = t->data;
    int64_t now = hk_clock_now_ms();
    if (sim->stage == S_START) {
        size_t live = hk_submit_live(sim->submit);
        if (live >= (size_t)sim->o.min_routers && !sim->wait_since_ms) {
            sim->wait_since_ms = now;
        }
        /* Subscribed once a message came from each replica (PUB/SUB joins late); a replica
         * that stays silent is given up on after a few seconds. */
        int subscribed = hk_events_ready(sim->events) >= (size_t)sim->o.min_routers;
        if (sim->wait_since_ms && (subscribed || now - sim->wait_since_ms > 5000)) {
            sim->stage = S_REGISTER;
            s_setup_pump(sim);
        } else if (now - sim->start_ms > sim->o.wait_ms) {
            fprintf(stderr, "agentsim: fewer than %ld routers found in %ld ms\n",
                    sim->o.min_routers, sim->o.wait_ms);
            sim->errors++;
            s_stop(sim);
        }
        return;
    }
    if (sim->stage == S_RUN) {
        s_resync(sim);
    }
    if (sim->o.progress_s > 0 && now - sim->last_progress_ms >= sim->o.progress_s * 1000) {
        sim->last_progress_ms = now;
        s_progress(sim, "progress");
    }
}

static void s_on_duration(uv_timer_t *t) {
    s_stop(t->data);
}

static void s_on_signal(uv_signal_t *h, int signum) {
    s_stop(h->data);
}

static void s_free_job(void *value) {
    s_job_t *job = value;
    uv_close((uv_handle_t *)&job->timer, s_on_job_closed);
}

static void s_stop(s_sim_t *sim) {
    if (sim->stopping) {
        return;
    }
    sim->stopping = 1;
    sim->stage = S_STOP;
    uv_close((uv_handle_t *)&sim->tick, NULL);
    uv_close((uv_handle_t *)&sim->duration, NULL);
    uv_close((uv_handle_t *)&sim->sigint, NULL);
    uv_close((uv_handle_t *)&sim->sigterm, NULL);
    hk_events_stats(sim->events, &sim->final_events);
    sim->final_resends = hk_submit_resends(sim->submit);
    hk_submit_destroy(&sim->submit); /* completes what is in flight (ignored: stopping) */
    hk_events_destroy(&sim->events);
    hk_registry_destroy(&sim->registry);
    hk_redis_destroy(&sim->redis);
    for (long i = 0; i < sim->o.agents; i++) {
        uv_close((uv_handle_t *)&sim->agents[i].timer, NULL);
    }
    hk_strmap_destroy_values(&sim->jobs, s_free_job);
}

static void s_summary(s_sim_t *sim, const hk_events_stats_t *st) {
    double elapsed = (double)(hk_clock_now_ms() - sim->start_ms) / 1000.0;
    double span = (double)(sim->last_accept_ms - sim->first_offer_ms) / 1000.0;
    unsigned long resends = sim->final_resends;
    printf("agentsim offers=%lu accepted=%lu declined=%lu ignored=%lu closed=%lu errors=%lu "
           "p50_offer_to_accept_ms=%.3f p99_decision_ms=%.3f timeouts=%lu stale=%lu "
           "not_responding=%lu resyncs=%lu gaps=%lu missed_events=%lu stale_events=%lu "
           "dup_offers=%lu give_ups=%lu resends=%lu elapsed_s=%.3f accepts_per_s=%.0f "
           "p99_offer_to_accept_ms=%.3f p50_decision_ms=%.3f p50_command_ms=%.3f "
           "p99_command_ms=%.3f\n",
           sim->offers, sim->accepted, sim->declined, sim->ignored, sim->closed, sim->errors,
           s_quantile(&sim->offer_to_accept, 0.5), s_quantile(&sim->decision, 0.99), sim->timeouts,
           sim->stale, sim->not_responding, sim->resyncs, st->gaps, st->missed, st->stale,
           sim->dup_offers, sim->give_ups, resends, elapsed,
           span > 0 ? (double)sim->accepted / span : 0.0, s_quantile(&sim->offer_to_accept, 0.99),
           s_quantile(&sim->decision, 0.5), s_quantile(&sim->command, 0.5),
           s_quantile(&sim->command, 0.99));
    fflush(stdout);
}

int main(int argc, char **argv) {
    static s_sim_t sim;
    if (as_options_parse(&sim.o, argc, argv) != 0) {
        as_options_usage();
        return 2;
    }
    char redis_host[HK_CFG_STR_MAX], log_level[HK_CFG_STR_MAX];
    long redis_port;
    hk_cfg_entry_t table[] = {
        {"HETKI_REDIS_HOST", HK_CFG_STRING, "127.0.0.1", 1, 255, NULL, redis_host, ""},
        {"HETKI_REDIS_PORT", HK_CFG_PORT, "6380", 1, 65535, NULL, &redis_port, ""},
        {"HETKI_ROUTER_ENDPOINT", HK_CFG_STRING, "", 0, 255, NULL, sim.router, ""},
        {"HETKI_ROUTER_EVENTS_ENDPOINT", HK_CFG_STRING, "", 0, 255, NULL, sim.router_events, ""},
        {"HETKI_LOG_LEVEL", HK_CFG_ENUM, "warn", 0, 0, "debug|info|warn|error", log_level, ""},
    };
    char err[512];
    if (hk_config_load(table, sizeof table / sizeof table[0], err, sizeof err) != 0) {
        fprintf(stderr, "hetki-agentsim: configuration error: %s\n", err);
        return 2;
    }
    hk_log_level_t level = HK_LOG_WARN;
    hk_log_level_parse(log_level, &level);
    hk_log_init("agentsim", sim.o.prefix, level);
    if (sim.o.out_path && !(sim.out = fopen(sim.o.out_path, "w"))) {
        perror(sim.o.out_path);
        return 2;
    }
    sim.rng = sim.o.seed;
    sim.agents = calloc((size_t)sim.o.agents, sizeof *sim.agents);
    assert(sim.agents);
    sim.jobs = hk_strmap_new();
    uv_loop_init(&sim.loop);
    for (long i = 0; i < sim.o.agents; i++) {
        s_agent_t *a = &sim.agents[i];
        a->sim = &sim;
        a->index = i;
        snprintf(a->id, sizeof a->id, "%s-%ld", sim.o.prefix, i);
        uv_timer_init(&sim.loop, &a->timer);
        a->timer.data = a;
    }
    if (hk_curve_from_env("hetki-agentsim") != 0) {
        return 2;
    }
    sim.zctx = zmq_ctx_new();
    sim.redis = hk_redis_new(&sim.loop, redis_host, (int)redis_port);
    sim.registry = hk_registry_new(&sim.loop, sim.redis, NULL, NULL, 0);
    hk_submit_opts_t sopts = {.attempt_timeout_ms = (int)sim.o.attempt_ms,
                              .deadline_ms = (int)sim.o.deadline_ms,
                              .discovery_ms = 500};
    sim.submit = hk_submit_new(&sim.loop, sim.zctx, sim.router[0] ? NULL : sim.registry, &sopts);
    if (sim.router[0]) {
        hk_submit_add_endpoint(sim.submit, sim.router);
    }
    sim.events = hk_events_new(&sim.loop, sim.zctx, sim.router_events[0] ? NULL : sim.registry,
                               sim.o.tenant, 500, s_on_event, s_on_gap, &sim);
    if (sim.events && sim.router_events[0]) {
        hk_events_add_endpoint(sim.events, sim.router_events);
    }
    if (!sim.events) {
        fprintf(stderr, "hetki-agentsim: cannot create the event subscriber\n");
        return 2;
    }
    hk_redis_start(sim.redis);
    uv_timer_init(&sim.loop, &sim.tick);
    uv_timer_init(&sim.loop, &sim.duration);
    uv_signal_init(&sim.loop, &sim.sigint);
    uv_signal_init(&sim.loop, &sim.sigterm);
    sim.tick.data = sim.duration.data = sim.sigint.data = sim.sigterm.data = &sim;
    sim.start_ms = hk_clock_now_ms();
    uv_timer_start(&sim.tick, s_on_tick, S_TICK_MS, S_TICK_MS);
    if (sim.o.duration_s > 0) {
        uv_timer_start(&sim.duration, s_on_duration, (uint64_t)sim.o.duration_s * 1000, 0);
    }
    uv_signal_start(&sim.sigint, s_on_signal, SIGINT);
    uv_signal_start(&sim.sigterm, s_on_signal, SIGTERM);
    uv_run(&sim.loop, UV_RUN_DEFAULT);

    s_summary(&sim, &sim.final_events);
    uv_loop_close(&sim.loop);
    zmq_ctx_term(sim.zctx);
    if (sim.out) {
        fclose(sim.out);
    }
    as_options_free(&sim.o);
    free(sim.agents);
    free(sim.decision.v);
    free(sim.command.v);
    free(sim.offer_to_accept.v);
    return sim.errors == 0 ? 0 : 1;
}
