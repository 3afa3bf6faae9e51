/* fuzz_driver: a main() for fuzz targets built without libFuzzer. It runs
 * LLVMFuzzerTestOneInput once on every regular file in the directories (or files) named on the
 * command line, so a sanitizer build replays the seed corpus as an ordinary test. Exits 0 when
 * at least one input ran, 1 when an argument cannot be read or nothing ran. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads path whole and runs the target on it; returns 0, or -1 when it cannot be read. */
static int s_run_file(const char *path) {
    int rc = -1;
    uint8_t *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fuzz_driver: cannot open %s\n", path);
        goto cleanup;
    }
    if (fseek(f, 0, SEEK_END) != 0) {
        goto cleanup;
    }
    long size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        goto cleanup;
    }
    /* Exactly size bytes, so ASan catches any read past the input. */
    buf = malloc(size > 0 ? (size_t)size : 1);
    if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "fuzz_driver: cannot read %s\n", path);
        goto cleanup;
    }
    LLVMFuzzerTestOneInput(buf, (size_t)size);
    rc = 0;
cleanup:
    free(buf);
    if (f) {
        fclose(f);
    }
    return rc;
}

/* Runs every regular file in dir (not recursing); adds to *ran; returns 0 or -1. */
static int s_run_dir(const char *dir, int *ran) {
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "fuzz_driver: cannot open directory %s\n", dir);
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            continue;
        }
        if (s_run_file(path) != 0) {
            rc = -1;
        } else {
            (*ran)++;
        }
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv) {
    int ran = 0;
    int rc = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s <corpus dir or file>...\n", argv[0]);
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "fuzz_driver: no such file or directory: %s\n", argv[i]);
            rc = 1;
        } else if (S_ISDIR(st.st_mode)) {
            if (s_run_dir(argv[i], &ran) != 0) {
                rc = 1;
            }
        } else if (s_run_file(argv[i]) != 0) {
            rc = 1;
        } else {
            ran++;
        }
    }
    printf("fuzz_driver: ran %d input(s)\n", ran);
    if (ran == 0) {
        fprintf(stderr, "fuzz_driver: no inputs found\n");
        rc = 1;
    }
    return rc;
}
