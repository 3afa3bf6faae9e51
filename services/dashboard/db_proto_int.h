/* db_proto_int: the state shared by the files of the dashboard protocol engine: db_proto.c
 * (connections, dispatch, rates), db_auth.c (login, tokens, logout, session checks),
 * db_view.c (tenants, snapshots, stats, cards), db_fanout.c (router events) and db_cmds.c
 * (agent and supervisor commands). Internal to the engine. */
#ifndef DB_PROTO_INT_H
#define DB_PROTO_INT_H

#include <jansson.h>
#include <stdint.h>

#include "db_limits.h"
#include "db_proto.h"
#include "hk_id.h"
#include "hk_strmap.h"

#define DB_ACCOUNT_MAX 64
#define DB_NAME_MAX 128
#define DB_CONTACT_MAX 64
#define DB_MINE_MAX 1000    /* contacts an agent session tracks */
#define DB_PENDING_MAX 2000 /* events buffered while a snapshot is being made */

typedef enum { DB_SESS_NEW = 0, DB_SESS_AUTHING, DB_SESS_READY } db_sess_state_t;

typedef struct db_op db_op_t;
typedef struct db_tenant db_tenant_t;

/* An event frame buffered while the session's snapshot is made. */
typedef struct db_pend {
    struct db_pend *next;
    uint64_t rev;
    hk_ws_shared_t *sh; /* the frame after its seq (a reference) */
} db_pend_t;

/* One connection's session. */
typedef struct db_sess {
    db_proto_t *p;
    hk_ws_conn_t *conn;
    struct db_sess *prev, *next;   /* every session of the engine */
    struct db_sess *tprev, *tnext; /* authenticated sessions of the same tenant */
    db_tenant_t *tenant_grp;       /* NULL until authenticated */
    db_op_t *ops;                  /* requests in flight for it */
    db_sess_state_t state;
    char tenant[DB_TENANT_MAX + 1];
    char account[DB_ACCOUNT_MAX + 1];
    char name[DB_NAME_MAX + 1];
    char sess_hash[65]; /* hex SHA-256 of the token */
    db_role_t role;
    int64_t expires_ms;
    int64_t checked_ms; /* last time the session was found in Redis */
    int checking;
    uint64_t seq; /* event and stats frames since the last snapshot */
    int snapping; /* a snapshot is being made: events wait in pend */
    int snap_again;
    db_pend_t *pend_head, *pend_tail;
    size_t pend_n;
    hk_strmap_t *mine; /* agents: contacts offered to or held by it (values unused) */
    hk_bucket_t cmd, typing;
    int strikes;
    int64_t strikes_since;
    int auth_tries;
    int draining;
} db_sess_t;

/* The queues of a tenant's policy, as the views need them. */
typedef struct {
    char name[32];
    int64_t target_ms;
} db_queue_t;

/* A tenant with authenticated sessions on this instance. */
struct db_tenant {
    db_proto_t *p;
    char name[DB_TENANT_MAX + 1];
    db_sess_t *sessions;
    size_t n_sessions;
    long policy_version; /* -1: not read yet */
    int suspended;
    db_queue_t queues[16];
    size_t n_queues;
    int64_t policy_read_ms;
    int dirty;              /* events came since the last stats frame */
    int prompt;             /* an agent's load changed: supervisors want stats soon */
    int64_t stats_ms;       /* when the last stats were sent */
    int64_t agent_stats_ms; /* when agents last got stats */
    int stats_busy;         /* a stats refresh is running */
    size_t refs;            /* ops in flight that point to it */
};

/* An asynchronous request (Redis, thread pool or bus) made for a session; sess is NULL once
 * the connection is gone. */
struct db_op {
    db_op_t *prev, *next;
    db_proto_t *p;
    db_sess_t *sess;
    db_tenant_t *tenant_grp; /* views: a reference (refs) */
    int kind;
    char req[DB_ID_MAX + 1];
    char tenant[DB_TENANT_MAX + 1];
    char account[DB_ACCOUNT_MAX + 1];
    char contact[DB_CONTACT_MAX + 1];
    char extra[DB_ID_MAX + 1]; /* the status of a tenant command, a message id */
    json_t *acc;               /* views: the frame being built */
    uint64_t rev;
    int resync;
    /* login */
    char *password; /* owned, wiped */
    char *hash;     /* owned */
    int verified;
    double verify_s;
    uv_work_t work;
};

