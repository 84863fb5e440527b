/* Process conventions of lib/core/util.c. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "core/util.h"

/* Runs in two roles: normally it starts this binary again with
 * OMP_WAIT_POLICY removed from the environment and DQ_WAIT_POLICY_PROBE set;
 * in that child (after dq_init's re-exec) it reports the policy it got. */
TEST(openmp_waits_passively_unless_told_otherwise) {
    if (getenv("DQ_WAIT_POLICY_PROBE")) {
        const char *p = getenv("OMP_WAIT_POLICY");
        _exit(p && strcmp(p, "passive") == 0 ? 0 : 1);
    }
    pid_t pid = fork();
    if (pid == 0) {
        unsetenv("OMP_WAIT_POLICY");
        setenv("DQ_WAIT_POLICY_PROBE", "1", 1);
        execl("/proc/self/exe", "test_util", "openmp_waits_passively_unless_told_otherwise", (char *)NULL);
        _exit(2);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
}

TEST(parse_numbers_strictly) {
    long long v;
    double d;
    CHECK(dq_parse_ll("42", &v) == 0 && v == 42);
    CHECK(dq_parse_ll("-7", &v) == 0 && v == -7);
    CHECK(dq_parse_ll("4x", &v) == -1);
    CHECK(dq_parse_ll("", &v) == -1);
    CHECK(dq_parse_ll("99999999999999999999", &v) == -1);
    CHECK(dq_parse_double("1e-3", &d) == 0 && d == 1e-3);
    CHECK(dq_parse_double("nan", &d) == -1);
    CHECK(dq_parse_double("1.5.", &d) == -1);
}

TEST(checked_size_products) {
    size_t out;
    CHECK(dq_mul_size(1u << 20, 1u << 20, &out) == 0 && out == (size_t)1 << 40);
    CHECK(dq_mul_size(SIZE_MAX / 2, 3, &out) == -1);
    CHECK(dq_mul_size(0, SIZE_MAX, &out) == 0 && out == 0);
}
