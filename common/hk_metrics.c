/* hk_metrics: counters, gauges and histograms rendered as Prometheus text. */
#include "hk_metrics.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { S_COUNTER, S_GAUGE, S_HISTOGRAM } s_kind_t;

typedef struct s_metric {
    struct s_metric *next;
    s_kind_t kind;
    char name[96];
    char help[160];
    union {
        uint64_t counter;
        double gauge;
        hk_histogram_t histogram;
    } v;
} s_metric_t;

struct hk_metrics_t {
    s_metric_t *head;
    s_metric_t *tail;
};

hk_metrics_t *hk_metrics_new(void) {
    return calloc(1, sizeof(hk_metrics_t));
}

void hk_metrics_destroy(hk_metrics_t **self_p) {
    assert(self_p);
    if (*self_p) {
        s_metric_t *m = (*self_p)->head;
        while (m) {
            s_metric_t *next = m->next;
            free(m);
            m = next;
        }
        free(*self_p);
        *self_p = NULL;
    }
}

static s_metric_t *s_add(hk_metrics_t *self, s_kind_t kind, const char *name, const char *help) {
    assert(self && name);
    s_metric_t *m = calloc(1, sizeof *m);
    assert(m);
    m->kind = kind;
    snprintf(m->name, sizeof m->name, "hetki_%s", name);
    snprintf(m->help, sizeof m->help, "%s", help ? help : "");
    if (self->tail) {
        self->tail->next = m;
    } else {
        self->head = m;
    }
    self->tail = m;
    return m;
}

uint64_t *hk_metrics_counter(hk_metrics_t *self, const char *name, const char *help) {
    return &s_add(self, S_COUNTER, name, help)->v.counter;
}

double *hk_metrics_gauge(hk_metrics_t *self, const char *name, const char *help) {
    return &s_add(self, S_GAUGE, name, help)->v.gauge;
}

hk_histogram_t *hk_metrics_histogram(hk_metrics_t *self, const char *name, const char *help,
                                     const double *bounds, size_t n) {
    assert(n <= 16);
    s_metric_t *m = s_add(self, S_HISTOGRAM, name, help);
    memcpy(m->v.histogram.bounds, bounds, n * sizeof *bounds);
    m->v.histogram.n = n;
    return &m->v.histogram;
}

void hk_histogram_observe(hk_histogram_t *h, double value) {
    size_t i = 0;
    while (i < h->n && value > h->bounds[i]) {
        i++;
    }
    h->counts[i]++;
    h->sum += value;
    h->count++;
}

/* Formats a sample value without losing precision: integers as integers, other values in
 * the fewest digits that read back exactly, and +Inf/-Inf/NaN as Prometheus spells them. */
static void s_number(char *out, size_t len, double v) {
    if (isnan(v)) {
        snprintf(out, len, "NaN");
    } else if (isinf(v)) {
        snprintf(out, len, v > 0 ? "+Inf" : "-Inf");
    } else if (v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double)(long long)v) {
        snprintf(out, len, "%lld", (long long)v);
    } else {
        for (int digits = 6; digits <= 17; digits++) {
            snprintf(out, len, "%.*g", digits, v);
            if (strtod(out, NULL) == v) {
                break;
            }
        }
    }
}

typedef struct {
    char *buf;
    size_t len, cap;
} s_text_t;

static void s_printf(s_text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void s_printf(s_text_t *t, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            return;
        }
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        t->cap = t->cap * 2 + (size_t)n;
        t->buf = realloc(t->buf, t->cap);
        assert(t->buf);
    }
}

char *hk_metrics_render(const hk_metrics_t *self, size_t *len) {
    s_text_t t = {malloc(4096), 0, 4096};
    assert(t.buf);
    t.buf[0] = '\0';
    for (const s_metric_t *m = self->head; m; m = m->next) {
        static const char *const types[] = {"counter", "gauge", "histogram"};
        s_printf(&t, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help, m->name, types[m->kind]);
        if (m->kind == S_COUNTER) {
            s_printf(&t, "%s %llu\n", m->name, (unsigned long long)m->v.counter);
        } else if (m->kind == S_GAUGE) {
            char num[40];
            s_number(num, sizeof num, m->v.gauge);
            s_printf(&t, "%s %s\n", m->name, num);
        } else {
            const hk_histogram_t *h = &m->v.histogram;
            uint64_t cumulative = 0;
            for (size_t i = 0; i < h->n; i++) {
                char le[40];
                cumulative += h->counts[i];
                s_number(le, sizeof le, h->bounds[i]);
                s_printf(&t, "%s_bucket{le=\"%s\"} %llu\n", m->name, le,
                         (unsigned long long)cumulative);
            }
            cumulative += h->counts[h->n];
            char sum[40];
            s_number(sum, sizeof sum, h->sum);
            s_printf(&t, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %s\n%s_count %llu\n", m->name,
                     (unsigned long long)cumulative, m->name, sum, m->name,
                     (unsigned long long)h->count);
        }
    }
    if (len) {
        *len = t.len;
    }
    return t.buf;
}
