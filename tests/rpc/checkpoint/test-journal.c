/* The journal of running checkpoints (records, locks, owners) and the room
 * verdict: the pure parts, without containerd. Recovery against a real
 * containerd is in tests/integration/test-crash.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checkpoint-journal.h"
#include "checkpoint-space.h"

static char root[] = "/tmp/ckptfs-journal.XXXXXX";

static int setup(void **state) {
        (void) state;
        return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state) {
        (void) state;
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
        return system(cmd) == 0 ? 0 : -1;
}

static void test_dir_per_socket(void **state) {
        (void) state;
        char *a = NULL, *b = NULL, *a2 = NULL;
        assert_int_equal(ckpt_journal_dir(root, "/run/containerd/containerd.sock", &a), 0);
        assert_int_equal(ckpt_journal_dir(root, "/tmp/other.sock", &b), 0);
        assert_int_equal(ckpt_journal_dir(root, "/run/containerd/containerd.sock", &a2), 0);
        assert_string_not_equal(a, b);
        assert_string_equal(a, a2);
        struct stat st;
        assert_int_equal(stat(a, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 0777, 0700);
        free(a);
        free(b);
        free(a2);
}

static void test_records(void **state) {
        (void) state;
        char *dir = NULL;
        assert_int_equal(ckpt_journal_dir(root, "/records.sock", &dir), 0);
        ckpt_job j = { .owner = getpid(), .owner_start = ckpt_process_start(getpid()), .ns = "default", .id = "web" };
        assert_int_equal(ckpt_journal_write(dir, &j), 0);
        /* updated in place: one record per container */
        j.lease = "ckptfs-lease-1";
        j.dump_dir = "/dev/shm/ckptfs-dump-web-abc";
        j.paused_by_us = true;
        assert_int_equal(ckpt_journal_write(dir, &j), 0);
        ckpt_job other = { .owner = 1, .owner_start = 7, .ns = "k8s.io", .id = "db" };
        assert_int_equal(ckpt_journal_write(dir, &other), 0);

        ckpt_job *v = NULL;
        size_t n = 0;
        assert_int_equal(ckpt_journal_list(dir, &v, &n), 0);
        assert_int_equal(n, 2);
        ckpt_job *web = strcmp(v[0].id, "web") == 0 ? &v[0] : &v[1];
        assert_string_equal(web->ns, "default");
        assert_string_equal(web->lease, "ckptfs-lease-1");
        assert_string_equal(web->dump_dir, "/dev/shm/ckptfs-dump-web-abc");
        assert_true(web->paused_by_us);
        assert_false(web->resumed);
        assert_int_equal(web->owner, getpid());
        assert_true(web->owner_start == j.owner_start);
        for (size_t i = 0; i < n; i++)
                ckpt_job_clear(&v[i]);
        free(v);

        assert_int_equal(ckpt_journal_remove(dir, "default", "web"), 0);
        assert_int_equal(ckpt_journal_remove(dir, "default", "web"), 0);   /* gone: fine */
        assert_int_equal(ckpt_journal_list(dir, &v, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(v[0].id, "db");
        ckpt_job_clear(&v[0]);
        free(v);

        /* names that could leave the directory are refused */
        ckpt_job bad = { .owner = 1, .ns = "..", .id = "x" };
        assert_int_equal(ckpt_journal_write(dir, &bad), -EINVAL);
        bad.ns = "default";
        bad.id = "a/b";
        assert_int_equal(ckpt_journal_write(dir, &bad), -EINVAL);

        /* a damaged record is skipped, not fatal */
        char path[512];
        snprintf(path, sizeof(path), "%s/default@junk.json", dir);
        FILE *f = fopen(path, "w");
        fputs("{\"owner\": \"x\"", f);
        fclose(f);
        assert_int_equal(ckpt_journal_list(dir, &v, &n), 0);
        assert_int_equal(n, 1);
        ckpt_job_clear(&v[0]);
        free(v);
        free(dir);
}

static void test_lock(void **state) {
        (void) state;
        char *dir = NULL;
        assert_int_equal(ckpt_journal_dir(root, "/lock.sock", &dir), 0);
        int fd = -1, fd2 = -1;
        assert_int_equal(ckpt_journal_lock(dir, "default", "web", &fd), 0);
        /* another process (a second mount) is refused */
        pid_t pid = fork();
        if (pid == 0) {
                int f = -1;
                _exit(ckpt_journal_lock(dir, "default", "web", &f) == -EBUSY ? 0 : 1);
        }
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        /* another container is free */
        assert_int_equal(ckpt_journal_lock(dir, "default", "db", &fd2), 0);
        close(fd2);
        /* released with the fd (and with the process) */
        close(fd);
        assert_int_equal(ckpt_journal_lock(dir, "default", "web", &fd), 0);
        close(fd);
        free(dir);
}

static void test_process_start(void **state) {
        (void) state;
        assert_true(ckpt_process_start(getpid()) > 0);
        assert_true(ckpt_process_start(getpid()) == ckpt_process_start(getpid()));
        pid_t pid = fork();
        if (pid == 0)
                _exit(0);
        waitpid(pid, NULL, 0);
        assert_true(ckpt_process_start(pid) == 0);   /* reaped: gone */
}

static void test_space_verdict(void **state) {
        (void) state;
        char msg[512] = "";
        const uint64_t MiB = 1 << 20;
        ckpt_space s = { .dump_root = "/dev/shm", .dump_free = 100 * MiB };
        assert_int_equal(ckpt_space_verdict(&s, 0, msg, sizeof(msg)), 0);          /* unknown: go */
        assert_int_equal(ckpt_space_verdict(&s, 50 * MiB, msg, sizeof(msg)), 0);
        assert_int_equal(ckpt_space_verdict(&s, 90 * MiB, msg, sizeof(msg)), -ENOSPC);
        assert_non_null(strstr(msg, "/dev/shm"));
        assert_non_null(strstr(msg, "106 MiB"));   /* need + margin */
        assert_non_null(strstr(msg, "100 MiB are free"));
        s.content_root = "/var/lib/containerd/io.containerd.content.v1.content";
        s.content_free = 70 * MiB;
        assert_int_equal(ckpt_space_verdict(&s, 50 * MiB, msg, sizeof(msg)), 0);
        s.same_fs = true;   /* dump and store add up */
        s.dump_free = s.content_free = 110 * MiB;
        assert_int_equal(ckpt_space_verdict(&s, 50 * MiB, msg, sizeof(msg)), -ENOSPC);
        assert_non_null(strstr(msg, "content store"));
        assert_non_null(strstr(msg, "116 MiB"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_dir_per_socket),
                cmocka_unit_test(test_records),
                cmocka_unit_test(test_lock),
                cmocka_unit_test(test_process_start),
                cmocka_unit_test(test_space_verdict),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
