/* store/criu/criu-proc: the processes of a hand-made dump (a pstree and a
 * core per process): a running leader with three threads and creds, a
 * stopped child, a zombie that exited 7 and one killed by a signal; their
 * ps text, ps.json and status; damaged pstree and cores (-EBADMSG, never a
 * crash). A real dump against crit: tests/integration/test-proc.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "criu-proc.h"
#include "criu_core.pb-c.h"
#include "criu_creds.pb-c.h"
#include "criu_magic.h"
#include "criu_pstree.pb-c.h"
#include "helpers.h"
#include "image-builder.h"
#include "json.h"
#include "pbmsg.h"

/* pids 10 (3 threads), 11 stopped, 12 zombie exit(7), 13 zombie SIGKILL */
#define N_PROCS 4
static const uint32_t pids[N_PROCS] = { 10, 11, 12, 13 };

struct dump {
        struct th_img pstree;
        struct th_img core[N_PROCS];
};

static void make_pstree(struct th_img *i) {
        uint32_t t10[] = { 10, 14, 15 }, t11[] = { 11 }, t_zombie[] = { 0 };
        PstreeEntry e[N_PROCS];
        th_start(i, PSTREE_MAGIC);
        for (int k = 0; k < N_PROCS; k++) {
                pstree_entry__init(&e[k]);
                e[k].pid = pids[k], e[k].ppid = k ? 10 : 0, e[k].pgid = 10, e[k].sid = 1;
                e[k].n_threads = k == 0 ? 3 : 1;
                e[k].threads = k == 0 ? t10 : k == 1 ? t11 : t_zombie;
                th_put_record(i, &e[k].base);
        }
}

static void make_core(struct th_img *i, int k) {
        static const uint32_t states[N_PROCS] = { CRIU_TASK_ALIVE, CRIU_TASK_STOPPED, CRIU_TASK_DEAD, CRIU_TASK_DEAD };
        static const uint32_t exits[N_PROCS] = { 0, 0, 7 << 8, 9 };
        static const char *const comms[N_PROCS] = { "leader", "stopped", "zombie", "killed" };
        CoreEntry c = CORE_ENTRY__INIT;
        TaskCoreEntry tc = TASK_CORE_ENTRY__INIT;
        ThreadCoreEntry th = THREAD_CORE_ENTRY__INIT;
        CredsEntry cr = CREDS_ENTRY__INIT;
        c.mtype = CORE_ENTRY__MARCH__X86_64;
        tc.task_state = states[k], tc.exit_code = exits[k], tc.comm = (char *) comms[k];
        tc.blk_sigset = k == 0 ? 0x10002 : 0;
        c.tc = &tc;
        if (states[k] != CRIU_TASK_DEAD) {   /* a zombie's core has only tc */
                cr.uid = cr.euid = cr.suid = cr.fsuid = 1000 + (uint32_t) k;
                cr.gid = cr.egid = cr.sgid = cr.fsgid = 100;
                th.creds = &cr;
                c.thread_core = &th;
        }
        th_start(i, CORE_MAGIC);
        th_put_record(i, &c.base);
}

static void make_dump(struct dump *d) {
        make_pstree(&d->pstree);
        for (int k = 0; k < N_PROCS; k++)
                make_core(&d->core[k], k);
}

static int open_image(void *userdata, const char *name, struct store_reader **ret) {
        const struct dump *d = userdata;
        if (!strcmp(name, "pstree.img"))
                return th_reader_from_memory(d->pstree.buf, d->pstree.len, NULL, ret);
        for (int k = 0; k < N_PROCS; k++) {
                char core[32];
                snprintf(core, sizeof(core), "core-%u.img", pids[k]);
                if (!strcmp(name, core))
                        return th_reader_from_memory(d->core[k].buf, d->core[k].len, NULL, ret);
        }
        return -ENOENT;
}

static int load(const struct dump *d, struct criu_procs *ret) {
        return criu_procs_load(open_image, (void *) d, ret);
}

