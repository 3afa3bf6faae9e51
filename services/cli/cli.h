/* cli: the hetki operator command; each subcommand lives in its own file. */
#ifndef CLI_H
#define CLI_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>

/* Each subcommand takes the arguments after its name and returns the process exit code. */
int cli_up(int argc, char **argv);
int cli_send(int argc, char **argv);
int cli_status(int argc, char **argv);
int cli_agent(int argc, char **argv);
/* hetki agent add|passwd|remove: dashboard login accounts (cli_account.c); argv[0] is the
 * verb. */
int cli_account(int argc, char **argv);
/* hetki agent phone-passwd: an agent SIP phone's digest password, stored as HA1 (cli_phone.c);
 * argv[0] is the verb. */
int cli_phone_passwd(int argc, char **argv);
int cli_confirm(int argc, char **argv);
int cli_policy(int argc, char **argv);
int cli_customer(int argc, char **argv);
int cli_explain(int argc, char **argv);
int cli_snapshot(int argc, char **argv);

/* hetki curve-keygen: prints a new CURVE secret key (HETKI_CURVE_SECRET_KEY=...). */
int cli_curve_keygen(int argc, char **argv);

/* Synchronous Redis for the read-only commands (explain, snapshot; in cli_explain.c). */

/* Connects to HETKI_REDIS_HOST:HETKI_REDIS_PORT; prints why and returns NULL on failure. */
redisContext *cli_redis_connect(void);

/* Runs a command; NULL when Redis failed or answered an error (printed). Caller frees. */
redisReply *cli_redis(redisContext *c, const char *fmt, ...);

/* Now in unix ms: the virtual time in Redis when HETKI_CLOCK is virtual, else real time. */
int64_t cli_redis_now_ms(redisContext *c);

/* ms as "2026-01-31T12:00:00.000Z" ("-" when ms <= 0) in buf; returns buf. */
const char *cli_iso_ms(int64_t ms, char *buf, size_t len);

/* The value of field in an HGETALL reply, or "" (valid while the reply lives). */
const char *cli_hash_get(const redisReply *h, const char *field);

#endif
