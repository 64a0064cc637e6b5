/* Fault tests: a dedicated containerd that run-live.sh started for us, which
 * these tests freeze (SIGSTOP), kill (SIGKILL) and restart.
 *
 * Environment:
 *   CKPTFS_TEST_FAULT_DIR      its testenv dir (containerd.pid, config.toml)
 *   CKPTFS_TEST_FAULT_ADDR     its socket
 *   CKPTFS_TEST_FAULT_NS       a namespace there
 *   CKPTFS_TEST_FAULT_RESTART  a shell command that starts it again and
 *                              returns once it answers
 * The per-test teardown always leaves the daemon running (SIGCONT, or a
 * restart), so one failure does not cascade. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "containerd.h"
#include "live-tests.h"
#include "live-util.h"

#define MiB (1024 * 1024)

static struct {
        const char *dir, *addr, *ns, *restart;
        char pidfile[PATH_MAX], config[PATH_MAX];
        rpc_client *c;
        uint64_t seed;
} F;

/* The daemon's pid, checked to be that containerd; 0 when it is not running. */
static pid_t fault_pid(void) {
        pid_t pid;
        if (read_pidfile(F.pidfile, &pid) < 0 || !pid_alive(pid) || !pid_cmdline_has(pid, F.config))
                return 0;
        return pid;
}

/* Starts the daemon again; returns how long that took (ms). */
static int64_t restart_or_fail(void) {
        int64_t t0 = now_ms();
        _cleanup_free_ char *q = shell_quote(F.restart);
        _cleanup_free_ char *out = NULL;
        assert_non_null(q);
        int r = sh_capture(&out, "timeout -k 5 %d sh -c %s 2>&1", LIVE_CMD_TIMEOUT_S, q);
        if (r != 0)
                fail_msg("restarting containerd failed (%d): %s", r, out ? out : "");
        assert_true(fault_pid() > 0);
        return now_ms() - t0;
}

static int fault_setup(void **state) {
        (void) state;
        F.dir = getenv("CKPTFS_TEST_FAULT_DIR");
        F.addr = getenv("CKPTFS_TEST_FAULT_ADDR");
        F.ns = getenv("CKPTFS_TEST_FAULT_NS");
        F.restart = getenv("CKPTFS_TEST_FAULT_RESTART");
        if (!F.dir || !F.addr || !F.ns || !F.restart) {
                fprintf(stderr, "CKPTFS_TEST_FAULT_{DIR,ADDR,NS,RESTART} must be set (tests/rpc/client/run-live.sh)\n");
                return -1;
        }
        snprintf(F.pidfile, sizeof(F.pidfile), "%s/containerd.pid", F.dir);
        snprintf(F.config, sizeof(F.config), "%s/config.toml", F.dir);
        F.seed = (uint64_t) now_ms() * 0x9e3779b97f4a7c15ULL ^ (uint64_t) getpid();
        if (fault_pid() == 0) {
                fprintf(stderr, "no containerd running from %s\n", F.config);
                return -1;
        }
        if (rpc_client_new(F.addr, 10000, &F.c) < 0)
                return -1;
        return 0;
}

static int fault_teardown(void **state) {
        (void) state;
        rpc_client_free(F.c);
        F.c = NULL;
        return 0;
}

/* After each test: the daemon runs again, whatever happened. */
static int fault_recover(void **state) {
        live_disarm(state);
        pid_t pid;
        if (read_pidfile(F.pidfile, &pid) == 0 && pid_cmdline_has(pid, F.config) && pid_alive(pid)) {
                kill(pid, SIGCONT);
                return 0;
        }
        _cleanup_free_ char *q = shell_quote(F.restart);
        return q && sh_capture(NULL, "timeout -k 5 %d sh -c %s", LIVE_CMD_TIMEOUT_S, q) == 0 ? 0 : -1;
}

static int version_call(rpc_client *c, int64_t timeout_ms, rpc_error *err, int64_t *ret_ms) {
        rpc_opts o = { .ns = F.ns, .timeout_ms = timeout_ms };
        rpc_version *v = NULL;
        int64_t t0 = now_ms();
        int r = rpc_version_get(c, &o, &v, err);
        *ret_ms = now_ms() - t0;
        pb_msg_free(v);
        return r;
}

