/* test_metrics: hk_metrics renders counters, gauges and histograms (cumulative buckets, +Inf,
 * sum and count) as Prometheus text, and the rendered values read back exactly. */
#include "hk_metrics.h"
#include "hk_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The text after "<series> " on the line that starts with series, or NULL. */
static const char *s_find(const char *text, const char *series) {
    size_t n = strlen(series);
    const char *line = text;
    while (line && *line) {
        if (strncmp(line, series, n) == 0 && line[n] == ' ') {
            return line + n + 1;
        }
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    return NULL;
}

/* The value of series as a double; fails the test when the series is missing or unparsable. */
static double s_value(const char *text, const char *series) {
    const char *v = s_find(text, series);
    HK_CHECK(v, "series %s missing from:\n%s", series, text);
    char *end = NULL;
    double d = strtod(v, &end);
    HK_CHECK(end != v && *end == '\n', "series %s has a bad value line \"%.40s\"", series, v);
    return d;
}

/* Renders and checks the framing every render must have; the caller frees the text. */
static char *s_render(const hk_metrics_t *m) {
    size_t len = 0;
    char *text = hk_metrics_render(m, &len);
    HK_CHECK(text, "render returned NULL");
    HK_CHECK_INT_EQ(strlen(text), len);
    HK_CHECK(len == 0 || text[len - 1] == '\n', "render does not end in a newline");
    char *again = hk_metrics_render(m, NULL); /* the length is optional */
    HK_CHECK(again && strcmp(again, text) == 0, "render without a length differs");
    free(again);
    return text;
}

static void s_test_empty(void) {
    hk_metrics_t *m = hk_metrics_new();
    HK_CHECK(m, "hk_metrics_new");
    char *text = s_render(m);
    HK_CHECK_STR_EQ(text, "");
    free(text);
    hk_metrics_destroy(&m);
    HK_CHECK(m == NULL, "destroy did not null the pointer");
    hk_metrics_destroy(&m);
}

static void s_test_counters_and_gauges(void) {
    hk_metrics_t *m = hk_metrics_new();
    uint64_t *contacts = hk_metrics_counter(m, "contacts_total", "Contacts received.");
    double *depth = hk_metrics_gauge(m, "queue_depth", "Contacts waiting.");
    uint64_t *big = hk_metrics_counter(m, "bytes_total", NULL);
    double *temp = hk_metrics_gauge(m, "offset", "Signed gauge.");
    HK_CHECK(contacts && depth && big && temp, "registration returned NULL");

    char *text = s_render(m);
    HK_CHECK_CONTAINS(text, "# HELP hetki_contacts_total Contacts received.\n");
    HK_CHECK_CONTAINS(text, "# TYPE hetki_contacts_total counter\n");
    HK_CHECK_CONTAINS(text, "# TYPE hetki_queue_depth gauge\n");
    HK_CHECK_CONTAINS(text, "\nhetki_contacts_total 0\n");
    HK_CHECK_CONTAINS(text, "\nhetki_queue_depth 0\n");
    /* Registration order is render order. */
    HK_CHECK(strstr(text, "hetki_contacts_total") < strstr(text, "hetki_queue_depth") &&
                 strstr(text, "hetki_queue_depth") < strstr(text, "hetki_bytes_total"),
             "metrics out of registration order:\n%s", text);
    free(text);

    *contacts += 3;
    (*contacts)++;
    *depth = 2.5;
    *big = UINT64_MAX;
    *temp = -17.25;
    text = s_render(m);
    HK_CHECK_CONTAINS(text, "\nhetki_contacts_total 4\n");
    HK_CHECK_CONTAINS(text, "\nhetki_queue_depth 2.5\n");
    HK_CHECK_CONTAINS(text, "\nhetki_bytes_total 18446744073709551615\n");
    HK_CHECK_CONTAINS(text, "\nhetki_offset -17.25\n");
    free(text);
    hk_metrics_destroy(&m);
}

static void s_test_histogram(void) {
    hk_metrics_t *m = hk_metrics_new();
    const double bounds[] = {0.005, 0.01, 0.1, 1, 10};
    hk_histogram_t *h = hk_metrics_histogram(m, "route_seconds", "Routing latency.", bounds, 5);
    HK_CHECK(h, "histogram registration");

    char *text = s_render(m);
    HK_CHECK_CONTAINS(text, "# TYPE hetki_route_seconds histogram\n");
    HK_CHECK_CONTAINS(text, "hetki_route_seconds_bucket{le=\"+Inf\"} 0\n");
    HK_CHECK_CONTAINS(text, "hetki_route_seconds_count 0\n");
    free(text);

    /* One value exactly on a bound counts in that bound's bucket (le is "less or equal"). */
    const double values[] = {0.001, 0.005, 0.05, 0.5, 5, 50, 0.007};
    double sum = 0;
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        hk_histogram_observe(h, values[i]);
        sum += values[i];
    }
    text = s_render(m);
    HK_CHECK_CONTAINS(text, "hetki_route_seconds_bucket{le=\"0.005\"} 2\n");
    HK_CHECK_CONTAINS(text, "hetki_route_seconds_bucket{le=\"0.01\"} 3\n");
    HK_CHECK_CONTAINS(text, "hetki_route_seconds_bucket{le=\"0.1\"} 4\n");
    HK_CHECK_CONTAINS(text, "hetki_route_seconds_bucket{le=\"1\"} 5\n");
    HK_CHECK_CONTAINS(text, "hetki_route_seconds_bucket{le=\"10\"} 6\n");
    HK_CHECK_CONTAINS(text, "hetki_route_seconds_bucket{le=\"+Inf\"} 7\n");
    HK_CHECK_CONTAINS(text, "hetki_route_seconds_count 7\n");
    HK_CHECK(fabs(s_value(text, "hetki_route_seconds_sum") - sum) < 1e-9, "sum is not %g", sum);
    /* Buckets come in ascending order and never decrease; +Inf equals count. */
    const char *order[] = {"{le=\"0.005\"}", "{le=\"0.01\"}", "{le=\"0.1\"}", "{le=\"1\"}",
                           "{le=\"10\"}",    "{le=\"+Inf\"}", "_sum ",        "_count "};
    const char *at = text;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        const char *p = strstr(at, order[i]);
        HK_CHECK(p, "%s missing or out of order:\n%s", order[i], text);
        at = p;
    }
    free(text);

    /* The widest histogram: 16 bounds, every bucket hit once. */
    double wide[16];
    for (int i = 0; i < 16; i++) {
        wide[i] = i + 1;
    }
    hk_histogram_t *w = hk_metrics_histogram(m, "wide", "Sixteen buckets.", wide, 16);
    for (int i = 0; i <= 16; i++) {
        hk_histogram_observe(w, i + 0.5);
    }
    text = s_render(m);
    HK_CHECK_CONTAINS(text, "hetki_wide_bucket{le=\"1\"} 1\n");
    HK_CHECK_CONTAINS(text, "hetki_wide_bucket{le=\"16\"} 16\n");
    HK_CHECK_CONTAINS(text, "hetki_wide_bucket{le=\"+Inf\"} 17\n");
    HK_CHECK_CONTAINS(text, "hetki_wide_count 17\n");
    HK_CHECK(s_value(text, "hetki_wide_sum") == 144.5, "wide sum");
    free(text);
    hk_metrics_destroy(&m);
}

