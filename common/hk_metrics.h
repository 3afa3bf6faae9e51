/* hk_metrics: a process's counters, gauges and histograms, rendered as Prometheus text.
 * Registration returns a stable pointer the caller updates directly (single-threaded). */
#ifndef HK_METRICS_H
#define HK_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct hk_metrics_t hk_metrics_t;

typedef struct {
    double bounds[16];   /* upper bounds, ascending */
    uint64_t counts[17]; /* counts[i] observations <= bounds[i]; last is +Inf */
    size_t n;
    double sum;
    uint64_t count;
} hk_histogram_t;

/* Creates a registry; names are prefixed with "hetki_". Owned by the caller. */
hk_metrics_t *hk_metrics_new(void);
void hk_metrics_destroy(hk_metrics_t **self_p);

/* Registers a monotonically increasing counter; the pointer lives as long as the registry. */
uint64_t *hk_metrics_counter(hk_metrics_t *self, const char *name, const char *help);

/* Registers a gauge. */
double *hk_metrics_gauge(hk_metrics_t *self, const char *name, const char *help);

/* Registers a histogram with up to 16 ascending bucket bounds. */
hk_histogram_t *hk_metrics_histogram(hk_metrics_t *self, const char *name, const char *help,
                                     const double *bounds, size_t n);

void hk_histogram_observe(hk_histogram_t *h, double value);

/* Renders every metric as Prometheus text exposition; the caller frees the result. */
char *hk_metrics_render(const hk_metrics_t *self, size_t *len);

#endif
