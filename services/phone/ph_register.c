/* ph_register: the registrar for agent phones (digest authentication, bindings in Redis)
 * and the agent-URI lookup (see ph_register.h). */
#include "ph_register.h"

#include "hk_clock.h"
#include "hk_log.h"

#include <assert.h>
#include <osipparser2/osip_md5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define S_NONCE_TTL_MS (5 * 60 * 1000)
#define S_DEFAULT_EXPIRES 3600

struct ph_register_t {
    const ph_config_t *cfg;
    ph_sip_t *sip;
    hk_redis_t *redis;
    ph_policy_t *policy;
    char secret[33];
    int pending; /* Redis replies still to come */
    int dead;    /* destroyed while replies were pending */
    unsigned long ok, failed;
};

ph_register_t *ph_register_new(const ph_config_t *cfg, ph_sip_t *sip, hk_redis_t *redis,
                               ph_policy_t *policy) {
    ph_register_t *reg = calloc(1, sizeof *reg);
    assert(reg);
    reg->cfg = cfg;
    reg->sip = sip;
    reg->redis = redis;
    reg->policy = policy;
    ph_sip_token(reg->secret);
    ph_sip_token(reg->secret + 16);
    return reg;
}

static void s_md5_hex(const char *text, char out[33]) {
    osip_MD5_CTX ctx;
    unsigned char d[16];
    osip_MD5Init(&ctx);
    osip_MD5Update(&ctx, (unsigned char *)text, (unsigned int)strlen(text));
    osip_MD5Final(d, &ctx);
    for (int i = 0; i < 16; i++) {
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    }
}

static void s_nonce(ph_register_t *reg, int64_t ts, char *out, size_t cap) {
    char text[80], mac[33];
    snprintf(text, sizeof text, "%s:%lld", reg->secret, (long long)ts);
    s_md5_hex(text, mac);
    snprintf(out, cap, "%llx.%s", (long long)ts, mac);
}

/* 1 when nonce is ours and fresh. */
static int s_nonce_ok(ph_register_t *reg, const char *nonce) {
    char *dot = NULL;
    long long ts = strtoll(nonce, &dot, 16);
    if (!dot || *dot != '.') {
        return 0;
    }
    char expect[64];
    s_nonce(reg, ts, expect, sizeof expect);
    int64_t now = hk_clock_now_ms();
    return strcmp(expect, nonce) == 0 && now - ts >= 0 && now - ts < S_NONCE_TTL_MS;
}

/* Copies value without surrounding quotes. */
static void s_unquote(const char *value, char *out, size_t cap) {
    out[0] = '\0';
    if (!value) {
        return;
    }
    size_t n = strlen(value);
    if (n >= 2 && value[0] == '"' && value[n - 1] == '"') {
        value++;
        n -= 2;
    }
    if (n >= cap) {
        n = cap - 1;
    }
    memcpy(out, value, n);
    out[n] = '\0';
}

static int s_agent_ok(const char *a) {
    size_t n = strlen(a);
    if (n < 1 || n > 64) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = a[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-')) {
            return 0;
        }
    }
    return 1;
}

static void s_challenge(ph_register_t *reg, osip_transaction_t *tr, int stale) {
    char nonce[64], hdr[256];
    s_nonce(reg, hk_clock_now_ms(), nonce, sizeof nonce);
    snprintf(hdr, sizeof hdr, "Digest realm=\"%s\", nonce=\"%s\", algorithm=MD5, qop=\"auth\"%s",
             reg->cfg->realm, nonce, stale ? ", stale=true" : "");
    ph_sip_respond(reg->sip, tr, 401, NULL, NULL, NULL, "WWW-Authenticate", hdr);
}

typedef struct {
    ph_register_t *reg;
    osip_transaction_t *tr;
    char tenant[40];
    char agent[72];
    char contact[PH_REG_URI_MAX];
    long expires;
    char a1_rest[512]; /* ":nonce:nc:cnonce:qop:HA2" or ":nonce:HA2" */
    char response[40];
    int stage; /* 0: HA1 lookup, 1: binding stored */
} s_reg_req_t;

static void s_reg_reply(hk_redis_t *r, redisReply *reply, void *arg);

static void s_finish(s_reg_req_t *q, int code, const char *hname, const char *hvalue) {
    ph_register_t *reg = q->reg;
    if (!reg->dead) {
        ph_sip_respond(reg->sip, q->tr, code, NULL, NULL, NULL, hname, hvalue);
    }
    free(q);
}

