/* test_classify: lexicon matching (word boundaries, phrases, Finnish prefixes, case folding,
 * composed and decomposed letters, any bytes) and classification table tests in Finnish,
 * Swedish and English, each row checking class, score, target, queue and every reason. */
#include "hk_test.h"
#include "rt_classify.h"
#include "rt_lexicon.h"
#include "rt_policy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define S_PHONE HETKI__V1__CHANNEL__CHANNEL_PHONE
#define S_CHAT HETKI__V1__CHANNEL__CHANNEL_CHAT
#define S_EMAIL HETKI__V1__CHANNEL__CHANNEL_EMAIL
#define S_KIOSK HETKI__V1__CHANNEL__CHANNEL_KIOSK

/* ---- the policy under test ---------------------------------------------------------- */

/* The built-in defaults (weights, thresholds, queues and the default fi/sv/en lexicons). */
static void s_policy(rt_policy_t *p) {
    rt_policy_defaults(p, "demo");
}

/* ---- lexicon matching --------------------------------------------------------------- */

static int s_match(const char *text, const char *entry) {
    char entries[1][RT_POLICY_WORD];
    snprintf(entries[0], sizeof entries[0], "%s", entry);
    const char *m = NULL;
    int hit = rt_lexicon_match(text, (const char(*)[RT_POLICY_WORD])entries, 1, &m);
    HK_CHECK(hit == (m == entries[0]), "matched pointer for \"%s\" in \"%s\"", entry, text);
    return hit;
}

static void s_check_norm(const char *text, const char *want) {
    char out[256];
    size_t n = rt_lexicon_normalize(text, strlen(text), out, sizeof out);
    HK_CHECK_STR_EQ(out, want);
    HK_CHECK_INT_EQ(n, strlen(want));
}

static void s_test_normalize(void) {
    s_check_norm("", " ");
    s_check_norm("...!", " ");
    s_check_norm("Hello, World!", " hello world ");
    s_check_norm("ÅÄÖ åäö ÉÜ éü", " åäö åäö éü éü ");
    s_check_norm("ŠAKKI Žukovski", " šakki žukovski ");
    /* Decomposed ä, ö, å and é are composed. */
    s_check_norm("Ha\xCC\x88ta\xCC\x88 o\xCC\x88 A\xCC\x8A e\xCC\x81", " hätä ö å é ");
    /* Digits, dashes, quotes, emoji, NBSP and invalid bytes separate words. */
    s_check_norm("kortti\xE2\x80\x94varastettu", " kortti varastettu ");
    s_check_norm("apua\xF0\x9F\x99\x8F!", " apua ");
    s_check_norm("a1b\302\240c\377d\303e", " a b c d e "); /* NBSP, 0xFF, a cut sequence */
    s_check_norm("\xE2\x80\x9Cquoted\xE2\x80\x9D 24/7", " quoted ");
    /* Overlong and surrogate encodings are not letters. */
    s_check_norm("x\xC1\x81y\xED\xA0\x80z", " x y z ");

    /* A small buffer ends after the last whole word that fits. */
    char out[12];
    rt_lexicon_normalize("alpha beta gamma", 16, out, sizeof out);
    HK_CHECK_STR_EQ(out, " alpha ");
    rt_lexicon_normalize("alphabetagamma", 14, out, sizeof out);
    HK_CHECK_STR_EQ(out, " ");
    rt_lexicon_normalize("abc", 3, out, 2);
    HK_CHECK_STR_EQ(out, " ");
}

