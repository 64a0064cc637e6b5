/* store/criu/criu-inspect: inspect.json's statistics and process_tree from
 * hand-made images (pstree, cores, and for the live process mm, pagemap
 * and a pages image holding its argv and environment); the task state
 * names checkpointctl prints. A real dump: tests/integration/test-proc.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "criu-inspect.h"
#include "criu_core.pb-c.h"
#include "criu_magic.h"
#include "criu_mm.pb-c.h"
#include "criu_pagemap.pb-c.h"
#include "criu_pstree.pb-c.h"
#include "helpers.h"
#include "image-builder.h"
#include "json.h"
#include "pbmsg.h"

#define VADDR 0x7ffd0000ULL
static const char args[] = "sh\0-c\0sleep 1\0";
static const char env[] = "A=1\0B=two=2\0=nameless\0noequals\0A=again\0";

/* pid 1 alive with memory, pid 2 its zombie child */
struct dump {
        struct th_img pstree, core1, core2, mm1, pagemap1, pages1;
};

static void make_core(struct th_img *i, uint32_t state, const char *comm) {
        CoreEntry c = CORE_ENTRY__INIT;
        TaskCoreEntry tc = TASK_CORE_ENTRY__INIT;
        c.mtype = CORE_ENTRY__MARCH__X86_64;
        tc.task_state = state, tc.comm = (char *) comm, tc.exit_code = state == CRIU_TASK_DEAD ? 1 << 8 : 0;
        c.tc = &tc;
        th_start(i, CORE_MAGIC);
        th_put_record(i, &c.base);
}

static void make_dump(struct dump *d) {
        PstreeEntry a = PSTREE_ENTRY__INIT, b = PSTREE_ENTRY__INIT;
        uint32_t t1[] = { 1 }, t2[] = { 0 };
        a.pid = a.pgid = a.sid = 1, a.n_threads = 1, a.threads = t1;
        b.pid = 2, b.ppid = 1, b.pgid = b.sid = 1, b.n_threads = 1, b.threads = t2;
        th_start(&d->pstree, PSTREE_MAGIC);
        th_put_record(&d->pstree, &a.base);
        th_put_record(&d->pstree, &b.base);
        make_core(&d->core1, CRIU_TASK_ALIVE, "sh");
        make_core(&d->core2, CRIU_TASK_DEAD, "sleep");
        MmEntry mm = MM_ENTRY__INIT;
        mm.mm_arg_start = VADDR + 16, mm.mm_arg_end = mm.mm_arg_start + sizeof(args) - 1;
        mm.mm_env_start = mm.mm_arg_end, mm.mm_env_end = mm.mm_env_start + sizeof(env) - 1;
        th_start(&d->mm1, MM_MAGIC);
        th_put_record(&d->mm1, &mm.base);
        PagemapHead h = PAGEMAP_HEAD__INIT;
        PagemapEntry e = PAGEMAP_ENTRY__INIT;
        h.pages_id = 1;
        e.vaddr = VADDR, e.has_nr_pages = true, e.nr_pages = 1, e.has_flags = true, e.flags = 4;
        th_start(&d->pagemap1, PAGEMAP_MAGIC);
        th_put_record(&d->pagemap1, &h.base);
        th_put_record(&d->pagemap1, &e.base);
        memset(d->pages1.buf, 0, 4096);
        memcpy(d->pages1.buf + 16, args, sizeof(args) - 1);
        memcpy(d->pages1.buf + 16 + sizeof(args) - 1, env, sizeof(env) - 1);
        d->pages1.len = 4096;
}

static int open_member(void *userdata, const char *name, struct store_reader **ret) {
        struct dump *d = userdata;
        const struct {
                const char *name;
                const struct th_img *i;
        } files[] = { { "mm-1.img", &d->mm1 },      { "pagemap-1.img", &d->pagemap1 }, { "pages-1.img", &d->pages1 },
                      { "pstree.img", &d->pstree }, { "core-1.img", &d->core1 },        { "core-2.img", &d->core2 } };
        for (size_t k = 0; k < sizeof(files) / sizeof(files[0]); k++)
                if (!strcmp(files[k].name, name))
                        return th_reader_from_memory(files[k].i->buf, files[k].i->len, NULL, ret);
        return -ENOENT;
}

static char *tree_text(struct dump *d, int *ret_err) {
        struct criu_procs p;
        json_t *j = NULL;
        assert_int_equal(criu_procs_load(open_member, d, &p), 0);
        *ret_err = criu_inspect_process_tree(&p, open_member, d, &j);
        criu_procs_clear(&p);
        char *s = *ret_err < 0 ? NULL : json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(j);
        return s;
}

