/* hetki: the operator command line (up, send, status, agent, confirm, ...). Wiring only. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static void s_usage(FILE *out) {
    fprintf(out,
            "usage: hetki <command> [options]\n"
            "  up                       run the local stack (embedded Redis + every service)\n"
            "  send --tenant T --channel chat --text TEXT [--urgent] [--person]\n"
            "                           submit a contact over the bus; print ack and decision\n"
            "  status                   list live service instances from Redis\n"
            "  agent <command> ...      agent profile and commands (hetki agent, no arguments)\n"
            "  confirm --tenant T --contact C [--no]\n"
            "                           the customer's answer to a proposed resolution\n"
            "  customer flag --tenant T (--phone N|--email A|--chat S) [--vulnerable on|off]\n"
            "                [--vip on|off]   flags classification weighs at intake\n"
            "  policy load FILE | check FILE | show TENANT\n"
            "                           validate, store (versioned) or print a tenant policy\n"
            "  explain CONTACT_ID [--tenant T]\n"
            "                           why a contact was routed so: decision, reasons, trail\n"
            "  snapshot --tenant T      a tenant's queues and agents right now\n"
            "  curve-keygen             a CURVE key for CurveZMQ between the services\n"
            "Configuration comes from HETKI_* environment variables (see README).\n");
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
        !strcmp(argv[1], "help")) {
        s_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "up")) {
        return cli_up(argc - 2, argv + 2);
    }
    if (!strcmp(argv[1], "send")) {
        return cli_send(argc - 2, argv + 2);
    }
    if (!strcmp(argv[1], "status")) {
        return cli_status(argc - 2, argv + 2);
    }
    if (!strcmp(argv[1], "agent")) {
        return cli_agent(argc - 2, argv + 2);
    }
    if (!strcmp(argv[1], "confirm")) {
        return cli_confirm(argc - 2, argv + 2);
    }
    if (!strcmp(argv[1], "customer")) {
        return cli_customer(argc - 2, argv + 2);
    }
    if (!strcmp(argv[1], "policy")) {
        return cli_policy(argc - 2, argv + 2);
    }
    if (!strcmp(argv[1], "explain")) {
        return cli_explain(argc - 2, argv + 2);
    }
    if (!strcmp(argv[1], "snapshot")) {
        return cli_snapshot(argc - 2, argv + 2);
    }
    if (!strcmp(argv[1], "curve-keygen")) {
        return cli_curve_keygen(argc - 2, argv + 2);
    }
    fprintf(stderr, "hetki: unknown command \"%s\"\n", argv[1]);
    s_usage(stderr);
    return 2;
}
