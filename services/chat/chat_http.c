/* chat_http: the chat widget's file server settings and the demo page (the embedded
 * index.html with the configured tenant). */
#include "chat_http.h"

#include "chat_web.h"
#include "chat_ws.h"
#include "hk_log.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* The demo page with the value of its first data-tenant="..." set to tenant (malloc'd), or
 * NULL without an index.html. */
static char *s_make_index(const char *tenant, size_t *len) {
    const hk_embedded_file_t *f = chat_web_find("/index.html");
    if (!f) {
        return NULL;
    }
    const char *attr = "data-tenant=\"";
    const char *text = (const char *)f->data;
    const char *at = strstr(text, attr);
    const char *end = at ? strchr(at + strlen(attr), '"') : NULL;
    size_t head = end ? (size_t)(at - text) + strlen(attr) : f->len;
    size_t tail = end ? f->len - (size_t)(end - text) : 0;
    size_t tlen = end ? strlen(tenant) : 0;
    char *page = malloc(head + tlen + tail + 1);
    assert(page);
    memcpy(page, text, head);
    memcpy(page + head, tenant, tlen);
    memcpy(page + head + tlen, end ? end : "", tail);
    *len = head + tlen + tail;
    page[*len] = '\0';
    return page;
}

hk_web_files_t *chat_http_new(const char *tenant) {
    hk_web_files_config_t cfg = {
        .find = chat_web_find,
        .ws_path = CHAT_WS_PATH,
        .ws_text = "websocket only (subprotocol " CHAT_WS_SUBPROTOCOL ")\n",
        .file_cache = "public, max-age=300",
    };
    char *page = s_make_index(tenant, &cfg.page_len);
    cfg.page = page;
    hk_web_files_t *files = hk_web_files_new(&cfg);
    HK_INFO("chat.web_files", "count=%zu demo_page=%s", chat_web_count, page ? "yes" : "no");
    free(page);
    return files;
}