static void test_procs(void **state) {
        (void) state;
        static struct dump d;
        make_dump(&d);
        struct criu_procs p;
        assert_int_equal(load(&d, &p), 0);
        assert_int_equal(p.n, N_PROCS);
        const struct criu_proc *c = criu_procs_find(&p, 10);
        assert_non_null(c);
        assert_int_equal(c->n_tids, 3);
        assert_int_equal(c->tids[2], 15);
        assert_null(criu_procs_find(&p, 99));
        /* a zombie's threads [0] are its pid */
        assert_int_equal(criu_procs_find(&p, 12)->tids[0], 12);

        char *t = NULL;
        size_t n = 0;
        assert_int_equal(criu_procs_ps_text(&p, &t, &n), 0);
        assert_string_equal(t, "    PID    PPID    PGID     SID STATE   THREADS COMMAND\n"
                               "     10       0      10       1 running       3 leader\n"
                               "     11      10      10       1 stopped       1  \\_ stopped\n"
                               "     12      10      10       1 zombie        1  \\_ zombie\n"
                               "     13      10      10       1 zombie        1  \\_ killed\n");
        assert_int_equal(n, strlen(t));
        free(t);

        json_t *j = NULL;
        assert_int_equal(criu_procs_ps_json(&p, &j), 0);
        t = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        assert_string_equal(t, "[{\"comm\":\"leader\",\"pgid\":10,\"pid\":10,\"ppid\":0,\"sid\":1,\"state\":\"running\","
                               "\"threads\":[10,14,15]},"
                               "{\"comm\":\"stopped\",\"pgid\":10,\"pid\":11,\"ppid\":10,\"sid\":1,\"state\":\"stopped\","
                               "\"threads\":[11]},"
                               "{\"comm\":\"zombie\",\"exit_code\":7,\"pgid\":10,\"pid\":12,\"ppid\":10,\"sid\":1,"
                               "\"state\":\"zombie\",\"threads\":[12]},"
                               "{\"comm\":\"killed\",\"exit_signal\":9,\"pgid\":10,\"pid\":13,\"ppid\":10,\"sid\":1,"
                               "\"state\":\"zombie\",\"threads\":[13]}]");
        free(t);
        json_decref(j);

        assert_int_equal(criu_proc_status(criu_procs_find(&p, 10), &t, &n), 0);
        assert_string_equal(t, "Name:\tleader\nState:\tR (running)\nTgid:\t10\nPid:\t10\nPPid:\t0\n"
                               "Uid:\t1000\t1000\t1000\t1000\nGid:\t100\t100\t100\t100\n"
                               "Threads:\t3\nSigBlk:\t0000000000010002\n");
        free(t);
        assert_int_equal(criu_proc_status(criu_procs_find(&p, 11), &t, &n), 0);
        assert_non_null(strstr(t, "State:\tT (stopped)\n"));
        assert_non_null(strstr(t, "Uid:\t1001\t"));
        free(t);
        assert_int_equal(criu_proc_status(criu_procs_find(&p, 12), &t, &n), 0);
        assert_non_null(strstr(t, "State:\tZ (zombie)\n"));
        assert_null(strstr(t, "Uid:"));   /* a zombie's core has no creds */
        free(t);
        criu_procs_clear(&p);
        assert_int_equal(criu_proc_state_char(0), '?');
        assert_string_equal(criu_proc_state_name(42), "unknown");
}

/* Truncated or changed pstree and cores: 0 or -EBADMSG, never a crash. */
static void test_damaged(void **state) {
        (void) state;
        static struct dump good, d;
        struct criu_procs p;
        make_dump(&good);
        for (size_t n = 0; n < good.pstree.len; n++) {
                d = good;
                d.pstree.len = n;
                int k = load(&d, &p);
                if (k == 0)
                        criu_procs_clear(&p);
                assert_true(k == 0 || k == -EBADMSG);
        }
        for (int c = 0; c < N_PROCS; c++)
                for (size_t n = 0; n < good.core[c].len; n++) {
                        d = good;
                        d.core[c].len = n;
                        assert_int_equal(load(&d, &p), -EBADMSG);
                }
        for (size_t at = 0; at < good.pstree.len; at++)
                for (unsigned v = 0; v < 256; v += 51) {
                        d = good;
                        d.pstree.buf[at] = (uint8_t) v;
                        int k = load(&d, &p);
                        if (k == 0)
                                criu_procs_clear(&p);
                        assert_true(k == 0 || k == -EBADMSG || k == -ENOENT);
                }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_procs),
                cmocka_unit_test(test_damaged),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
