/*
 * What one request/response round trip between two processes on the same
 * CPU costs, by transport: the floor under daemon mode's per-request cost.
 *
 *   gcc -O2 bench/ipc_roundtrip.c -o /tmp/ipc_roundtrip
 *   taskset -c 1 /tmp/ipc_roundtrip
 *
 * A client sends 1200 bytes (about a /hello request's HELLO + ENVIRON) and
 * waits for 200 bytes back; the server answers, blocking in read()/recv(),
 * or, as a daemon thread does, in epoll_wait() on a one-shot registration
 * re-armed after each answer. bench/README.md quotes the results.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { PIPES, STREAM, STREAM_EPOLL, SEQPACKET };
static const int N = 200000, REQ = 1200, RESP = 200;
static char buf[4096];

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void run(const char *name, int how) {
    int up[2], down[2];
    if (how == PIPES) {
        if (pipe(up) || pipe(down)) { perror("pipe"); return; }
    } else {
        if (socketpair(AF_UNIX, how == SEQPACKET ? SOCK_SEQPACKET : SOCK_STREAM, 0, up)) {
            perror("socketpair"); return;
        }
        down[0] = up[0]; down[1] = up[1];
    }
    /* pipes: requests go up[1] -> up[0], answers down[1] -> down[0];
       a socket pair: the client uses end 0, the server end 1. */
    int srv_in = how == PIPES ? up[0] : up[1], srv_out = how == PIPES ? down[1] : up[1];
    int cli_out = how == PIPES ? up[1] : up[0], cli_in = how == PIPES ? down[0] : up[0];
    pid_t pid = fork();
    if (pid == 0) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT, .data.fd = srv_in}, got;
        int ep = -1;
        if (how == STREAM_EPOLL) {
            ep = epoll_create1(0);
            epoll_ctl(ep, EPOLL_CTL_ADD, srv_in, &ev);
        }
        for (int i = 0; i < N; i++) {
            if (ep >= 0 && epoll_wait(ep, &got, 1, -1) != 1) _exit(1);
            if (read(srv_in, buf, REQ) <= 0) _exit(1);
            if (write(srv_out, buf, RESP) != RESP) _exit(1);
            if (ep >= 0) epoll_ctl(ep, EPOLL_CTL_MOD, srv_in, &ev);
        }
        _exit(0);
    }
    double t0 = now_us();
    for (int i = 0; i < N; i++) {
        if (write(cli_out, buf, REQ) != REQ || read(cli_in, buf, RESP) <= 0) {
            perror(name); break;
        }
    }
    double t1 = now_us();
    waitpid(pid, NULL, 0);
    printf("%-34s %6.2f us per round trip\n", name, (t1 - t0) / N);
}

int main(void) {
    run("pipes", PIPES);
    run("UNIX stream socket", STREAM);
    run("UNIX stream socket, epoll one-shot", STREAM_EPOLL);
    run("UNIX seqpacket socket", SEQPACKET);
    return 0;
}
