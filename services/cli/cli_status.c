/* cli_status: `hetki status` lists the live service instances registered in Redis with
 * their age and endpoints. Exit code 0, or 3 when Redis cannot be reached. */
#include "cli.h"
#include "cli_bus.h"

#include <stdio.h>
#include <string.h>

static void s_on_list(const hk_instance_t *list, size_t n, int64_t now_ms, int status, void *arg) {
    cli_bus_t *bus = arg;
    if (status != 0) {
        fprintf(stderr, "hetki: Redis did not answer the registry query\n");
        cli_bus_finish(bus, 3);
        return;
    }
    printf("%-10s %-40s %8s  %s\n", "SERVICE", "INSTANCE", "AGE", "ENDPOINTS");
    for (size_t i = 0; i < n; i++) {
        const hk_instance_t *in = &list[i];
        char age[32];
        int64_t secs = (now_ms - in->started_ms) / 1000;
        if (secs < 3600) {
            snprintf(age, sizeof age, "%llds", (long long)secs);
        } else {
            snprintf(age, sizeof age, "%lldh%02lldm", (long long)secs / 3600,
                     (long long)(secs % 3600) / 60);
        }
        printf("%-10s %-40s %8s  ", in->service, in->instance, age);
        for (size_t k = 0; k < in->n_eps; k++) {
            printf("%s%s=%s", k ? " " : "", in->eps[k].name, in->eps[k].endpoint);
        }
        printf("\n");
    }
    printf("%zu live instance%s\n", n, n == 1 ? "" : "s");
    cli_bus_finish(bus, 0);
}

static void s_start(cli_bus_t *bus, int ready, void *arg) {
    if (!ready || hk_registry_list(cli_bus_registry(bus), NULL, s_on_list, bus) != 0) {
        cli_bus_finish(bus, 3);
    }
}

int cli_status(int argc, char **argv) {
    if (argc > 0) {
        fprintf(stderr, "usage: hetki status\n");
        return 2;
    }
    cli_bus_t *bus = cli_bus_new(5000);
    if (!bus) {
        return 2;
    }
    int code = cli_bus_run(bus, 1, s_start, NULL);
    cli_bus_destroy(&bus);
    return code;
}