static void kill_daemon(int sig) {
        pid_t pid = fault_pid();
        assert_true(pid > 0);
        assert_int_equal(kill(pid, sig), 0);
        if (sig == SIGKILL)
                assert_int_equal(wait_pid_gone(pid, 10000), 0);
        else if (sig == SIGSTOP) {
                int64_t end = now_ms() + 5000;
                while (pid_state(pid) != 'T' && now_ms() < end)
                        usleep(10 * 1000);
                assert_int_equal(pid_state(pid), 'T');
        }
}

static int ignore_cb(const uint8_t *data, size_t len, uint64_t offset, void *userdata) {
        (void) data, (void) len, (void) offset, (void) userdata;
        return 0;
}

static void test_fault_sigstop(void **state) {
        (void) state;
        rpc_error err = { 0 };
        int64_t dt;
        assert_int_equal(version_call(F.c, 5000, &err, &dt), 0);   /* connected */

        kill_daemon(SIGSTOP);

        /* A connected client: the request goes out, no answer comes. */
        memset(&err, 0, sizeof(err));
        int r = version_call(F.c, 500, &err, &dt);
        print_message("  frozen daemon, connected client: %d after %lld ms\n", r, (long long) dt);
        assert_int_equal(r, -ETIMEDOUT);
        assert_int_equal(err.status, GRPC_STATUS_DEADLINE_EXCEEDED);
        assert_true(err.message[0] != '\0');
        assert_true(dt >= 400 && dt < 3000);

        /* A new client: the connection never completes its handshake. */
        {
                _cleanup_(client_freep) rpc_client *fresh = NULL;
                assert_int_equal(rpc_client_new(F.addr, 10000, &fresh), 0);
                memset(&err, 0, sizeof(err));
                r = version_call(fresh, 500, &err, &dt);
                print_message("  frozen daemon, new client: %d after %lld ms\n", r, (long long) dt);
                assert_int_equal(r, -ETIMEDOUT);
                assert_true(dt < 3000);
        }

        /* A stream too. */
        char digest[72];
        sha256_digest((const uint8_t *) "x", 1, digest);
        rpc_opts o = { .ns = F.ns, .timeout_ms = 500 };
        memset(&err, 0, sizeof(err));
        int64_t t0 = now_ms();
        int64_t n = rpc_content_read(F.c, &o, digest, 0, 0, ignore_cb, NULL, &err);
        dt = now_ms() - t0;
        assert_int_equal(n, -ETIMEDOUT);
        assert_true(dt < 3000);

        /* Thawed: the same client answers again. */
        kill(fault_pid(), SIGCONT);
        memset(&err, 0, sizeof(err));
        r = version_call(F.c, 5000, &err, &dt);
        if (r < 0)
                fail_msg("after SIGCONT: %d %s", r, err.message);
        assert_true(dt < 2000);
}

typedef struct {
        pid_t pid;
        int64_t after_ms;
} thawer;

static void *thawer_main(void *p) {
        thawer *t = p;
        usleep((useconds_t) t->after_ms * 1000);
        kill(t->pid, SIGCONT);
        return NULL;
}

/* Kills and restarts the daemon so that no connection to it is left: the
 * next call has to connect afresh. gRPC shares connections between channels
 * to the same address, so a new client alone would not do. */
static void drop_connections(void) {
        kill_daemon(SIGKILL);
        restart_or_fail();
}

/* Connecting while the daemon is briefly stalled (a GC pause, a loaded
 * machine): the call waits, within its deadline, instead of failing. */
static void test_fault_stall_while_connecting(void **state) {
        (void) state;
        drop_connections();
        rpc_error err = { 0 };
        int64_t dt;
        for (int64_t stall = 150; stall <= 600; stall *= 4) {
                kill_daemon(SIGSTOP);
                thawer th = { .pid = fault_pid(), .after_ms = stall };
                pthread_t t;
                assert_int_equal(pthread_create(&t, NULL, thawer_main, &th), 0);
                memset(&err, 0, sizeof(err));
                int r = version_call(F.c, 5000, &err, &dt);
                pthread_join(t, NULL);
                print_message("  daemon stalled %lld ms while connecting: %d after %lld ms%s%s\n", (long long) stall,
                              r, (long long) dt, r < 0 ? ": " : "", r < 0 ? err.message : "");
                assert_int_equal(r, 0);
                assert_true(dt >= stall - 50 && dt < stall + 2000);
                if (stall < 600)
                        drop_connections();
        }
}

/* Subscribing while no connection can complete: bounded by the client's
 * default timeout, although an event stream has no deadline. */
