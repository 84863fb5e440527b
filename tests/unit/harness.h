/* harness.h: the unit-test harness.  A test file defines TEST(name) blocks;
 * tests/unit/harness.c supplies main, runs them in order and prints one line per
 * test ("ok - name", "not ok - name: why", "skip - name: why"), which
 * tests/run.sh counts.  `build/tests/test_x NAME` runs a single test. */
#ifndef DISQ_HARNESS_H
#define DISQ_HARNESS_H

#include <math.h>
#include <stddef.h>
#include <stdio.h>

typedef void (*dq_test_fn)(void);
void dq_test_register(const char *name, dq_test_fn fn);
void dq_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void dq_test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Scratch directory private to this test binary (created on first use). */
const char *dq_test_tmpdir(void);
extern int dq_test_failed_now;
/* Runs fn in a forked child with stdin / stdout from in_fd / out_fd (-1: this
 * process's own), for code that ends the process; returns its exit status
 * (128 + N when killed by signal N) with its stderr in err. */
int dq_test_run_child(void (*fn)(void), int in_fd, int out_fd, char *err, size_t errsize);

#define TEST(name)                                                              \
    static void test_##name(void);                                              \
    __attribute__((constructor)) static void register_##name(void) {            \
        dq_test_register(#name, test_##name);                                   \
    }                                                                           \
    static void test_##name(void)

/* A failed CHECK records the failure and returns from the test. */
#define CHECK(cond)                                                             \
    do {                                                                        \
        if (!(cond)) {                                                          \
            dq_test_fail(__FILE__, __LINE__, "%s", #cond);                      \
            return;                                                             \
        }                                                                       \
    } while (0)

#define CHECK_MSG(cond, ...)                                                    \
    do {                                                                        \
        if (!(cond)) {                                                          \
            dq_test_fail(__FILE__, __LINE__, __VA_ARGS__);                      \
            return;                                                             \
        }                                                                       \
    } while (0)

/* |a - b| <= tol, NaN never passes. */
#define CHECK_NEAR(a, b, tol)                                                   \
    do {                                                                        \
        double a_ = (a), b_ = (b), t_ = (tol);                                  \
        if (!(fabs(a_ - b_) <= t_)) {                                           \
            dq_test_fail(__FILE__, __LINE__, "%s = %.9g, %s = %.9g, tol %.3g",  \
                         #a, a_, #b, b_, t_);                                   \
            return;                                                             \
        }                                                                       \
    } while (0)

#define SKIP(...)                                                               \
    do {                                                                        \
        dq_test_skip(__VA_ARGS__);                                              \
        return;                                                                 \
    } while (0)

#endif