static void s_reg_reply(hk_redis_t *r, redisReply *reply, void *arg) {
    s_reg_req_t *q = arg;
    ph_register_t *reg = q->reg;
    (void)r;
    reg->pending--;
    if (reg->dead) {
        free(q);
        if (reg->pending == 0) {
            free(reg);
        }
        return;
    }
    if (!reply || reply->type == REDIS_REPLY_ERROR) {
        s_finish(q, 503, "Retry-After", "5");
        return;
    }
    if (q->stage == 0) {
        if (reply->type != REDIS_REPLY_STRING || reply->len != 32) {
            reg->failed++;
            HK_WARN("phone.register_refused", "tenant=%s agent=%s reason=unknown", q->tenant,
                    q->agent);
            s_finish(q, 403, NULL, NULL);
            return;
        }
        char text[600], expect[33];
        snprintf(text, sizeof text, "%.*s%s", 32, reply->str, q->a1_rest);
        s_md5_hex(text, expect);
        if (strcmp(expect, q->response) != 0) {
            reg->failed++;
            HK_WARN("phone.register_refused", "tenant=%s agent=%s reason=bad_password", q->tenant,
                    q->agent);
            s_finish(q, 403, NULL, NULL);
            return;
        }
        char key[160], px[24];
        snprintf(key, sizeof key, "hk:{%s}:phone:reg:%s", q->tenant, q->agent);
        snprintf(px, sizeof px, "%ld", q->expires * 1000);
        q->stage = 1;
        const char *argv_set[] = {"SET", key, q->contact, "PX", px};
        const char *argv_del[] = {"DEL", key};
        size_t len_set[] = {3, strlen(key), strlen(q->contact), 2, strlen(px)};
        size_t len_del[] = {3, strlen(key)};
        int rc = q->expires > 0
                     ? hk_redis_command(reg->redis, 5, argv_set, len_set, s_reg_reply, q)
                     : hk_redis_command(reg->redis, 2, argv_del, len_del, s_reg_reply, q);
        if (rc != 0) {
            s_finish(q, 503, "Retry-After", "5");
            return;
        }
        reg->pending++;
        return;
    }
    reg->ok++;
    HK_INFO("phone.registered", "tenant=%s agent=%s contact=%s expires=%ld", q->tenant, q->agent,
            q->contact, q->expires);
    osip_message_t *resp = ph_sip_response(reg->sip, q->tr->orig_request, 200, NULL, NULL, NULL);
    if (resp) {
        char ct[PH_REG_URI_MAX + 40], ex[24];
        snprintf(ex, sizeof ex, "%ld", q->expires);
        if (q->expires > 0) {
            snprintf(ct, sizeof ct, "<%s>;expires=%ld", q->contact, q->expires);
            osip_message_set_contact(resp, ct);
        }
        osip_message_set_expires(resp, ex);
        ph_sip_respond_msg(reg->sip, q->tr, resp);
    }
    free(q);
}

void ph_register_on_request(ph_register_t *reg, osip_transaction_t *tr, osip_message_t *req) {
    s_reg_req_t *q = calloc(1, sizeof *q);
    assert(q);
    q->reg = reg;
    q->tr = tr;
    const char *host = req->to->url->host;
    snprintf(q->tenant, sizeof q->tenant, "%s",
             host && ph_config_tenant_ok(host) ? host : reg->cfg->default_tenant);
    const char *user = req->to->url->username;
    if (!user || !s_agent_ok(user)) {
        s_finish(q, 404, NULL, NULL);
        return;
    }
    snprintf(q->agent, sizeof q->agent, "%s", user);
    /* The binding: the first Contact (its URI only), its expires, else Expires, else 3600. */
    osip_contact_t *ct = NULL;
    osip_header_t *exp_h = NULL;
    q->expires = S_DEFAULT_EXPIRES;
    if (osip_message_get_expires(req, 0, &exp_h) >= 0 && exp_h && exp_h->hvalue) {
        q->expires = strtol(exp_h->hvalue, NULL, 10);
    }
    if (osip_message_get_contact(req, 0, &ct) >= 0 && ct) {
        osip_generic_param_t *e = NULL;
        if (osip_contact_param_get_byname(ct, "expires", &e) == 0 && e && e->gvalue) {
            q->expires = strtol(e->gvalue, NULL, 10);
        }
        char *text = NULL;
        if (ct->url && osip_uri_to_str(ct->url, &text) == 0 && text) {
            snprintf(q->contact, sizeof q->contact, "%s", text);
            osip_free(text);
        } else if (!ct->displayname || strcmp(ct->displayname, "*") != 0) {
            s_finish(q, 400, NULL, NULL);
            return;
        }
    } else {
        s_finish(q, 400, NULL, NULL); /* fetching bindings is not offered */
        return;
    }
    if (q->expires < 0) {
        q->expires = 0;
    }
    if (q->expires > reg->cfg->register_max_s) {
        q->expires = reg->cfg->register_max_s;
    }
    osip_authorization_t *auth = NULL;
    if (osip_message_get_authorization(req, 0, &auth) < 0 || !auth || !auth->nonce ||
        !auth->response || !auth->username || !auth->uri) {
        free(q);
        s_challenge(reg, tr, 0);
        return;
    }
    char nonce[128], uname[96], uri[300], cnonce[128], nc[32], qop[32], realm[96];
    s_unquote(auth->nonce, nonce, sizeof nonce);
    s_unquote(auth->username, uname, sizeof uname);
    s_unquote(auth->uri, uri, sizeof uri);
    s_unquote(auth->cnonce, cnonce, sizeof cnonce);
    s_unquote(auth->nonce_count, nc, sizeof nc);
    s_unquote(auth->message_qop, qop, sizeof qop);
    s_unquote(auth->realm, realm, sizeof realm);
    s_unquote(auth->response, q->response, sizeof q->response);
    if (strcmp(uname, q->agent) != 0 || strcmp(realm, reg->cfg->realm) != 0) {
        reg->failed++;
        s_finish(q, 403, NULL, NULL);
        return;
    }
    if (!s_nonce_ok(reg, nonce)) {
        free(q);
        s_challenge(reg, tr, 1);
        return;
    }
    char a2[400], ha2[33];
    snprintf(a2, sizeof a2, "REGISTER:%s", uri);
    s_md5_hex(a2, ha2);
    if (qop[0]) {
        snprintf(q->a1_rest, sizeof q->a1_rest, ":%s:%s:%s:%s:%s", nonce, nc, cnonce, qop, ha2);
    } else {
        snprintf(q->a1_rest, sizeof q->a1_rest, ":%s:%s", nonce, ha2);
    }
    char key[128];
    snprintf(key, sizeof key, "hk:{%s}:phone:agents_ha1", q->tenant);
    const char *argv[] = {"HGET", key, q->agent};
    size_t lens[] = {4, strlen(key), strlen(q->agent)};
    if (hk_redis_command(reg->redis, 3, argv, lens, s_reg_reply, q) != 0) {
        s_finish(q, 503, "Retry-After", "5");
        return;
    }
    reg->pending++;
}