static void test_fault_events_open_frozen(void **state) {
        (void) state;
        drop_connections();
        _cleanup_(client_freep) rpc_client *c = NULL;
        assert_int_equal(rpc_client_new(F.addr, 1500, &c), 0);
        kill_daemon(SIGSTOP);
        const char *filters[] = { "topic==\"/ckptfs/never\"" };
        rpc_opts o = { .ns = F.ns };
        rpc_error err = { 0 };
        rpc_call *sentinel = (rpc_call *) (uintptr_t) 0x1, *call = sentinel;
        int64_t t0 = now_ms();
        int r = rpc_events_open(c, &o, filters, 1, &call, &err);
        int64_t dt = now_ms() - t0;
        kill(fault_pid(), SIGCONT);
        print_message("  Events.Subscribe to a frozen daemon: %d after %lld ms: %s\n", r, (long long) dt, err.message);
        assert_int_equal(r, -ETIMEDOUT);
        assert_ptr_equal(call, sentinel);
        assert_non_null(strstr(err.message, F.addr));
        assert_true(dt >= 1400 && dt < 4000);

        /* Thawed: subscribing works on the same client. */
        memset(&err, 0, sizeof(err));
        r = rpc_events_open(c, &o, filters, 1, &call, &err);
        if (r < 0)
                fail_msg("Events.Subscribe after SIGCONT: %d %s", r, err.message);
        rpc_call_cancel(call);
        rpc_envelope *env = NULL;
        assert_int_equal(rpc_events_next(call, &env, &err), -ECANCELED);
        rpc_call_free(call);
}

typedef struct {
        rpc_call *call;
        int r;
        int64_t ended;
} events_reader;

static void *events_reader_main(void *p) {
        events_reader *e = p;
        rpc_error err = { 0 };
        rpc_envelope *env = NULL;
        e->r = rpc_events_next(e->call, &env, &err);
        e->ended = now_ms();
        pb_msg_free(env);
        return NULL;
}

static void test_fault_kill_restart(void **state) {
        (void) state;
        rpc_error err = { 0 };
        int64_t dt;
        assert_int_equal(version_call(F.c, 5000, &err, &dt), 0);

        /* An event stream open when the daemon dies ends with an error. */
        const char *filters[] = { "topic==\"/ckptfs/never\"" };
        rpc_opts eo = { .ns = F.ns };
        rpc_call *call = NULL;
        assert_int_equal(rpc_events_open(F.c, &eo, filters, 1, &call, &err), 0);
        events_reader er = { .call = call };
        pthread_t et;
        assert_int_equal(pthread_create(&et, NULL, events_reader_main, &er), 0);
        usleep(200 * 1000);

        /* No asserts until the reader thread is joined. */
        pid_t pid = fault_pid();
        int64_t killed = now_ms();
        bool gone = pid > 0 && kill(pid, SIGKILL) == 0 && wait_pid_gone(pid, 10000) == 0;

        /* Bounded: if the stream did not notice, cancel it (and fail). */
        int64_t end = now_ms() + 5000;
        while (!er.ended && now_ms() < end)
                usleep(10 * 1000);
        bool hung = !er.ended;
        if (hung)
                rpc_call_cancel(call);
        pthread_join(et, NULL);
        rpc_call_free(call);
        print_message("  event stream ended %lld ms after the kill: %d\n", (long long) (er.ended - killed), er.r);
        assert_true(gone);
        assert_false(hung);
        assert_int_equal(er.r, -ENOTCONN);

        /* Calls fail fast, naming the socket, however often they are made. */
        int64_t worst = 0;
        for (int i = 0; i < 8; i++) {
                memset(&err, 0, sizeof(err));
                int r = version_call(F.c, 5000, &err, &dt);
                assert_int_equal(r, -ENOTCONN);
                assert_int_equal(err.status, GRPC_STATUS_UNAVAILABLE);
                assert_non_null(strstr(err.message, F.addr));
                if (dt > worst)
                        worst = dt;
                usleep(200 * 1000);
        }
        print_message("  dead daemon: -ENOTCONN, slowest of 8 calls %lld ms (\"%s\")\n", (long long) worst,
                      err.message);
        assert_true(worst < 1000);

        /* Back: the same client recovers by itself. */
        int64_t took = restart_or_fail();
        int64_t up = now_ms();
        int attempts = 0, r;
        char last_error[sizeof(err.message)] = "none";
        do {
                attempts++;
                memset(&err, 0, sizeof(err));
                r = version_call(F.c, 1000, &err, &dt);
                if (r == 0)
                        break;
                memcpy(last_error, err.message, sizeof(last_error));
                usleep(20 * 1000);
        } while (now_ms() - up < 10000);
        int64_t reconnect = now_ms() - up;
        print_message("  restart took %lld ms; the same client worked again %lld ms after the daemon answered "
                      "ctr (%d attempts; last error before: %s)\n",
                      (long long) took, (long long) reconnect, attempts, last_error);
        if (r < 0)
                fail_msg("the client did not recover within 10 s: %d %s", r, err.message);
        assert_true(reconnect < 2000);
}