struct db_proto_t {
    uv_loop_t *loop;
    const db_config_t *cfg;
    db_stats_t *stats;
    hk_redis_t *redis;   /* NULL once stopped */
    hk_submit_t *submit; /* NULL once stopped */
    char instance[HK_CFG_STR_MAX];
    db_sess_t *sessions;
    hk_strmap_t *tenants; /* name -> db_tenant_t with sessions (or referenced) */
    json_t *wrap_codes;
    uv_timer_t tick; /* stats refresh and session checks */
    int tick_open;
    size_t n_ops;
    size_t n_ready;
    int draining;
    int stopped;
    int destroying;
};

/* Script handles (db_proto_scripts). */
extern int db_script_snapshot, db_script_view, db_script_card, db_script_session_open;

/* ---- db_proto.c ---- */
db_op_t *db_op_new(db_proto_t *p, db_sess_t *sess, int kind);
void db_op_done(db_op_t *op);
/* Sends a frame and frees it (frame may be NULL: nothing happens). */
void db_sess_send(db_sess_t *s, json_t *frame);
/* Sends error{code, text, req}. */
void db_sess_error(db_sess_t *s, db_err_t err, const char *req, const char *text);
/* Sends ok{req} with the fields of extra (consumed; may be NULL). */
void db_sess_ok(db_sess_t *s, const char *req, json_t *extra);
const char *db_json_str(json_t *root, const char *field);
/* Monotonic real milliseconds (intervals), and real unix milliseconds (what clients see). */
int64_t db_real_ms(void);
int64_t db_wall_ms(void);
/* Runs a Redis command (script < 0) or a script with one key (argv[0]); strings only.
 * Returns 0 (fn will run) or -1 (not ready). */
int db_redis(db_proto_t *p, int script, int argc, const char **argv, hk_redis_reply_fn *fn,
             void *arg);

/* ---- db_auth.c ---- */
void db_frame_login(db_sess_t *s, json_t *root, const char *req);
void db_frame_auth(db_sess_t *s, json_t *root, const char *req);
void db_frame_logout(db_sess_t *s, json_t *root, const char *req);
/* Once a second: checks that each session still exists in Redis (every 10 s each). */
void db_auth_check_sessions(db_proto_t *p);

/* ---- db_view.c ---- */
/* Joins s to its tenant's group (creating it); s must be authenticated. */
void db_tenant_join(db_sess_t *s);
/* Leaves the tenant group. */
void db_tenant_leave(db_sess_t *s);
db_tenant_t *db_tenant_find(db_proto_t *p, const char *name);
void db_tenant_unref(db_tenant_t *t);
/* Makes and sends a fresh snapshot (events arriving meanwhile wait). resync counts it. */
void db_view_snapshot(db_sess_t *s, const char *req, int resync);
/* Sends the cards of contacts to the sessions of agent (req: to s only, as an answer). */
void db_view_card(db_proto_t *p, db_sess_t *s, const char *tenant, const char *agent,
                  const char *contact, const char *req);
/* Stats frames for the tenants that changed (called by the tick). */
void db_view_tick(db_proto_t *p);
/* Sends `status` to the tenant's sessions at once (after a successful tenant command). */
void db_view_tenant_status(db_proto_t *p, const char *tenant, int suspended);

/* ---- db_fanout.c ---- */
/* Queues an event frame (sh: the text after `"seq":N,`) to s, or buffers it during a
 * snapshot. */
void db_fanout_send(db_sess_t *s, uint64_t rev, hk_ws_shared_t *sh);
/* Sends what waited for the snapshot at rev (drops what it already has). */
void db_fanout_flush(db_sess_t *s, uint64_t rev);
void db_fanout_clear(db_sess_t *s);
/* Queues a frame whose text after `"seq":N,` is rest (stats). */
void db_fanout_seq_frame(db_sess_t *s, const char *type, const char *rest);

/* ---- db_cmds.c ---- */
void db_frame_agent_cmd(db_sess_t *s, json_t *root, const char *req);
void db_frame_say(db_sess_t *s, json_t *root, const char *req);
void db_frame_typing(db_sess_t *s, json_t *root, const char *req);
void db_frame_tenant(db_sess_t *s, json_t *root, const char *req);
void db_frame_contact(db_sess_t *s, json_t *root, const char *req);

#endif