static void s_test_match(void) {
    /* Whole words only, case folded on both sides. */
    HK_CHECK(s_match("My card was STOLEN.", "stolen"), "whole word");
    HK_CHECK(s_match("stolen", "Stolen"), "entry case");
    HK_CHECK(!s_match("unstolen goods", "stolen"), "no match inside a word");
    HK_CHECK(!s_match("stolenness", "stolen"), "no match at a word's start without '*'");
    /* Prefixes for Finnish inflection. */
    HK_CHECK(s_match("Korttini varastettiin eilen", "varastet*"), "prefix");
    HK_CHECK(s_match("VARASTETTU kortti", "varastet*"), "prefix, upper case");
    HK_CHECK(s_match("varastet", "varastet*"), "prefix equal to the word");
    HK_CHECK(!s_match("varastossa", "varastet*"), "prefix mismatch");
    HK_CHECK(!s_match("kvarastettu", "varastet*"), "prefix only at a word's start");
    /* Phrases: consecutive whole words; a '*' applies to the last word. */
    HK_CHECK(s_match("My father passed  away, sadly", "passed away"), "phrase");
    HK_CHECK(s_match("He PASSED-AWAY", "passed away"), "phrase across punctuation");
    HK_CHECK(!s_match("I passed the test away from home", "passed away"), "not consecutive");
    HK_CHECK(!s_match("passed awayward", "passed away"), "phrase end is a word end");
    HK_CHECK(s_match("tili tyhjennettiin", "tili tyhjennet*"), "phrase with a prefix");
    HK_CHECK(s_match("  locked   out ", "  locked out  "), "entry spacing does not matter");
    /* Letters beyond ASCII. */
    HK_CHECK(s_match("HÄTÄTILANNE!", "hätä*"), "upper-case Ä");
    HK_CHECK(s_match("Det är BRÅDSKANDE", "brådskande"), "upper-case Å");
    HK_CHECK(s_match("ha\xCC\x88ta\xCC\x88", "hätä"), "decomposed text");
    HK_CHECK(!s_match("hata", "hätä"), "ä is not a");
    /* Entries without letters never match; empty text matches nothing. */
    HK_CHECK(!s_match("anything at all", "*"), "bare '*'");
    HK_CHECK(!s_match("anything at all", ""), "empty entry");
    HK_CHECK(!s_match("", "stolen"), "empty text");

    /* The first matching entry in entry order; NULL matched is allowed. */
    char entries[3][RT_POLICY_WORD] = {"fraud*", "stolen", "card"};
    const char *m = NULL;
    HK_CHECK(rt_lexicon_match("stolen card, fraudulent use", (const char(*)[RT_POLICY_WORD])entries,
                              3, &m),
             "one of three");
    HK_CHECK_STR_EQ(m, "fraud*");
    HK_CHECK(rt_lexicon_match("my card", (const char(*)[RT_POLICY_WORD])entries, 3, NULL),
             "NULL matched");
    HK_CHECK(!rt_lexicon_match("nothing", (const char(*)[RT_POLICY_WORD])entries, 0, &m), "n=0");

    /* A phrase never spans two concatenated normal forms (subject and text). */
    char norm[64];
    size_t used = rt_lexicon_normalize("passed", 6, norm, sizeof norm);
    rt_lexicon_normalize("away", 4, norm + used, sizeof norm - used);
    char phrase[1][RT_POLICY_WORD] = {"passed away"};
    HK_CHECK(!rt_lexicon_match_normalized(norm, (const char(*)[RT_POLICY_WORD])phrase, 1, NULL),
             "phrase across subject and text");
    char word[1][RT_POLICY_WORD] = {"away"};
    HK_CHECK(rt_lexicon_match_normalized(norm, (const char(*)[RT_POLICY_WORD])word, 1, NULL),
             "word after the join");

    /* Long text (beyond the stack buffer). */
    size_t big = 40000;
    char *text = malloc(big + 1);
    HK_CHECK(text, "malloc");
    memset(text, 'x', big);
    memcpy(text + big - 20, " kortti varastettu ", 19);
    text[big] = '\0';
    HK_CHECK(s_match(text, "varastet*"), "long text");
    free(text);
}

/* ---- any bytes ---------------------------------------------------------------------- */

static uint64_t s_rng = 0x9E3779B97F4A7C15ull;

static uint32_t s_rand(void) {
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return (uint32_t)(s_rng >> 16);
}

/* Random bytes, biased towards the interesting ones: UTF-8 lead and continuation bytes,
 * letters, spaces and combining marks. */
static void s_random_bytes(unsigned char *buf, size_t len) {
    static const unsigned char pool[] = {'a',  'A',  'o',  ' ',  '*',  ',',  0xC3, 0x84, 0xA4, 0xCC,
                                         0x88, 0xE2, 0x80, 0x94, 0xF0, 0x9F, 0xED, 0xFF, 0xC5};
    for (size_t i = 0; i < len; i++) {
        uint32_t r = s_rand();
        buf[i] = r % 3 ? pool[(r >> 8) % sizeof pool] : (unsigned char)(r >> 8);
    }
}

