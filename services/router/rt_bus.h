/* rt_bus: the router's request socket (ZeroMQ ROUTER). Decodes each request and hands it to
 * the engine: contacts (answered with an Ack only after Redis has them), agent profiles and
 * commands and customer confirmations (answered with a CommandReply). Garbage gets an error
 * reply when there is someone to answer, and a log line; the router keeps serving.
 * Heartbeats are answered (Freelance ping). */
#ifndef RT_BUS_H
#define RT_BUS_H

#include "hk_service.h"
#include "rt_engine.h"

typedef struct rt_bus_t rt_bus_t;

typedef struct {
    long max_inflight; /* requests in flight before the socket pauses (backpressure) */
} rt_bus_opts_t;

/* Binds the socket on endpoint; bound receives the resolved endpoint. NULL on failure. */
rt_bus_t *rt_bus_new(hk_service_t *svc, rt_engine_t *engine, const char *endpoint,
                     const rt_bus_opts_t *opts, char *bound, size_t boundlen);

/* Stops reading new requests; done runs once every request in flight was answered. */
void rt_bus_drain(rt_bus_t *bus, void (*done)(void *arg), void *arg);

void rt_bus_destroy(rt_bus_t **bus_p);

#endif
