/* cli_bus: a one-shot bus client for CLI commands: a loop, Redis (for discovery) and the
 * reliable submission client, all torn down cleanly when the command finishes. */
#ifndef CLI_BUS_H
#define CLI_BUS_H

#include "hk_registry.h"
#include "hk_submit.h"

typedef struct cli_bus_t cli_bus_t;

/* Called once Redis is ready (or failed: ready == 0). Run the command's work from here and
 * call cli_bus_finish when it is done. */
typedef void(cli_bus_start_fn)(cli_bus_t *bus, int ready, void *arg);

/* Reads HETKI_REDIS_HOST/PORT and HETKI_ROUTER_ENDPOINT (optional static router) from the
 * environment; prints a configuration error and returns NULL when invalid. */
cli_bus_t *cli_bus_new(int timeout_ms);

hk_registry_t *cli_bus_registry(cli_bus_t *bus);
hk_submit_t *cli_bus_submit(cli_bus_t *bus);

/* Runs the loop until cli_bus_finish; returns the exit code given there. When need_redis is
 * 0 and a static router endpoint is configured, start runs at once. */
int cli_bus_run(cli_bus_t *bus, int need_redis, cli_bus_start_fn *start, void *arg);

/* Ends the command with exit code (may be called from any callback). */
void cli_bus_finish(cli_bus_t *bus, int code);

void cli_bus_destroy(cli_bus_t **bus_p);

#endif