/* Normal forms start and end with a space, never hold two spaces in a row and are fixed
 * points of normalisation. */
static void s_check_normal_form(const char *norm, size_t n) {
    HK_CHECK(n >= 1 && norm[0] == ' ' && norm[n - 1] == ' ' && strlen(norm) == n,
             "bad normal form \"%s\"", norm);
    HK_CHECK(!strstr(norm, "  "), "double space in \"%s\"", norm);
    char again[RT_LEXICON_NORM_SIZE(512)];
    HK_CHECK(n <= 512, "normal form too long");
    size_t m = rt_lexicon_normalize(norm, n, again, sizeof again);
    HK_CHECK(m == n && !memcmp(again, norm, n), "not a fixed point: \"%s\" -> \"%s\"", norm, again);
}

static void s_test_fuzz(void) {
    rt_policy_t *p = malloc(sizeof *p);
    HK_CHECK(p, "malloc");
    s_policy(p);
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = s_rand() % 300;
        /* Exactly len bytes, no terminator: a read past the end is a sanitizer error. */
        unsigned char *raw = malloc(len ? len : 1);
        HK_CHECK(raw, "malloc");
        s_random_bytes(raw, len);
        char full[RT_LEXICON_NORM_SIZE(300)];
        size_t n = rt_lexicon_normalize((const char *)raw, len, full, RT_LEXICON_NORM_SIZE(len));
        s_check_normal_form(full, n);
        /* A short buffer gives a prefix of the full form, cut after a word. */
        size_t cap = 2 + s_rand() % (RT_LEXICON_NORM_SIZE(len) - 1);
        char *small = malloc(cap);
        HK_CHECK(small, "malloc");
        size_t k = rt_lexicon_normalize((const char *)raw, len, small, cap);
        HK_CHECK(k < cap && k <= n && !memcmp(small, full, k) && small[k - 1] == ' ',
                 "truncated form is not a prefix (cap %zu)", cap);
        free(small);

        /* The same bytes as text, entries and a whole contact. */
        char *text = malloc(len + 1);
        HK_CHECK(text, "malloc");
        memcpy(text, raw, len);
        text[len] = '\0';
        char entries[2][RT_POLICY_WORD];
        memset(entries, 0, sizeof entries);
        memcpy(entries[0], raw, len < RT_POLICY_WORD ? len : RT_POLICY_WORD); /* maybe no NUL */
        snprintf(entries[1], sizeof entries[1], "%.*s*", (int)(len % 10), text);
        const char *m = NULL;
        int hit = rt_lexicon_match(text, (const char(*)[RT_POLICY_WORD])entries, 2, &m);
        HK_CHECK(!hit || m == entries[0] || m == entries[1], "matched pointer");

        Hetki__V1__Contact c = HETKI__V1__CONTACT__INIT;
        Hetki__V1__Choices ch = HETKI__V1__CHOICES__INIT;
        ch.ivr_digits = text;
        c.choices = &ch;
        c.text = text;
        c.subject = text + len / 2;
        c.language = iter % 2 ? "" : text;
        c.channel = (Hetki__V1__Channel)(iter % 5);
        rt_base_t b;
        rt_signals_t s = {iter & 1, (iter >> 1) & 1, (iter >> 2) & 1, (iter >> 3) & 1};
        rt_decision_t d;
        rt_classify_base(&c, p, &b);
        rt_classify_finish(&b, &s, p, &d);
        HK_CHECK(d.score >= 0 && d.score <= 100 && d.n_reasons >= 1 && d.target && d.queue,
                 "decision out of range");
        for (size_t i = 0; i < d.n_reasons; i++) {
            HK_CHECK(!strchr(d.reasons[i], ','), "comma in reason \"%s\"", d.reasons[i]);
        }
        free(text);
        free(raw);
    }
    free(p);
}

/* ---- classification tables ---------------------------------------------------------- */

