/* ph_transport: SIP over UDP and TCP on the libuv loop. One UDP socket and one TCP listener
 * on the same port; TCP streams are framed by Content-Length, with a size cap, an idle
 * timeout and a connection cap (a slow or garbage client is closed). Peers are named by a
 * ph_peer_t that stays valid as a value after the message (a TCP connection by its id). */
#ifndef PH_TRANSPORT_H
#define PH_TRANSPORT_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct ph_transport_t ph_transport_t;

typedef enum { PH_UDP = 0, PH_TCP = 1 } ph_proto_t;

typedef struct {
    ph_proto_t proto;
    uint32_t conn; /* TCP: the connection's id (0 for UDP) */
    struct sockaddr_storage addr;
    char ip[64]; /* numeric address, for logs, Via received= and the flood table */
    int port;
} ph_peer_t;

/* One complete message (a datagram or a framed TCP message); buf is valid during the call. */
typedef void(ph_transport_recv_fn)(const char *buf, size_t len, const ph_peer_t *from, void *arg);

typedef struct {
    const char *host; /* bind address */
    int port;         /* 0: ephemeral (UDP and TCP get the same port) */
    size_t max_msg;   /* largest message accepted */
    int idle_s;       /* close a TCP connection silent this long */
    int max_conns;    /* most TCP connections at once */
} ph_transport_opts_t;

/* Binds UDP and TCP; returns NULL (logged) when either cannot be bound. */
ph_transport_t *ph_transport_new(uv_loop_t *loop, const ph_transport_opts_t *opts,
                                 ph_transport_recv_fn *fn, void *arg);

/* The bound port. */
int ph_transport_port(const ph_transport_t *t);

/* Sends one message to peer (over its TCP connection when it is TCP). Returns 0, or -1 when
 * the connection is gone or the send failed. */
int ph_transport_send(ph_transport_t *t, const ph_peer_t *peer, const char *buf, size_t len);

/* Fills peer for a numeric host and port over UDP. Returns 0, or -1 when host is not a
 * numeric IPv4/IPv6 address (no DNS on the loop). */
int ph_transport_peer_udp(ph_peer_t *peer, const char *host, int port);

/* Stops listening for new TCP connections (drain); established ones keep working. */
void ph_transport_stop_listening(ph_transport_t *t);

/* Counters: TCP connections now, and connections closed for size, garbage or idleness. */
size_t ph_transport_tcp_count(const ph_transport_t *t);
unsigned long ph_transport_tcp_closed_bad(const ph_transport_t *t);

/* Closes everything and frees once libuv released the handles; nulls the pointer. */
void ph_transport_destroy(ph_transport_t **t_p);

#endif
