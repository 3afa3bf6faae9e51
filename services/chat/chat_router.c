/* chat_router: the bus requests of hetki-chat over hk_submit. */
#include "chat_router.h"

#include "hk_log.h"

#include <assert.h>
#include <stdlib.h>

struct chat_router_t {
    hk_submit_t *submit;
};

chat_router_t *chat_router_new(uv_loop_t *loop, void *zctx, hk_registry_t *registry,
                               const chat_config_t *cfg) {
    chat_router_t *rt = calloc(1, sizeof *rt);
    assert(rt);
    hk_submit_opts_t opts = {
        .attempt_timeout_ms = 1000, .deadline_ms = (int)cfg->ack_timeout_ms, .discovery_ms = 500};
    if (opts.attempt_timeout_ms > opts.deadline_ms / 2) {
        opts.attempt_timeout_ms = opts.deadline_ms / 2 > 50 ? opts.deadline_ms / 2 : 50;
    }
    rt->submit = hk_submit_new(loop, zctx, registry, &opts);
    if (cfg->router_endpoint[0] && hk_submit_add_endpoint(rt->submit, cfg->router_endpoint) != 0) {
        HK_ERROR("chat.bad_router_endpoint", "endpoint=%s", cfg->router_endpoint);
        hk_submit_destroy(&rt->submit);
        free(rt);
        return NULL;
    }
    return rt;
}

int chat_router_contact(chat_router_t *rt, const Hetki__V1__Contact *contact, hk_submit_done_fn *fn,
                        void *arg) {
    return hk_submit_contact(rt->submit, contact, fn, arg);
}

int chat_router_chat(chat_router_t *rt, Hetki__V1__ChatMessage *msg, hk_submit_reply_fn *fn,
                     void *arg) {
    hk_envelope_t env = HETKI__V1__ENVELOPE__INIT;
    env.body_case = HETKI__V1__ENVELOPE__BODY_CHAT_MESSAGE;
    env.chat_message = msg;
    return hk_submit_request(rt->submit, &env, fn, arg);
}

int chat_router_confirm(chat_router_t *rt, Hetki__V1__CustomerConfirm *confirm,
                        hk_submit_reply_fn *fn, void *arg) {
    hk_envelope_t env = HETKI__V1__ENVELOPE__INIT;
    env.body_case = HETKI__V1__ENVELOPE__BODY_CUSTOMER_CONFIRM;
    env.customer_confirm = confirm;
    return hk_submit_request(rt->submit, &env, fn, arg);
}

size_t chat_router_live(const chat_router_t *rt) {
    return hk_submit_live(rt->submit);
}

size_t chat_router_pending(const chat_router_t *rt) {
    return hk_submit_pending(rt->submit);
}

void chat_router_destroy(chat_router_t **rt_p) {
    assert(rt_p);
    chat_router_t *rt = *rt_p;
    if (rt) {
        *rt_p = NULL;
        hk_submit_destroy(&rt->submit);
        free(rt);
    }
}