typedef struct {
    const char *lang;
    Hetki__V1__Channel channel;
    const char *subject;
    const char *text;
    const char *choices; /* u = urgent, p = talk to a person, c = callback */
    const char *ivr;
    const char *phone;   /* the customer's phone number ("" = none known) */
    const char *signals; /* r = repeat, f = first contact, v = vulnerable, V = VIP */
    const char *klass;
    int score;
    const char *target;
    const char *queue;
    const char *reasons; /* all of them, in order, joined with ',' */
} s_row_t;

#define S_NUM "+358401234567"

/* Finnish: routine questions, stolen card / fraud / emergency in inflected forms, bereavement
 * and complaints, ÅÄÖ in capitals, explicit choices and IVR, the phone channel and every
 * customer signal. */
static const s_row_t s_fi[] = {
    /* Inflected forms caught by prefix entries. */
    {"fi", S_CHAT, "", "Haluan tehdä valituksen", "", "", "", "", "personal", 50, "human_chat",
     "human_chat", "lexicon:fi:personal:valitu*,target:human_chat:no_phone"},
    {"fi", S_CHAT, "", "Äitini kuoleman jälkeen", "", "", "", "", "personal", 50, "human_chat",
     "human_chat", "lexicon:fi:personal:kuolem*,target:human_chat:no_phone"},
    {"fi", S_CHAT, "", "Korttini katosi eilen", "", "", "", "", "urgent", 80, "human_chat",
     "human_chat", "lexicon:fi:urgent:katos*,target:human_chat:no_phone"},
    {"fi", S_CHAT, "", "Mikä on aukioloaikanne lauantaina?", "", "", "", "", "routine", 0, "async",
     "async", "target:async"},
    {"fi", S_CHAT, "", "Ilmoitan varastetusta kortista", "", "", S_NUM, "", "urgent", 80,
     "callback", "voice", "lexicon:fi:urgent:varastet*,target:callback:phone_known"},
    {"fi", S_PHONE, "", "Minua on huijattu verkkokaupassa", "", "", S_NUM, "", "urgent", 90,
     "voice", "voice", "lexicon:fi:urgent:huijattu,channel:phone,target:voice:live"},
    {"fi", S_EMAIL, "HÄTÄ!", "Isäni kortti on kadonnut", "", "", "", "v", "urgent", 100,
     "human_chat", "human_chat",
     "lexicon:fi:urgent:hätä,customer:vulnerable,target:human_chat:no_phone"},
    {"fi", S_CHAT, "", "Äitini kuoli viime viikolla", "", "", S_NUM, "", "personal", 50, "callback",
     "voice", "lexicon:fi:personal:kuoli,target:callback:phone_known"},
    {"fi", S_CHAT, "Puolisoni KUOLEMA", "Pankkiasiat ovat kesken", "", "", "", "r", "personal", 75,
     "human_chat", "human_chat",
     "lexicon:fi:personal:kuolema,repeat_contact,target:human_chat:no_phone"},
    {"fi", S_EMAIL, "", "Tämä on reklamaatio palvelustanne", "", "", S_NUM, "f", "personal", 65,
     "callback", "voice",
     "lexicon:fi:personal:reklamaat*,first_contact:moment_of_truth,target:callback:phone_known"},
    {"fi", S_CHAT, "Petos!", "Tililtäni vietiin rahaa. Tämä on valitus.", "", "", S_NUM, "",
     "urgent", 100, "callback", "voice",
     "lexicon:fi:urgent:petos,lexicon:fi:personal:valitus,target:callback:phone_known"},
    {"fi", S_CHAT, "", "Näin petoseläimen pihalla", "", "", "", "", "routine", 0, "async", "async",
     "target:async"},
    {"fi", S_KIOSK, "", "Tarvitsen apua", "u", "", "", "", "urgent", 90, "human_chat", "human_chat",
     "choice:urgent,target:human_chat:no_phone"},
    {"fi", S_CHAT, "", "Kysymys laskusta", "p", "", S_NUM, "", "personal", 60, "callback", "voice",
     "choice:talk_to_person,target:callback:phone_known"},
    {"fi", S_EMAIL, "", "Soittakaa minulle", "pc", "", S_NUM, "", "personal", 60, "callback",
     "voice", "choice:talk_to_person,choice:callback,target:callback:phone_known"},
    {"fi", S_PHONE, "", "", "", "1#0", S_NUM, "", "personal", 70, "voice", "voice",
     "ivr:0:talk_to_person,channel:phone,target:voice:live"},
    {"fi", S_PHONE, "", "", "", "9", S_NUM, "", "urgent", 100, "voice", "voice",
     "ivr:9:urgent,channel:phone,target:voice:live"},
    {"fi", S_PHONE, "", "Kortti VARASTETTU", "", "", S_NUM, "r", "urgent", 100, "voice", "voice",
     "lexicon:fi:urgent:varastettu,channel:phone,repeat_contact,target:voice:live"},
    {"fi", S_CHAT, "", "Voinko muuttaa osoitettani?", "", "", "", "V", "routine", 20, "async",
     "async", "customer:vip,target:async"},
    {"fi", S_CHAT, "", "Voinko muuttaa osoitettani?", "", "", "", "vV", "personal", 60,
     "human_chat", "human_chat", "customer:vulnerable,customer:vip,target:human_chat:no_phone"},
};