typedef struct {
        uint8_t *buf;
        size_t cap;
        uint64_t got;
        pid_t victim;
        bool killed;
} killing_sink;

static int killing_cb(const uint8_t *data, size_t len, uint64_t offset, void *userdata) {
        killing_sink *s = userdata;
        if (offset != s->got || s->got + len > s->cap)
                return -EPROTO;
        memcpy(s->buf + s->got, data, len);
        s->got += len;
        if (!s->killed) {
                s->killed = true;
                kill(s->victim, SIGKILL);
                wait_pid_gone(s->victim, 10000);
        }
        return 0;
}

static void test_fault_kill_during_read(void **state) {
        (void) state;
        /* Far more than any socket buffer and HTTP/2 window can hold. */
        size_t len = 64 * MiB;
        _cleanup_free_ uint8_t *data = malloc(len);
        _cleanup_free_ uint8_t *back = malloc(len);
        assert_non_null(data);
        assert_non_null(back);
        fill_random(data, len, &F.seed);
        char digest[72];
        sha256_digest(data, len, digest);
        rpc_opts o = { .ns = F.ns, .timeout_ms = 120000 };
        rpc_error err = { 0 };
        const char *labels[] = { "containerd.io/gc.root", "rpc-live" };
        int r = live_write_buffer(F.c, &o, "rpc-live-big", data, len, labels, 1, NULL, &err);
        if (r < 0)
                fail_msg("writing the big blob: %d %s", r, err.message);

        /* Both ways of asking: to the end (size 0) and an exact size. */
        for (int mode = 0; mode < 2; mode++) {
                killing_sink s = { .buf = back, .cap = len, .victim = fault_pid() };
                assert_true(s.victim > 0);
                memset(&err, 0, sizeof(err));
                int64_t n = rpc_content_read(F.c, &o, digest, 0, mode ? len : 0, killing_cb, &s, &err);
                print_message("  daemon killed during Content.Read (size %s): %lld after %llu of %zu bytes: %s\n",
                              mode ? "exact" : "0", (long long) n, (unsigned long long) s.got, len, err.message);
                assert_true(s.killed);
                assert_true(n < 0);
                assert_true(err.message[0] != '\0');
                assert_true(s.got < len);
                assert_memory_equal(back, data, s.got);

                restart_or_fail();
                /* The committed blob survived; the same client reads it whole. */
                int64_t end = now_ms() + 10000;
                rpc_blob_info *info = NULL;
                do {
                        r = rpc_content_info(F.c, &o, digest, &info, &err);
                        if (r == 0)
                                break;
                        usleep(50 * 1000);
                } while (now_ms() < end);
                if (r < 0)
                        fail_msg("Content.Info after restart: %d %s", r, err.message);
                assert_int_equal(info->size, len);
                pb_msg_free(info);
        }
        killing_sink s = { .buf = back, .cap = len, .killed = true };
        int64_t n = rpc_content_read(F.c, &o, digest, 0, 0, killing_cb, &s, &err);
        assert_int_equal(n, len);
        assert_memory_equal(back, data, len);
        ctr_capture(F.addr, F.ns, NULL, "content rm %s >/dev/null 2>&1", digest);
}

#define TF(f) cmocka_unit_test_setup_teardown(f, live_arm, fault_recover)

int live_fault_run(void) {
        const struct CMUnitTest tests[] = {
                TF(test_fault_sigstop),
                TF(test_fault_stall_while_connecting),
                TF(test_fault_events_open_frozen),
                TF(test_fault_kill_restart),
                TF(test_fault_kill_during_read),
        };
        return cmocka_run_group_tests_name("rpc-live-faults", tests, fault_setup, fault_teardown);
}
