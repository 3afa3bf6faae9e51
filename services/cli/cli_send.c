/* cli_send: `hetki send` submits one contact over the real bus (discovering routers through
 * Redis) and prints the router's ack and routing decision. Exit codes: 0 acked, 1 refused by
 * the router, 2 usage, 3 no ack in time or no stack. */
#include "cli.h"
#include "cli_bus.h"

#include "hk_clock.h"
#include "hk_id.h"
#include "rt_classify.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    Hetki__V1__Contact contact;
    Hetki__V1__CustomerIdentity customer;
    Hetki__V1__Choices choices;
    char dedupe[HK_ID_LEN + 8];
} s_send_t;

static void s_on_done(const Hetki__V1__Ack *ack, const char *error, void *arg) {
    cli_bus_t *bus = arg;
    if (!ack) {
        fprintf(stderr, "hetki: send failed: %s\n", error);
        cli_bus_finish(bus, 3);
        return;
    }
    if (ack->error_code != HETKI__V1__ERROR_CODE__ERROR_NONE) {
        const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
            &hetki__v1__error_code__descriptor, (int)ack->error_code);
        fprintf(stderr, "error code=%s text=\"%s\"\n", v ? v->name : "?", ack->error_text);
        cli_bus_finish(bus, 1);
        return;
    }
    const Hetki__V1__RoutingDecision *d = ack->decision;
    printf("ack contact_id=%s duplicate=%d class=%s score=%d target=%s queue=%s reasons=",
           ack->contact_id, ack->duplicate ? 1 : 0, d ? rt_class_name(d->class_) : "unspecified",
           d ? d->score : 0, d ? d->target : "", d ? d->queue : "");
    for (size_t i = 0; d && i < d->n_reasons; i++) {
        printf("%s%s", i ? "," : "", d->reasons[i]);
    }
    printf(" wait_s=%lld promise_s=%lld router=%s", (long long)ack->estimated_wait_s,
           (long long)ack->promise_s, ack->router);
    if (ack->message[0]) {
        printf(" message=\"%s\"", ack->message);
    }
    printf("\n");
    fflush(stdout);
    cli_bus_finish(bus, 0);
}

static void s_start(cli_bus_t *bus, int ready, void *arg) {
    s_send_t *s = arg;
    if (!ready) {
        cli_bus_finish(bus, 3);
        return;
    }
    if (hk_submit_contact(cli_bus_submit(bus), &s->contact, s_on_done, bus) != 0) {
        fprintf(stderr, "hetki: the contact is too large to send\n");
        cli_bus_finish(bus, 2);
    }
}

static int s_channel(const char *name, Hetki__V1__Channel *out) {
    static const struct {
        const char *name;
        Hetki__V1__Channel ch;
    } map[] = {{"phone", HETKI__V1__CHANNEL__CHANNEL_PHONE},
               {"chat", HETKI__V1__CHANNEL__CHANNEL_CHAT},
               {"email", HETKI__V1__CHANNEL__CHANNEL_EMAIL},
               {"kiosk", HETKI__V1__CHANNEL__CHANNEL_KIOSK}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (!strcmp(name, map[i].name)) {
            *out = map[i].ch;
            return 0;
        }
    }
    return -1;
}

static void s_usage(void) {
    fprintf(stderr,
            "usage: hetki send --tenant T --channel phone|chat|email|kiosk --text TEXT\n"
            "                  [--urgent] [--person] [--callback] [--subject S] [--language L]\n"
            "                  [--phone NUMBER] [--email ADDRESS] [--dedupe-key KEY]\n"
            "                  [--timeout-ms N]\n");
}

int cli_send(int argc, char **argv) {
    static s_send_t s;
    hetki__v1__contact__init(&s.contact);
    hetki__v1__customer_identity__init(&s.customer);
    hetki__v1__choices__init(&s.choices);
    s.contact.customer = &s.customer;
    s.contact.choices = &s.choices;
    const char *channel = NULL;
    long timeout_ms = 10000;
    static const struct option opts[] = {{"tenant", required_argument, 0, 't'},
                                         {"channel", required_argument, 0, 'c'},
                                         {"text", required_argument, 0, 'x'},
                                         {"subject", required_argument, 0, 's'},
                                         {"language", required_argument, 0, 'l'},
                                         {"phone", required_argument, 0, 'p'},
                                         {"email", required_argument, 0, 'e'},
                                         {"dedupe-key", required_argument, 0, 'k'},
                                         {"timeout-ms", required_argument, 0, 'T'},
                                         {"urgent", no_argument, 0, 'u'},
                                         {"person", no_argument, 0, 'P'},
                                         {"callback", no_argument, 0, 'C'},
                                         {0, 0, 0, 0}};
    optind = 1;
    int o;
    while ((o = getopt_long(argc + 1, argv - 1, "", opts, NULL)) != -1) {
        switch (o) {
        case 't':
            s.contact.tenant = optarg;
            break;
        case 'c':
            channel = optarg;
            break;
        case 'x':
            s.contact.text = optarg;
            break;
        case 's':
            s.contact.subject = optarg;
            break;
        case 'l':
            s.contact.language = optarg;
            break;
        case 'p':
            s.customer.phone_number = optarg;
            break;
        case 'e':
            s.customer.email_address = optarg;
            break;
        case 'k':
            s.contact.dedupe_key = optarg;
            break;
        case 'T':
            timeout_ms = strtol(optarg, NULL, 10);
            break;
        case 'u':
            s.choices.urgent = 1;
            break;
        case 'P':
            s.choices.talk_to_person = 1;
            break;
        case 'C':
            s.choices.callback = 1;
            break;
        default:
            s_usage();
            return 2;
        }
    }
    if (optind != argc + 1 || !s.contact.tenant[0] || !channel || !s.contact.text[0] ||
        s_channel(channel, &s.contact.channel) != 0 || timeout_ms < 100) {
        s_usage();
        return 2;
    }
    if (!s.contact.dedupe_key[0]) {
        /* A fresh key per invocation; pass --dedupe-key to resubmit the same contact. */
        char id[HK_ID_LEN + 1];
        hk_id_new(id);
        snprintf(s.dedupe, sizeof s.dedupe, "cli-%s", id);
        s.contact.dedupe_key = s.dedupe;
    }
    s.contact.received_at_ms = hk_clock_now_ms();
    s.contact.gateway = "cli";
    cli_bus_t *bus = cli_bus_new((int)timeout_ms);
    if (!bus) {
        return 2;
    }
    int code = cli_bus_run(bus, 0, s_start, &s);
    cli_bus_destroy(&bus);
    return code;
}