static const s_row_t s_sv[] = {
    /* Inflected forms caught by prefix entries and past tenses. */
    {"sv", S_CHAT, "", "Min far avled i mars", "", "", "", "", "personal", 50, "human_chat",
     "human_chat", "lexicon:sv:personal:avled*,target:human_chat:no_phone"},
    {"sv", S_CHAT, "", "Kortet stals i går", "", "", "", "", "urgent", 80, "human_chat",
     "human_chat", "lexicon:sv:urgent:stals,target:human_chat:no_phone"},
    {"sv", S_CHAT, "", "Vilka är era öppettider?", "", "", "", "", "routine", 0, "async", "async",
     "target:async"},
    {"sv", S_CHAT, "", "Mitt kort är stulet", "", "", S_NUM, "", "urgent", 80, "callback", "voice",
     "lexicon:sv:urgent:stulet,target:callback:phone_known"},
    {"sv", S_PHONE, "", "Jag har blivit utsatt för BEDRÄGERI", "", "", S_NUM, "", "urgent", 90,
     "voice", "voice", "lexicon:sv:urgent:bedrägeri*,channel:phone,target:voice:live"},
    {"sv", S_EMAIL, "Akut!", "Någon har tömt mitt konto", "", "", "", "v", "urgent", 100,
     "human_chat", "human_chat",
     "lexicon:sv:urgent:akut,customer:vulnerable,target:human_chat:no_phone"},
    {"sv", S_CHAT, "", "Min pappa är avliden", "", "", "", "", "personal", 50, "human_chat",
     "human_chat", "lexicon:sv:personal:avliden,target:human_chat:no_phone"},
    {"sv", S_CHAT, "DÖDSFALL i familjen", "Frågor om dödsboet", "", "", "", "r", "personal", 75,
     "human_chat", "human_chat",
     "lexicon:sv:personal:dödsfall*,repeat_contact,target:human_chat:no_phone"},
    {"sv", S_KIOSK, "", "Min mamma gick bort förra veckan", "", "", S_NUM, "f", "personal", 65,
     "callback", "voice",
     "lexicon:sv:personal:gick bort,first_contact:moment_of_truth,target:callback:phone_known"},
    {"sv", S_CHAT, "", "Kortet blev stulet och jag vill lämna ett klagomål", "", "", S_NUM, "",
     "urgent", 100, "callback", "voice",
     "lexicon:sv:urgent:stulet,lexicon:sv:personal:klagomål,target:callback:phone_known"},
    {"sv", S_CHAT, "", "Jag gick en bort-match", "", "", "", "", "routine", 0, "async", "async",
     "target:async"},
    {"sv", S_EMAIL, "", "Ring mig", "c", "", S_NUM, "", "personal", 60, "callback", "voice",
     "choice:callback,target:callback:phone_known"},
    {"sv", S_KIOSK, "", "Hjälp", "u", "", "", "", "urgent", 90, "human_chat", "human_chat",
     "choice:urgent,target:human_chat:no_phone"},
    {"sv", S_PHONE, "", "", "", "0", S_NUM, "", "personal", 70, "voice", "voice",
     "ivr:0:talk_to_person,channel:phone,target:voice:live"},
    {"sv", S_PHONE, "", "Fråga om min faktura", "", "", S_NUM, "V", "routine", 30, "async", "async",
     "channel:phone,customer:vip,target:async"},
    /* Swedish is the contact's language: English words are not looked up. */
    {"sv", S_CHAT, "", "My card was stolen", "", "", "", "", "routine", 0, "async", "async",
     "target:async"},
    {"SV-fi", S_CHAT, "", "Mitt kort är stulet", "", "", "", "f", "urgent", 95, "human_chat",
     "human_chat",
     "lexicon:sv:urgent:stulet,first_contact:moment_of_truth,target:human_chat:no_phone"},
};

