/* cli_agent: agent and customer commands over the real bus, for operators and tests:
 *   hetki agent register --tenant T --agent A [--name N] [--skills s:3,t:2]
 *                        [--languages fi,en] [--channels phone,chat] [--capacity N]
 *   hetki agent available|pause|offline --tenant T --agent A [--reason R]
 *   hetki agent accept|decline|propose --tenant T --agent A --contact C
 *   hetki agent transfer --tenant T --agent A --contact C (--queue Q | --to-agent B) [--note N]
 *   hetki agent wrapup --tenant T --agent A --contact C --code W [--distressing]
 *   hetki agent say --tenant T --agent A --contact C --text TEXT   (a chat reply)
 *   hetki confirm --tenant T --contact C [--no] [--text TEXT]
 * Each prints "reply agent_state=.. contact_state=.." (exit 0) or "error code=.. text=.."
 * (exit 1). --command-id makes a command safe to repeat (default: a fresh id). */
#include "cli.h"
#include "cli_bus.h"

#include "hk_id.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    hk_envelope_t env;
    Hetki__V1__AgentProfile profile;
    Hetki__V1__AgentCommand cmd;
    Hetki__V1__CustomerConfirm confirm;
    Hetki__V1__ChatMessage chat;
    Hetki__V1__Skill skill_store[16];
    Hetki__V1__Skill *skills[16];
    char *languages[3];
    Hetki__V1__Channel channels[4];
    char skill_names[16][64];
    char lang_store[3][4];
    char command_id[HK_ID_LEN + 1];
} s_cli_t;

static void s_on_reply(const hk_envelope_t *reply, const char *error, void *arg) {
    cli_bus_t *bus = arg;
    if (!reply) {
        fprintf(stderr, "hetki: no answer: %s\n", error);
        cli_bus_finish(bus, 3);
        return;
    }
    Hetki__V1__ErrorCode code = HETKI__V1__ERROR_CODE__ERROR_INTERNAL;
    const char *text = "unexpected reply";
    if (reply->body_case == HETKI__V1__ENVELOPE__BODY_COMMAND_REPLY) {
        const Hetki__V1__CommandReply *r = reply->command_reply;
        code = r->error_code;
        text = r->error_text;
        if (code == HETKI__V1__ERROR_CODE__ERROR_NONE) {
            printf("reply agent_state=%s contact_state=%s contact_id=%s router=%s\n",
                   r->agent_state, r->contact_state, r->contact_id, r->router);
            fflush(stdout);
            cli_bus_finish(bus, 0);
            return;
        }
    } else if (reply->body_case == HETKI__V1__ENVELOPE__BODY_ACK) {
        code = reply->ack->error_code;
        text = reply->ack->error_text;
    }
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&hetki__v1__error_code__descriptor, (int)code);
    fprintf(stderr, "error code=%s text=\"%s\"\n", v ? v->name : "?", text);
    cli_bus_finish(bus, 1);
}

static void s_start(cli_bus_t *bus, int ready, void *arg) {
    s_cli_t *c = arg;
    if (!ready || hk_submit_request(cli_bus_submit(bus), &c->env, s_on_reply, bus) != 0) {
        cli_bus_finish(bus, 3);
    }
}

static int s_run(s_cli_t *c) {
    cli_bus_t *bus = cli_bus_new(10000);
    if (!bus) {
        return 2;
    }
    int code = cli_bus_run(bus, 0, s_start, c);
    cli_bus_destroy(&bus);
    return code;
}

static int s_split(char *list, char **out, int max) {
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(list, ",", &save); tok && n < max; tok = strtok_r(NULL, ",", &save)) {
        out[n++] = tok;
    }
    return n;
}

static int s_channel(const char *name, Hetki__V1__Channel *out) {
    static const char *const names[] = {"", "phone", "chat", "email", "kiosk"};
    for (int i = 1; i < 5; i++) {
        if (!strcmp(name, names[i])) {
            *out = (Hetki__V1__Channel)i;
            return 0;
        }
    }
    return -1;
}