static void s_test_many(void) {
    /* Enough metrics with long names to make the renderer grow its buffer many times. */
    hk_metrics_t *m = hk_metrics_new();
    uint64_t *c[300];
    for (int i = 0; i < 300; i++) {
        char name[80];
        snprintf(name, sizeof name, "a_rather_long_metric_name_for_growth_%03d_total", i);
        c[i] = hk_metrics_counter(m, name, "A counter with a help text long enough to matter.");
        *c[i] = (uint64_t)i * 1000;
    }
    char *text = s_render(m);
    HK_CHECK_CONTAINS(text, "\nhetki_a_rather_long_metric_name_for_growth_000_total 0\n");
    HK_CHECK_CONTAINS(text, "\nhetki_a_rather_long_metric_name_for_growth_299_total 299000\n");
    free(text);
    hk_metrics_destroy(&m);
}

static void s_test_precision(void) {
    /* Values must survive rendering: Prometheus reads them back as doubles. A start-time gauge
     * in unix seconds, a large queue and a long-running histogram sum all need more than six
     * significant digits. */
    hk_metrics_t *m = hk_metrics_new();
    double *start = hk_metrics_gauge(m, "start_time_seconds", "Process start time.");
    double *depth = hk_metrics_gauge(m, "queue_depth", "Contacts waiting.");
    const double bounds[] = {1};
    hk_histogram_t *h = hk_metrics_histogram(m, "wait_seconds", "Waits.", bounds, 1);
    *start = 1718000000.5;
    *depth = 1234567;
    for (int i = 0; i < 1000; i++) {
        hk_histogram_observe(h, 1234.5);
    }
    char *text = s_render(m);
    double got = s_value(text, "hetki_start_time_seconds");
    HK_EXPECT(got == *start, "start time renders as %.17g, not %.17g:\n%s", got, *start, text);
    got = s_value(text, "hetki_queue_depth");
    HK_EXPECT(got == *depth, "queue depth renders as %.17g, not %.17g", got, *depth);
    got = s_value(text, "hetki_wait_seconds_sum");
    HK_EXPECT(got == h->sum, "histogram sum renders as %.17g, not %.17g", got, h->sum);
    free(text);

    /* A sum that is not a short decimal, and a gauge that needs all 17 digits. */
    for (int i = 0; i < 10; i++) {
        hk_histogram_observe(h, 0.1);
    }
    *depth = 0.1 + 0.2;
    text = s_render(m);
    got = s_value(text, "hetki_wait_seconds_sum");
    HK_EXPECT(got == h->sum, "histogram sum renders as %.17g, not %.17g", got, h->sum);
    got = s_value(text, "hetki_queue_depth");
    HK_EXPECT(got == *depth, "queue depth renders as %.17g, not %.17g", got, *depth);
    free(text);
    hk_metrics_destroy(&m);
}