static const s_row_t s_en[] = {
    {"en", S_CHAT, "", "What are your opening hours?", "", "", "", "", "routine", 0, "async",
     "async", "target:async"},
    {"en", S_CHAT, "", "My card was STOLEN yesterday", "", "", S_NUM, "", "urgent", 80, "callback",
     "voice", "lexicon:en:urgent:stolen,target:callback:phone_known"},
    {"en", S_PHONE, "", "I think this is fraud.", "", "", S_NUM, "", "urgent", 90, "voice", "voice",
     "lexicon:en:urgent:fraud,channel:phone,target:voice:live"},
    {"en", S_EMAIL, "Emergency", "I'm locked out of my account", "", "", "", "v", "urgent", 100,
     "human_chat", "human_chat",
     "lexicon:en:urgent:emergency,customer:vulnerable,target:human_chat:no_phone"},
    {"en", S_CHAT, "", "My husband passed away last month", "", "", "", "", "personal", 50,
     "human_chat", "human_chat", "lexicon:en:personal:passed away,target:human_chat:no_phone"},
    {"en", S_CHAT, "", "I want to file a complaint", "", "", "", "r", "personal", 75, "human_chat",
     "human_chat", "lexicon:en:personal:complaint,repeat_contact,target:human_chat:no_phone"},
    {"en", S_EMAIL, "Bereavement", "Closing my late mother's account", "", "", "", "f", "personal",
     65, "human_chat", "human_chat",
     "lexicon:en:personal:bereavement,first_contact:moment_of_truth,target:human_chat:no_phone"},
    {"en", S_CHAT, "Fraudulent charges", "and a complaint about how you handled it", "", "", S_NUM,
     "", "urgent", 100, "callback", "voice",
     "lexicon:en:urgent:fraudulent,lexicon:en:personal:complaint,target:callback:phone_known"},
    {"en", S_CHAT, "", "I passed the exam, away from home", "", "", "", "", "routine", 0, "async",
     "async", "target:async"},
    {"en", S_CHAT, "", "A question about my bill", "p", "", "", "", "personal", 60, "human_chat",
     "human_chat", "choice:talk_to_person,target:human_chat:no_phone"},
    {"en", S_PHONE, "", "", "u", "9", S_NUM, "", "urgent", 100, "voice", "voice",
     "choice:urgent,ivr:9:urgent,channel:phone,target:voice:live"},
    {"en", S_EMAIL, "", "Please call me back", "c", "", S_NUM, "", "personal", 60, "callback",
     "voice", "choice:callback,target:callback:phone_known"},
    {"en", S_CHAT, "", "How do I change my PIN?", "", "", "", "fvV", "personal", 75, "human_chat",
     "human_chat",
     "first_contact:moment_of_truth,customer:vulnerable,customer:vip,"
     "target:human_chat:no_phone"},
    {"en-GB", S_KIOSK, "", "fraud", "", "", S_NUM, "", "urgent", 80, "callback", "voice",
     "lexicon:en:urgent:fraud,target:callback:phone_known"},
    /* Everything at once: the score is capped, every reason is kept. */
    {"en", S_PHONE, "Emergency", "stolen card, and a complaint", "upc", "90", S_NUM, "rfvV",
     "urgent", 100, "voice", "voice",
     "choice:urgent,choice:talk_to_person,choice:callback,ivr:9:urgent,ivr:0:talk_to_person,"
     "lexicon:en:urgent:emergency,lexicon:en:personal:complaint,channel:phone,repeat_contact,"
     "first_contact:moment_of_truth,customer:vulnerable,customer:vip,target:voice:live"},
};

