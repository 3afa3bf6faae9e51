/* hk_test: minimal checking macros for hetki's test programs. A test is a plain C program
 * that exits 0 when every check passed and non-zero after printing "file:line: message" for
 * each failure. HK_CHECK stops the test at the first failure; HK_EXPECT records it and goes
 * on, and HK_TEST_EXIT() turns the recorded failures into the exit code. */
#ifndef HK_TEST_H
#define HK_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Adds add to the process's failure count and returns the new count. */
static inline int hk_test_failures(int add) {
    static int failures = 0;
    failures += add;
    return failures;
}

/* Prints "file:line: " and the formatted message on stderr. */
#define HK_TEST_REPORT_(...)                                                                       \
    do {                                                                                           \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                            \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        fflush(stderr);                                                                            \
    } while (0)

/* Fails the test at once unless cond holds; the rest is a printf format and its arguments. */
#define HK_CHECK(cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            HK_TEST_REPORT_(__VA_ARGS__);                                                          \
            fprintf(stderr, "    check failed: %s\n", #cond);                                      \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* Records a failure unless cond holds and carries on; see HK_TEST_EXIT. */
#define HK_EXPECT(cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            HK_TEST_REPORT_(__VA_ARGS__);                                                          \
            fprintf(stderr, "    expectation failed: %s\n", #cond);                                \
            hk_test_failures(1);                                                                   \
        }                                                                                          \
    } while (0)

/* Two strings are equal (NULL equals only NULL). */
#define HK_CHECK_STR_EQ(got, want)                                                                 \
    do {                                                                                           \
        const char *hk_got_ = (got), *hk_want_ = (want);                                           \
        HK_CHECK((hk_got_ == NULL && hk_want_ == NULL) ||                                          \
                     (hk_got_ && hk_want_ && strcmp(hk_got_, hk_want_) == 0),                      \
                 "%s is \"%s\", expected \"%s\"", #got, hk_got_ ? hk_got_ : "(null)",              \
                 hk_want_ ? hk_want_ : "(null)");                                                  \
    } while (0)

/* Two integers are equal. */
#define HK_CHECK_INT_EQ(got, want)                                                                 \
    do {                                                                                           \
        long long hk_got_ = (long long)(got), hk_want_ = (long long)(want);                        \
        HK_CHECK(hk_got_ == hk_want_, "%s is %lld, expected %lld", #got, hk_got_, hk_want_);       \
    } while (0)

/* text (non-NULL) contains needle. */
#define HK_CHECK_CONTAINS(text, needle)                                                            \
    do {                                                                                           \
        const char *hk_text_ = (text), *hk_needle_ = (needle);                                     \
        HK_CHECK(hk_text_ != NULL && strstr(hk_text_, hk_needle_) != NULL,                         \
                 "%s does not contain \"%s\": \"%s\"", #text, hk_needle_,                          \
                 hk_text_ ? hk_text_ : "(null)");                                                  \
    } while (0)

/* The exit status of main: 0 when nothing failed, 1 otherwise (with a summary line). */
#define HK_TEST_EXIT()                                                                             \
    (hk_test_failures(0) == 0                                                                      \
         ? 0                                                                                       \
         : (fprintf(stderr, "%s: %d expectation(s) failed\n", __FILE__, hk_test_failures(0)), 1))

#endif
