#include "harness.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"

enum { MAX_TESTS = 1024 };
static struct {
    const char *name;
    dq_test_fn fn;
} tests[MAX_TESTS];
static int ntests;
static int skipped_now;
int dq_test_failed_now;
static char tmpdir[512];
static pid_t tmpdir_owner; /* forked children must not remove it */

void dq_test_register(const char *name, dq_test_fn fn) {
    if (ntests == MAX_TESTS) {
        fprintf(stderr, "harness: more than %d tests\n", MAX_TESTS);
        exit(1);
    }
    tests[ntests].name = name;
    tests[ntests].fn = fn;
    ntests++;
}

static const char *current;

void dq_test_fail(const char *file, int line, const char *fmt, ...) {
    if (dq_test_failed_now) return;
    dq_test_failed_now = 1;
    printf("not ok - %s: %s:%d: ", current, file, line);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

void dq_test_skip(const char *fmt, ...) {
    skipped_now = 1;
    printf("skip - %s: ", current);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

const char *dq_test_tmpdir(void) {
    if (!tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/disq-test.XXXXXX", base ? base : "/tmp");
        tmpdir_owner = getpid();
        if (!mkdtemp(tmpdir)) {
            perror("harness: mkdtemp");
            exit(1);
        }
    }
    return tmpdir;
}

int dq_test_run_child(void (*fn)(void), int in_fd, int out_fd, char *err, size_t errsize) {
    int ep[2];
    if (pipe(ep) != 0) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        if (in_fd >= 0) dup2(in_fd, 0);
        if (out_fd >= 0) dup2(out_fd, 1);
        dup2(ep[1], 2);
        close(ep[0]);
        fn();
        _exit(0);
    }
    close(ep[1]);
    size_t got = 0;
    ssize_t n;
    while (got < errsize - 1 && (n = read(ep[0], err + got, errsize - 1 - got)) > 0) got += (size_t)n;
    err[got] = 0;
    close(ep[0]);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void remove_tmpdir(void) {
    if (!tmpdir[0] || getpid() != tmpdir_owner || getenv("DISQ_KEEP_TMP")) return;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "harness: could not remove %s\n", tmpdir);
}

int main(int argc, char **argv) {
    dq_init(argv[0]);
    atexit(remove_tmpdir);
    int failed = 0;
    for (int i = 0; i < ntests; i++) {
        if (argc > 1 && strcmp(argv[1], tests[i].name) != 0) continue;
        current = tests[i].name;
        dq_test_failed_now = 0;
        skipped_now = 0;
        tests[i].fn();
        if (dq_test_failed_now)
            failed++;
        else if (!skipped_now)
            printf("ok - %s\n", current);
        fflush(stdout);
    }
    return failed ? 1 : 0;
}