static void s_usage(void) {
    fprintf(stderr,
            "usage: hetki agent register --tenant T --agent A [--name N] [--skills s:3,t:2]\n"
            "                   [--languages fi,en] [--channels phone,chat] [--capacity N]\n"
            "       hetki agent available|pause|offline --tenant T --agent A [--reason R]\n"
            "       hetki agent accept|decline|propose --tenant T --agent A --contact C\n"
            "       hetki agent transfer --tenant T --agent A --contact C (--queue Q | "
            "--to-agent B) [--note N]\n"
            "       hetki agent wrapup --tenant T --agent A --contact C --code W "
            "[--distressing]\n"
            "       hetki agent say --tenant T --agent A --contact C --text TEXT\n"
            "       hetki agent add|passwd|remove --tenant T --id A ... (dashboard logins; "
            "hetki agent add --help)\n"
            "       hetki agent phone-passwd --tenant T --id A (SIP phone digest password, "
            "stdin)\n"
            "       hetki confirm --tenant T --contact C [--no] [--text TEXT]\n"
            "       (each takes --command-id ID to make a repeat harmless)\n");
}

/* Parses the options shared by all forms into c; returns 0 or -1. */
static int s_parse(int argc, char **argv, s_cli_t *c, char **skills, char **langs,
                   char **channels) {
    static const struct option opts[] = {
        {"tenant", 1, 0, 't'},   {"agent", 1, 0, 'a'},       {"name", 1, 0, 'n'},
        {"skills", 1, 0, 's'},   {"languages", 1, 0, 'l'},   {"channels", 1, 0, 'c'},
        {"capacity", 1, 0, 'k'}, {"reason", 1, 0, 'r'},      {"contact", 1, 0, 'C'},
        {"queue", 1, 0, 'q'},    {"to-agent", 1, 0, 'A'},    {"note", 1, 0, 'N'},
        {"code", 1, 0, 'w'},     {"distressing", 0, 0, 'd'}, {"no", 0, 0, 'x'},
        {"text", 1, 0, 'T'},     {"command-id", 1, 0, 'i'},  {0, 0, 0, 0}};
    optind = 1;
    int o;
    while ((o = getopt_long(argc + 1, argv - 1, "", opts, NULL)) != -1) {
        switch (o) {
        case 't':
            c->profile.tenant = c->cmd.tenant = c->confirm.tenant = c->chat.tenant = optarg;
            break;
        case 'a':
            c->profile.agent_id = c->cmd.agent_id = c->chat.agent_id = optarg;
            break;
        case 'n':
            c->profile.display_name = optarg;
            break;
        case 's':
            *skills = optarg;
            break;
        case 'l':
            *langs = optarg;
            break;
        case 'c':
            *channels = optarg;
            break;
        case 'k':
            c->profile.capacity = atoi(optarg);
            break;
        case 'r':
            c->cmd.reason = optarg;
            break;
        case 'C':
            c->cmd.contact_id = c->confirm.contact_id = c->chat.contact_id = optarg;
            break;
        case 'q':
            c->cmd.to_queue = optarg;
            break;
        case 'A':
            c->cmd.to_agent = optarg;
            break;
        case 'N':
            c->cmd.note = optarg;
            break;
        case 'w':
            c->cmd.wrap_code = optarg;
            break;
        case 'd':
            c->cmd.distressing = 1;
            break;
        case 'x':
            c->confirm.confirmed = 0;
            break;
        case 'T':
            c->confirm.text = c->chat.text = optarg;
            break;
        case 'i':
            c->cmd.command_id = c->confirm.command_id = c->chat.message_id = optarg;
            break;
        default:
            return -1;
        }
    }
    return optind == argc + 1 ? 0 : -1;
}

static s_cli_t *s_new(void) {
    static s_cli_t c;
    memset(&c, 0, sizeof c);
    hetki__v1__agent_profile__init(&c.profile);
    hetki__v1__agent_command__init(&c.cmd);
    hetki__v1__customer_confirm__init(&c.confirm);
    hetki__v1__chat_message__init(&c.chat);
    c.chat.sender = "agent";
    c.chat.kind = HETKI__V1__CHAT_KIND__CHAT_KIND_MESSAGE;
    c.confirm.confirmed = 1;
    hk_id_new(c.command_id);
    c.cmd.command_id = c.confirm.command_id = c.chat.message_id = c.command_id;
    hetki__v1__envelope__init(&c.env);
    return &c;
}

