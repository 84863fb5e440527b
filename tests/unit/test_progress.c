/* The progress line of lib/core/progress.c: its framing, and the bytes it
 * writes on a pseudo-terminal and on a file. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "harness.h"
#include "core/progress.h"

TEST(fit_cuts_the_line_short_of_the_last_column) {
    char out[64];
    CHECK(dq_progress_fit("abcdef", 80, out, sizeof out) == 10);
    CHECK(strcmp(out, "\rabcdef\033[K") == 0);
    CHECK(dq_progress_fit("abcdef", 4, out, sizeof out) == 7);
    CHECK(strcmp(out, "\rabc\033[K") == 0);
    CHECK(dq_progress_fit("abcdef", 1, out, sizeof out) == 4 && strcmp(out, "\r\033[K") == 0);
    CHECK(dq_progress_fit("abcdef", 0, out, sizeof out) == 4 && strcmp(out, "\r\033[K") == 0);
    /* a small buffer cuts the line, never the frame */
    CHECK(dq_progress_fit("abcdef", 80, out, 8) == 7 && strcmp(out, "\rabc\033[K") == 0);
    CHECK(dq_progress_fit("abcdef", 80, out, 3) == 0 && out[0] == 0);
}

TEST(eta_in_minutes_or_hours) {
    char b[32];
    dq_progress_eta(247, b, sizeof b);
    CHECK(strcmp(b, "4m07s") == 0);
    dq_progress_eta(8100, b, sizeof b);
    CHECK(strcmp(b, "2h15m") == 0);
    dq_progress_eta(-1, b, sizeof b);
    CHECK(strcmp(b, "?") == 0);
    dq_progress_eta(NAN, b, sizeof b);
    CHECK(strcmp(b, "?") == 0);
}

TEST(width_from_columns_else_80) {
    int fd[2];
    CHECK(pipe(fd) == 0); /* no window size */
    setenv("COLUMNS", "57", 1);
    int got57 = dq_progress_width(fd[1]);
    setenv("COLUMNS", "wide", 1);
    int junk = dq_progress_width(fd[1]);
    unsetenv("COLUMNS");
    int none = dq_progress_width(fd[1]);
    close(fd[0]);
    close(fd[1]);
    CHECK_MSG(got57 == 57 && junk == 80 && none == 80, "%d %d %d", got57, junk, none);
}

TEST(rate_limit_with_the_final_update_always_due) {
    FILE *f = tmpfile();
    CHECK(f);
    dq_progress p;
    dq_progress_start(&p, f, 2.0, 100.0);
    int due[5] = {dq_progress_due(&p, 101.0, 0), dq_progress_due(&p, 102.5, 0),
                  dq_progress_due(&p, 103.0, 0), dq_progress_due(&p, 103.1, 1),
                  dq_progress_due(&p, 104.0, 0)};
    fclose(f);
    CHECK(!p.tty);
    CHECK_MSG(!due[0] && due[1] && !due[2] && due[3] && !due[4], "%d %d %d %d %d", due[0], due[1],
              due[2], due[3], due[4]);
}

/* A file gets exactly the lines fprintf would write, and no framing. */
TEST(off_a_terminal_one_line_per_update) {
    FILE *f = tmpfile();
    CHECK(f);
    dq_progress p;
    dq_progress_start(&p, f, 1.0, 0.0);
    dq_progress_show(&p, "step %d/%d", 1, 2);
    dq_progress_show(&p, "step %d/%d", 2, 2);
    dq_progress_break();
    dq_progress_end(&p);
    char buf[64] = {0};
    rewind(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    CHECK_MSG(n == 18 && strcmp(buf, "step 1/2\nstep 2/2\n") == 0, "'%s'", buf);
}

/* A pseudo-terminal 12 columns wide: slave (the reporter's) and master (the
 * screen's) ends, output taken byte for byte (no "\n" to "\r\n"). */
static int open_pty(int *master, int *slave) {
    *master = posix_openpt(O_RDWR | O_NOCTTY);
    if (*master < 0 || grantpt(*master) || unlockpt(*master)) return -1;
    *slave = open(ptsname(*master), O_RDWR | O_NOCTTY);
    if (*slave < 0) return -1;
    struct winsize ws = {.ws_row = 24, .ws_col = 12};
    struct termios t;
    if (ioctl(*slave, TIOCSWINSZ, &ws) || tcgetattr(*slave, &t)) return -1;
    t.c_oflag &= ~(tcflag_t)OPOST;
    return tcsetattr(*slave, TCSANOW, &t);
}

static size_t drain(int master, char *buf, size_t n) {
    size_t got = 0;
    fcntl(master, F_SETFL, O_NONBLOCK);
    ssize_t k;
    while (got < n - 1 && (k = read(master, buf + got, n - 1 - got)) > 0) got += (size_t)k;
    buf[got] = 0;
    return got;
}

/* What draw writes with a reporter on a pseudo-terminal: 0, or -1 when
 * there is none to be had. */
static int pty_output(void (*draw)(dq_progress *), char *buf, size_t n) {
    int master, slave;
    if (open_pty(&master, &slave)) return -1;
    setenv("TERM", "xterm", 1);
    FILE *f = fdopen(slave, "w");
    if (!f) return -1;
    dq_progress p;
    dq_progress_start(&p, f, 1.0, 0.0);
    draw(&p);
    fflush(f);
    drain(master, buf, n);
    fclose(f);
    close(master);
    return 0;
}

static void draw_warn_end(dq_progress *p) {
    dq_progress_show(p, "step %d of a long run", 1);
    dq_progress_break(); /* a warning would follow on its own line */
    fputs("warn\n", p->f);
    dq_progress_show(p, "step %d of a long run", 2);
    dq_progress_end(p);
    dq_progress_end(p); /* a second end adds nothing */
    dq_progress_break();
}

TEST(on_a_terminal_redrawn_in_place_and_ended_once) {
    char buf[256];
    if (pty_output(draw_warn_end, buf, sizeof buf)) SKIP("no pseudo-terminal here");
    CHECK_MSG(strcmp(buf, "\rstep 1 of a\033[K\nwarn\n\rstep 2 of a\033[K\n") == 0, "'%s'", buf);
}

static void draw_clear(dq_progress *p) {
    CHECK(p->tty && p->interval < 1.0);
    dq_progress_show(p, "caching");
    dq_progress_clear(p);
    dq_progress_break();
}

TEST(a_cleared_line_leaves_nothing) {
    char buf[64];
    if (pty_output(draw_clear, buf, sizeof buf)) SKIP("no pseudo-terminal here");
    CHECK_MSG(strcmp(buf, "\rcaching\033[K\r\033[K") == 0, "'%s'", buf);
}

TEST(term_dumb_is_no_terminal) {
    int master, slave;
    if (open_pty(&master, &slave)) SKIP("no pseudo-terminal here");
    setenv("TERM", "dumb", 1);
    int dumb = dq_progress_is_tty(slave);
    unsetenv("TERM");
    int unset = dq_progress_is_tty(slave);
    setenv("TERM", "xterm", 1);
    int xterm = dq_progress_is_tty(slave);
    close(slave);
    close(master);
    CHECK_MSG(!dumb && unset && xterm, "%d %d %d", dumb, unset, xterm);
}