/* An unknown language tries fi, sv and en in that order, each kind of hit counting once. */
static const s_row_t s_any[] = {
    {"", S_CHAT, "", "kortti varastettu", "", "", "", "", "urgent", 80, "human_chat", "human_chat",
     "lexicon:fi:urgent:varastettu,target:human_chat:no_phone"},
    {"", S_CHAT, "", "stolen! kortet är stulet", "", "", "", "", "urgent", 80, "human_chat",
     "human_chat", "lexicon:sv:urgent:stulet,target:human_chat:no_phone"},
    {"de", S_CHAT, "", "fraud and a reklamaatio", "", "", "", "", "urgent", 100, "human_chat",
     "human_chat",
     "lexicon:en:urgent:fraud,lexicon:fi:personal:reklamaat*,target:human_chat:no_phone"},
};

static void s_run_row(const rt_policy_t *p, const char *table, size_t i, const s_row_t *r) {
    Hetki__V1__Contact c = HETKI__V1__CONTACT__INIT;
    Hetki__V1__Choices ch = HETKI__V1__CHOICES__INIT;
    Hetki__V1__CustomerIdentity id = HETKI__V1__CUSTOMER_IDENTITY__INIT;
    c.tenant = "demo";
    c.channel = r->channel;
    c.dedupe_key = "k";
    c.language = (char *)r->lang;
    c.subject = (char *)r->subject;
    c.text = (char *)r->text;
    ch.urgent = strchr(r->choices, 'u') != NULL;
    ch.talk_to_person = strchr(r->choices, 'p') != NULL;
    ch.callback = strchr(r->choices, 'c') != NULL;
    ch.ivr_digits = (char *)r->ivr;
    c.choices = &ch;
    /* A kiosk-entered number counts like a caller id. */
    if (r->channel == S_KIOSK) {
        id.entered_phone = (char *)r->phone;
    } else {
        id.phone_number = (char *)r->phone;
    }
    c.customer = &id;
    rt_signals_t s = {0};
    s.repeat = strchr(r->signals, 'r') != NULL;
    s.first_contact = strchr(r->signals, 'f') != NULL;
    s.vulnerable = strchr(r->signals, 'v') != NULL;
    s.vip = strchr(r->signals, 'V') != NULL;

    rt_base_t b;
    rt_decision_t d;
    rt_classify_base(&c, p, &b);
    rt_classify_finish(&b, &s, p, &d);
    char got[1024] = "";
    for (size_t k = 0; k < d.n_reasons; k++) {
        size_t used = strlen(got);
        snprintf(got + used, sizeof got - used, "%s%s", k ? "," : "", d.reasons[k]);
    }
    const char *klass = rt_class_name(d.klass);
    HK_EXPECT(!strcmp(klass, r->klass) && d.score == r->score && !strcmp(d.target, r->target) &&
                  !strcmp(d.queue, r->queue) && !strcmp(got, r->reasons),
              "%s row %zu (\"%s\" / \"%s\"):\n      got  %s %d %s %s [%s]\n      want %s %d %s "
              "%s [%s]",
              table, i, r->subject, r->text, klass, d.score, d.target, d.queue, got, r->klass,
              r->score, r->target, r->queue, r->reasons);
}

