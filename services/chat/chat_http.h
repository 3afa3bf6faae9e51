/* chat_http: the chat port's plain HTTP side: the embedded widget files (services/chat/web,
 * embedded at build time) served by hk_web_files, with the demo page at "/" whose data-tenant
 * attribute is set to HETKI_CHAT_TENANT. Runs inside chat_ws's vhost. */
#ifndef CHAT_HTTP_H
#define CHAT_HTTP_H

#include "hk_web_files.h"

/* Creates the file server for the demo page's tenant (for hk_ws_server_new). */
hk_web_files_t *chat_http_new(const char *tenant);

#endif
