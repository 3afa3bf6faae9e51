/* db_http: the dashboard port's plain HTTP side: the web app's files (services/dashboard/web,
 * embedded at build time) served by hk_web_files with index.html at "/", revalidated every
 * time and never framed. Runs inside db_ws's vhost. */
#ifndef DB_HTTP_H
#define DB_HTTP_H

#include "hk_web_files.h"

/* Creates the file server (for hk_ws_server_new). */
hk_web_files_t *db_http_new(void);

#endif