#define S_RUN_TABLE(p, t)                                                                          \
    for (size_t i_ = 0; i_ < sizeof(t) / sizeof(t)[0]; i_++) {                                     \
        s_run_row(p, #t, i_, &(t)[i_]);                                                            \
    }

static void s_test_tables(const rt_policy_t *p) {
    HK_CHECK(sizeof s_fi / sizeof s_fi[0] >= 12, "fi rows");
    HK_CHECK(sizeof s_sv / sizeof s_sv[0] >= 12, "sv rows");
    HK_CHECK(sizeof s_en / sizeof s_en[0] >= 12, "en rows");
    S_RUN_TABLE(p, s_fi);
    S_RUN_TABLE(p, s_sv);
    S_RUN_TABLE(p, s_en);
    S_RUN_TABLE(p, s_any);
}

/* ---- explicit choices are never overridden; copies; class names ---------------------- */

static void s_test_floors(rt_policy_t *p) {
    rt_policy_t weak = *p;
    weak.weight_choice_urgent = 5;
    weak.weight_choice_person = 5;
    Hetki__V1__Contact c = HETKI__V1__CONTACT__INIT;
    Hetki__V1__Choices ch = HETKI__V1__CHOICES__INIT;
    c.channel = S_CHAT;
    c.choices = &ch;
    rt_base_t b;
    rt_signals_t none = {0};
    rt_decision_t d;

    ch.talk_to_person = 1;
    rt_classify_base(&c, &weak, &b);
    HK_CHECK_INT_EQ(b.score, 5);
    rt_classify_finish(&b, &none, &weak, &d);
    HK_CHECK_STR_EQ(rt_class_name(d.klass), "personal");
    HK_CHECK_INT_EQ(d.score, 50);

    ch.urgent = 1;
    rt_classify_base(&c, &weak, &b);
    HK_CHECK_INT_EQ(b.score, 10);
    rt_classify_finish(&b, &none, &weak, &d);
    HK_CHECK_STR_EQ(rt_class_name(d.klass), "urgent");
    HK_CHECK_INT_EQ(d.score, 80);
    HK_CHECK_STR_EQ(d.target, "human_chat");
    HK_CHECK_INT_EQ(b.explicit_urgent, 1);
    HK_CHECK_INT_EQ(b.explicit_person, 1);
    HK_CHECK_INT_EQ(b.phone_known, 0);
    HK_CHECK_INT_EQ(b.is_phone_channel, 0);

    /* No customer, no choices, no text at all. */
    Hetki__V1__Contact bare = HETKI__V1__CONTACT__INIT;
    rt_classify_base(&bare, p, &b);
    rt_classify_finish(&b, &none, p, &d);
    HK_CHECK_STR_EQ(rt_class_name(d.klass), "routine");
    HK_CHECK_INT_EQ(d.n_reasons, 1);

    /* The queue is copied: the decision outlives a policy reload. */
    rt_policy_t *tmp = malloc(sizeof *tmp);
    HK_CHECK(tmp, "malloc");
    *tmp = *p;
    snprintf(tmp->human_chat_queue, sizeof tmp->human_chat_queue, "chat_fi");
    ch.urgent = 0;
    ch.talk_to_person = 1;
    rt_classify_base(&c, tmp, &b);
    rt_classify_finish(&b, &none, tmp, &d);
    memset(tmp, 0, sizeof *tmp);
    free(tmp);
    HK_CHECK_STR_EQ(d.queue, "chat_fi");
    HK_CHECK_STR_EQ(d.reasons[0], "choice:talk_to_person");

    rt_decision_t *copy = malloc(sizeof *copy);
    HK_CHECK(copy, "malloc");
    rt_decision_copy(copy, &d);
    memset(&d, 0, sizeof d);
    HK_CHECK_STR_EQ(copy->queue, "chat_fi");
    HK_CHECK_INT_EQ(copy->n_reasons, 2);
    HK_CHECK_STR_EQ(copy->reasons[0], "choice:talk_to_person");
    HK_CHECK_STR_EQ(copy->reasons[1], "target:human_chat:no_phone");
    free(copy);
}

static void s_test_names(void) {
    static const char *const names[] = {"urgent", "personal", "routine"};
    for (size_t i = 0; i < 3; i++) {
        HK_CHECK_STR_EQ(rt_class_name(rt_class_parse(names[i])), names[i]);
    }
    HK_CHECK_INT_EQ(rt_class_parse("URGENT"), HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_UNSPECIFIED);
    HK_CHECK_STR_EQ(rt_class_name(HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_UNSPECIFIED),
                    "unspecified");
}

int main(void) {
    rt_policy_t *p = malloc(sizeof *p);
    HK_CHECK(p, "malloc");
    s_policy(p);
    s_test_normalize();
    s_test_match();
    s_test_fuzz();
    s_test_tables(p);
    s_test_floors(p);
    s_test_names();
    free(p);
    return HK_TEST_EXIT();
}