/* ---- lookup ---- */

typedef struct {
    ph_register_t *reg;
    char tenant[40];
    char agent[72];
    ph_register_lookup_fn *fn;
    void *arg;
} s_lookup_t;

static void s_template(s_lookup_t *l) {
    const char *tpl = l->reg->cfg->agent_uri;
    char out[PH_REG_URI_MAX];
    const char *mark = strstr(tpl, "{agent}");
    if (!tpl[0]) {
        l->fn(NULL, l->arg);
    } else if (mark) {
        snprintf(out, sizeof out, "%.*s%s%s", (int)(mark - tpl), tpl, l->agent, mark + 7);
        l->fn(out, l->arg);
    } else {
        l->fn(tpl, l->arg);
    }
    free(l);
}

static void s_on_static(ph_policy_status_t status, const char *uri, void *arg) {
    s_lookup_t *l = arg;
    ph_register_t *reg = l->reg;
    reg->pending--;
    if (reg->dead) { /* as in s_on_binding: a lookup answered after the stop gets no address */
        l->fn(NULL, l->arg);
        free(l);
    } else if (status == PH_POLICY_OK && uri && uri[0]) {
        l->fn(uri, l->arg);
        free(l);
    } else {
        s_template(l);
    }
    if (reg->dead && reg->pending == 0) {
        free(reg);
    }
}

static void s_on_binding(hk_redis_t *r, redisReply *reply, void *arg) {
    s_lookup_t *l = arg;
    ph_register_t *reg = l->reg;
    (void)r;
    reg->pending--;
    if (reg->dead) {
        l->fn(NULL, l->arg);
        free(l);
        if (reg->pending == 0) {
            free(reg);
        }
        return;
    }
    if (reply && reply->type == REDIS_REPLY_STRING && reply->len > 0 &&
        reply->len < PH_REG_URI_MAX) {
        char uri[PH_REG_URI_MAX];
        memcpy(uri, reply->str, reply->len);
        uri[reply->len] = '\0';
        l->fn(uri, l->arg);
        free(l);
        return;
    }
    if (reg->policy) {
        reg->pending++; /* until s_on_static: l points at reg */
        ph_policy_agent_uri(reg->policy, l->tenant, l->agent, s_on_static, l);
        return;
    }
    s_template(l);
}

void ph_register_lookup(ph_register_t *reg, const char *tenant, const char *agent_id,
                        ph_register_lookup_fn *fn, void *arg) {
    s_lookup_t *l = calloc(1, sizeof *l);
    assert(l);
    l->reg = reg;
    l->fn = fn;
    l->arg = arg;
    snprintf(l->tenant, sizeof l->tenant, "%s", tenant);
    snprintf(l->agent, sizeof l->agent, "%s", agent_id);
    if (!reg) {
        fn(NULL, arg);
        free(l);
        return;
    }
    char key[160];
    snprintf(key, sizeof key, "hk:{%s}:phone:reg:%s", tenant, agent_id);
    const char *argv[] = {"GET", key};
    size_t lens[] = {3, strlen(key)};
    if (hk_redis_command(reg->redis, 2, argv, lens, s_on_binding, l) != 0) {
        reg->pending++;
        s_on_binding(NULL, NULL, l); /* Redis down: the static URI or the template */
        return;
    }
    reg->pending++;
}

unsigned long ph_register_ok(const ph_register_t *reg) {
    return reg->ok;
}

unsigned long ph_register_failed(const ph_register_t *reg) {
    return reg->failed;
}

void ph_register_destroy(ph_register_t **reg_p) {
    assert(reg_p);
    ph_register_t *reg = *reg_p;
    if (!reg) {
        return;
    }
    *reg_p = NULL;
    if (reg->pending > 0) {
        reg->dead = 1;
        return;
    }
    free(reg);
}