int cli_confirm(int argc, char **argv) {
    s_cli_t *c = s_new();
    char *skills = NULL, *langs = NULL, *channels = NULL;
    if (s_parse(argc, argv, c, &skills, &langs, &channels) != 0 || !c->confirm.tenant[0] ||
        !c->confirm.contact_id[0]) {
        s_usage();
        return 2;
    }
    c->env.body_case = HETKI__V1__ENVELOPE__BODY_CUSTOMER_CONFIRM;
    c->env.customer_confirm = &c->confirm;
    return s_run(c);
}

int cli_agent(int argc, char **argv) {
    static const struct {
        const char *name;
        Hetki__V1__AgentCommandKind kind;
    } verbs[] = {{"available", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_AVAILABLE},
                 {"pause", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_PAUSE},
                 {"offline", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_OFFLINE},
                 {"accept", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_ACCEPT},
                 {"decline", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_DECLINE},
                 {"transfer", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_TRANSFER},
                 {"propose", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_PROPOSE_RESOLUTION},
                 {"wrapup", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_WRAP_UP}};
    if (argc < 1) {
        s_usage();
        return 2;
    }
    if (!strcmp(argv[0], "add") || !strcmp(argv[0], "passwd") || !strcmp(argv[0], "remove")) {
        return cli_account(argc, argv);
    }
    if (!strcmp(argv[0], "phone-passwd")) {
        return cli_phone_passwd(argc, argv);
    }
    s_cli_t *c = s_new();
    char *skills = NULL, *langs = NULL, *channels = NULL;
    if (s_parse(argc - 1, argv + 1, c, &skills, &langs, &channels) != 0 || !c->cmd.tenant[0] ||
        !c->cmd.agent_id[0]) {
        s_usage();
        return 2;
    }
    if (!strcmp(argv[0], "register")) {
        char *parts[16];
        int n = skills ? s_split(skills, parts, 16) : 0;
        for (int i = 0; i < n; i++) {
            char *colon = strchr(parts[i], ':');
            hetki__v1__skill__init(&c->skill_store[i]);
            snprintf(c->skill_names[i], sizeof c->skill_names[i], "%.*s",
                     colon ? (int)(colon - parts[i]) : (int)strlen(parts[i]), parts[i]);
            c->skill_store[i].name = c->skill_names[i];
            c->skill_store[i].level = colon ? atoi(colon + 1) : 1;
            c->skills[i] = &c->skill_store[i];
        }
        c->profile.n_skills = (size_t)n;
        c->profile.skills = c->skills;
        c->profile.n_languages = langs ? (size_t)s_split(langs, c->languages, 3) : 0;
        c->profile.languages = c->languages;
        n = channels ? s_split(channels, parts, 4) : 0;
        for (int i = 0; i < n; i++) {
            if (s_channel(parts[i], &c->channels[i]) != 0) {
                fprintf(stderr, "hetki: unknown channel \"%s\"\n", parts[i]);
                return 2;
            }
        }
        c->profile.n_channels = (size_t)n;
        c->profile.channels = c->channels;
        c->env.body_case = HETKI__V1__ENVELOPE__BODY_AGENT_PROFILE;
        c->env.agent_profile = &c->profile;
        return s_run(c);
    }
    if (!strcmp(argv[0], "say")) {
        if (!c->chat.contact_id[0] || !c->chat.text[0]) {
            s_usage();
            return 2;
        }
        c->env.body_case = HETKI__V1__ENVELOPE__BODY_CHAT_MESSAGE;
        c->env.chat_message = &c->chat;
        return s_run(c);
    }
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        if (!strcmp(argv[0], verbs[i].name)) {
            c->cmd.kind = verbs[i].kind;
            c->env.body_case = HETKI__V1__ENVELOPE__BODY_AGENT_COMMAND;
            c->env.agent_command = &c->cmd;
            return s_run(c);
        }
    }
    fprintf(stderr, "hetki agent: unknown command \"%s\"\n", argv[0]);
    s_usage();
    return 2;
}