static void test_process_tree(void **state) {
        (void) state;
        static struct dump d;
        make_dump(&d);
        int err;
        char *s = tree_text(&d, &err);
        assert_int_equal(err, 0);
        assert_string_equal(s, "{\"children\":[{\"command\":\"sleep\",\"pid\":2,\"task_state\":\"Dead\"}],"
                               "\"cmdline\":\"sh -c sleep 1\",\"command\":\"sh\","
                               "\"environment_variables\":{\"A\":\"again\",\"B\":\"two=2\"},\"pid\":1,"
                               "\"task_state\":\"Alive\"}");
        free(s);
        /* the pages of the live process are shorter than its pagemap */
        d.pages1.len = 20;
        assert_null(tree_text(&d, &err));
        assert_int_equal(err, -EBADMSG);
        /* no mm: its error passes through */
        d.mm1.len = 0;
        assert_null(tree_text(&d, &err));
        assert_int_equal(err, -EBADMSG);
        struct criu_procs none = { 0 };
        json_t *j = NULL;
        assert_int_equal(criu_inspect_process_tree(&none, open_member, &d, &j), -ENOENT);
}

static void test_statistics(void **state) {
        (void) state;
        struct criu_dump_stats s = { 0 };
        s.v[CRIU_STAT_FREEZING_TIME] = 5, s.v[CRIU_STAT_FROZEN_TIME] = 700, s.v[CRIU_STAT_PAGES_WRITTEN] = 9;
        s.v[CRIU_STAT_PAGES_LAZY] = 3;   /* not one of checkpointctl's */
        json_t *j = NULL;
        assert_int_equal(criu_inspect_statistics(&s, &j), 0);
        char *t = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        assert_string_equal(t, "{\"freezing_time\":5,\"frozen_time\":700,\"pages_written\":9}");
        free(t);
        json_decref(j);
        assert_string_equal(criu_inspect_task_state(CRIU_TASK_STOPPED), "Stopped");
        assert_string_equal(criu_inspect_task_state(6), "Zombie");
        assert_string_equal(criu_inspect_task_state(0), "Unknown");
}

/* file_descriptors and sockets from hand-made tables: checkpointctl's
 * shapes, a process without sockets left out of sockets. */
static void test_fds_and_sockets(void **state) {
        (void) state;
        struct criu_file fv[] = {
                { .id = 1, .type = 1, .path = (char *) "/tmp/f" },
                { .id = 2, .type = 2, .pipe_id = 77 },
                { .id = 3, .type = 4, .ino = 9, .proto = 6, .state = 10, .src = "127.0.0.1", .src_port = 80 },
                { .id = 4, .type = 5, .ino = 11, .state = 1, .path = (char *) "@x" },
                { .id = 5, .type = 1, .path = (char *) "/" },
        };
        struct criu_files files = { .v = fv, .n = 5 };
        struct criu_fd a[] = { { .fd = 3, .id = 1, .type = 1 }, { .fd = 4, .id = 2, .type = 2 },
                               { .fd = 5, .id = 3, .type = 4 }, { .fd = 6, .id = 4, .type = 5 } };
        struct criu_fd b[] = { { .fd = 0, .id = 1, .type = 1 } };
        struct criu_task_fds t[] = { { .pid = 1, .v = a, .n = 4, .has_fs = true, .cwd_id = 5, .root_id = 5 },
                                     { .pid = 2, .v = b, .n = 1 } };
        json_t *j = NULL;
        assert_int_equal(criu_inspect_file_descriptors(t, 2, &files, &j), 0);
        char *s = json_dumps(j, JSON_COMPACT);
        assert_string_equal(s, "[{\"pid\":1,\"open_files\":[{\"type\":\"REG\",\"fd\":\"REG 3\",\"path\":\"/tmp/f\"},"
                               "{\"type\":\"PIPE\",\"fd\":\"PIPE 4\",\"path\":\"pipe:[77]\"},"
                               "{\"type\":\"INETSK\",\"fd\":\"INETSK 5\",\"path\":\"socket:[9]\"},"
                               "{\"type\":\"UNIXSK\",\"fd\":\"UNIXSK 6\",\"path\":\"socket:[11]\"},"
                               "{\"type\":\"\",\"fd\":\"cwd\",\"path\":\"/\"},{\"type\":\"\",\"fd\":\"root\",\"path\":\"/\"}]},"
                               "{\"pid\":2,\"open_files\":[{\"type\":\"REG\",\"fd\":\"REG 0\",\"path\":\"/tmp/f\"}]}]");
        free(s);
        json_decref(j);
        assert_int_equal(criu_inspect_sockets(t, 2, &files, &j), 0);
        s = json_dumps(j, JSON_COMPACT);
        assert_string_equal(s, "[{\"pid\":1,\"open_sockets\":[{\"protocol\":\"TCP\",\"data\":{\"type\":\"TCP\","
                               "\"state\":\"LISTEN\",\"src\":\"127.0.0.1\",\"src_port\":80}},"
                               "{\"data\":{\"type\":\"UNIX\",\"address\":\"@x\",\"state\":\"ESTABLISHED\"}}]}]");
        free(s);
        json_decref(j);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_process_tree),
                cmocka_unit_test(test_statistics),
                cmocka_unit_test(test_fds_and_sockets),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