/* Bucket bounds are labels, and a bound that renders rounded names the wrong bucket. */
static void s_test_bounds_exact(void) {
    hk_metrics_t *m = hk_metrics_new();
    const double bounds[] = {0.0025, 0.1, 1048576, 16777216.5, 1e15};
    size_t n = sizeof bounds / sizeof bounds[0];
    hk_metrics_histogram(m, "frame_bytes", "Frame sizes.", bounds, n);
    char *text = s_render(m);
    const char *prefix = "hetki_frame_bytes_bucket{le=\"";
    const char *line = text;
    size_t i = 0;
    while ((line = strstr(line, prefix)) != NULL) {
        line += strlen(prefix);
        if (strncmp(line, "+Inf\"", 5) == 0) {
            break;
        }
        char *end = NULL;
        double le = strtod(line, &end);
        HK_CHECK(i < n && end != line && *end == '"', "bad bucket line at \"%.30s\"", line);
        HK_EXPECT(le == bounds[i], "bucket bound %.17g renders as le=\"%.*s\"", bounds[i],
                  (int)(end - line), line);
        i++;
    }
    HK_CHECK_INT_EQ(i, n);
    free(text);
    hk_metrics_destroy(&m);
}

/* Infinite, NaN and huge gauges render as values Prometheus parses, without undefined
 * behaviour (a clang -fsanitize=undefined build checks float-to-integer conversions). */
static void s_test_non_finite(void) {
    hk_metrics_t *m = hk_metrics_new();
    double *g = hk_metrics_gauge(m, "ratio", "A ratio.");
    const double values[] = {INFINITY, -INFINITY, NAN, 1e300, -1e19, 9007199254740993.0};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        *g = values[i];
        char *text = s_render(m);
        double got = s_value(text, "hetki_ratio");
        HK_EXPECT(isnan(values[i]) ? isnan(got) : got == values[i], "gauge %.17g renders as %.17g",
                  values[i], got);
        free(text);
    }
    hk_metrics_destroy(&m);
}

int main(void) {
    s_test_empty();
    s_test_counters_and_gauges();
    s_test_histogram();
    s_test_many();
    s_test_precision();
    s_test_bounds_exact();
    s_test_non_finite();
    int rc = HK_TEST_EXIT();
    printf("test_metrics: %s\n", rc == 0 ? "ok" : "FAILED");
    return rc;
}
