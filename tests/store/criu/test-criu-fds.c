/* store/criu: the open files of a dump made by hand (files.img, the older
 * separate images, ids/fdinfo/fs, mountpoints) rendered as proc/<pid>/fds,
 * sockets and mounts; corrupt images are -EBADMSG. Real dumps against crit:
 * tests/integration/test-proc-fds.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "criu-fds.h"
#include "criu_core.pb-c.h"
#include "criu_fdinfo.pb-c.h"
#include "criu_fs.pb-c.h"
#include "criu_magic.h"
#include "criu_memfd.pb-c.h"
#include "criu_mnt.pb-c.h"
#include "criu_pipe.pb-c.h"
#include "criu_regfile.pb-c.h"
#include "criu_sk_inet.pb-c.h"
#include "criu_sk_unix.pb-c.h"
#include "helpers.h"
#include "image-builder.h"
#include "json.h"
#include "pbmsg.h"

/* The dump: a few images by name. */
static struct th_img dump[6];
static size_t n_dump;

static int open_image(void *userdata, const char *name, struct store_reader **ret) {
        (void) userdata;
        for (size_t k = 0; k < n_dump; k++)
                if (!strcmp(dump[k].name, name))
                        return th_reader_from_memory(dump[k].buf, dump[k].len, NULL, ret);
        return -ENOENT;
}

static FownEntry fown = FOWN_ENTRY__INIT;
static SkOptsEntry opts = SK_OPTS_ENTRY__INIT;

static void add_reg(struct th_img *i, uint32_t id, const char *name, uint64_t pos, uint32_t flags) {
        RegFileEntry r = REG_FILE_ENTRY__INIT;
        FileEntry f = FILE_ENTRY__INIT;
        r.id = id, r.name = (char *) name, r.pos = pos, r.flags = flags, r.fown = &fown;
        f.type = FD_TYPES__REG, f.id = id, f.reg = &r;
        th_put_record(i, &f.base);
}

static void add_pipe(struct th_img *i, uint32_t id, uint32_t pipe_id, uint32_t flags) {
        PipeEntry p = PIPE_ENTRY__INIT;
        FileEntry f = FILE_ENTRY__INIT;
        p.id = id, p.pipe_id = pipe_id, p.flags = flags, p.fown = &fown;
        f.type = FD_TYPES__PIPE, f.id = id, f.pipe = &p;
        th_put_record(i, &f.base);
}

static void add_inet(struct th_img *i, uint32_t id, uint32_t state, uint32_t sport, uint32_t dport) {
        uint32_t lo = 0x0100007f; /* 127.0.0.1 in memory order */
        InetSkEntry s = INET_SK_ENTRY__INIT;
        FileEntry f = FILE_ENTRY__INIT;
        s.id = id, s.ino = 100 + id, s.family = 2, s.type = 1, s.proto = 6, s.state = state;
        s.src_port = sport, s.dst_port = dport, s.n_src_addr = 1, s.src_addr = &lo;
        s.n_dst_addr = 1, s.dst_addr = &lo, s.fown = &fown, s.opts = &opts;
        f.type = FD_TYPES__INETSK, f.id = id, f.isk = &s;
        th_put_record(i, &f.base);
}

static void add_unix(struct th_img *i, uint32_t id, uint32_t ino, uint32_t peer, const char *name, size_t name_len) {
        UnixSkEntry u = UNIX_SK_ENTRY__INIT;
        FileEntry f = FILE_ENTRY__INIT;
        u.id = id, u.ino = ino, u.type = 1, u.state = 1, u.peer = peer, u.fown = &fown, u.opts = &opts;
        u.name.data = (uint8_t *) name, u.name.len = name_len;
        f.type = FD_TYPES__UNIXSK, f.id = id, f.usk = &u;
        th_put_record(i, &f.base);
}

static void add_fd(struct th_img *i, uint32_t fd, uint32_t id, uint32_t type, uint32_t flags) {
        FdinfoEntry e = FDINFO_ENTRY__INIT;
        e.fd = fd, e.id = id, e.type = type, e.flags = flags;
        th_put_record(i, &e.base);
}

/* pid 5: fd 3 a file at 8, fds 4/5 a pipe, 6/7 a unix pair, 8 a listener,
 * 9 a connection, 10 an eventfd not in files.img; cwd /tmp, root /. */
static void make_dump(void) {
        TaskKobjIdsEntry ids = TASK_KOBJ_IDS_ENTRY__INIT;
        FsEntry fs = FS_ENTRY__INIT;
        struct th_img *f = &dump[0];
        th_start_named(f, "files.img", FILES_MAGIC);
        add_reg(f, 1, "/tmp/wl-file", 8, 02 | 0100000);
        add_pipe(f, 2, 777, 0);
        add_pipe(f, 3, 777, 1);
        add_unix(f, 4, 50, 51, "", 0);
        add_unix(f, 5, 51, 50, "\0abs", 4);
        add_inet(f, 6, 10, 5555, 0);
        add_inet(f, 7, 1, 40000, 5555);
        add_inet(f, 10, 1, 5555, 40000);
        add_reg(f, 8, "/tmp", 0, 0200000);
        add_reg(f, 9, "/", 0, 0200000);
        th_start_named(&dump[1], "ids-5.img", IDS_MAGIC);
        ids.files_id = 42, ids.has_mnt_ns_id = 1, ids.mnt_ns_id = 13;
        th_put_record(&dump[1], &ids.base);
        struct th_img *d = &dump[2];
        th_start_named(d, "fdinfo-42.img", FDINFO_MAGIC);
        add_fd(d, 3, 1, FD_TYPES__REG, 1);
        add_fd(d, 4, 2, FD_TYPES__PIPE, 1);
        add_fd(d, 5, 3, FD_TYPES__PIPE, 0);
        add_fd(d, 6, 4, FD_TYPES__UNIXSK, 0);
        add_fd(d, 7, 5, FD_TYPES__UNIXSK, 0);
        add_fd(d, 8, 6, FD_TYPES__INETSK, 0);
        add_fd(d, 9, 7, FD_TYPES__INETSK, 0);
        add_fd(d, 10, 99, FD_TYPES__EVENTFD, 0);
        add_fd(d, 11, 10, FD_TYPES__INETSK, 0);
        th_start_named(&dump[3], "fs-5.img", FS_MAGIC);
        fs.cwd_id = 8, fs.root_id = 9;
        th_put_record(&dump[3], &fs.base);
        n_dump = 4;
}

static struct criu_files load_files(void) {
        struct criu_files files = { 0 };
        struct store_reader *r = NULL;
        assert_int_equal(open_image(NULL, "files.img", &r), 0);
        assert_int_equal(criu_files_add(&files, r), 0);
        store_reader_free(r);
        return files;
}

static const char want_fds[] = "3 REG /tmp/wl-file pos=8 flags=O_RDWR|O_LARGEFILE\n"
                               "4 PIPE pipe:[777] flags=O_RDONLY\n"
                               "5 PIPE pipe:[777] flags=O_WRONLY\n"
                               "6 UNIXSK unix stream ESTABLISHED ino=50 peer=51\n"
                               "7 UNIXSK unix stream ESTABLISHED ino=51 peer=50 @abs\n"
                               "8 INETSK tcp 127.0.0.1:5555 LISTEN\n"
                               "9 INETSK tcp 127.0.0.1:40000 -> 127.0.0.1:5555 ESTABLISHED\n"
                               "10 EVENTFD EVENTFD.99\n"
                               "11 INETSK tcp 127.0.0.1:5555 -> 127.0.0.1:40000 ESTABLISHED\n"
                               "cwd /tmp\n"
                               "root /\n";

static void test_fds(void **state) {
        (void) state;
        make_dump();
        struct criu_files files = load_files();
        assert_int_equal(files.n, 10);
        struct criu_task_fds t;
        assert_int_equal(criu_task_fds_load(5, open_image, NULL, &t), 0);
        assert_int_equal(t.n, 9);
        assert_true(t.has_fs);
        char *s = NULL;
        size_t len = 0;
        assert_int_equal(criu_fds_text(&t, &files, &s, &len), 0);
        assert_string_equal(s, want_fds);
        assert_int_equal(len, strlen(want_fds));
        free(s);

        json_t *j = NULL;
        assert_int_equal(criu_fds_json(&t, &files, &j), 0);
        s = json_dumps(json_array_get(json_object_get(j, "fds"), 0), JSON_COMPACT | JSON_SORT_KEYS);
        assert_string_equal(s, "{\"cloexec\":true,\"fd\":3,\"flags\":\"O_RDWR|O_LARGEFILE\",\"id\":1,"
                               "\"path\":\"/tmp/wl-file\",\"pos\":8,\"type\":\"REG\"}");
        free(s);
        assert_string_equal(json_string_value(json_object_get(j, "cwd")), "/tmp");
        json_decref(j);

        uint32_t mnt_ns = 0;
        assert_int_equal(criu_task_mnt_ns(5, open_image, NULL, &mnt_ns), 0);
        assert_int_equal(mnt_ns, 13);
        assert_int_equal(criu_task_mnt_ns(6, open_image, NULL, &mnt_ns), -ENOENT);

        assert_int_equal(criu_sockets_text(&t, 1, &files, &s, &len), 0);
        assert_string_equal(s, "PID FD FAMILY TYPE STATE INO LOCAL REMOTE PEER\n"
                               "5 6 unix stream ESTABLISHED 50 - ino:51 5/7\n"
                               "5 7 unix stream ESTABLISHED 51 @abs ino:50 5/6\n"
                               "5 8 inet stream LISTEN 106 127.0.0.1:5555 - -\n"
                               "5 9 inet stream ESTABLISHED 107 127.0.0.1:40000 127.0.0.1:5555 5/11\n"
                               "5 11 inet stream ESTABLISHED 110 127.0.0.1:5555 127.0.0.1:40000 5/9\n");
        free(s);
        assert_int_equal(criu_sockets_json(&t, 1, &files, &j), 0);
        assert_int_equal(json_array_size(j), 5);
        json_t *c = json_array_get(j, 3);
        assert_int_equal(json_integer_value(json_object_get(c, "pid")), 5);
        assert_int_equal(json_integer_value(json_object_get(c, "dst_port")), 5555);
        assert_int_equal(json_integer_value(json_object_get(c, "peer_fd")), 11);
        assert_null(json_object_get(json_array_get(j, 2), "peer_fd"));
        assert_string_equal(json_string_value(json_object_get(c, "proto")), "tcp");
        json_decref(j);
        criu_task_fds_clear(&t);
        criu_files_clear(&files);
}

/* A zombie (no ids image) has no fds; the older separate images load. */
static void test_zombie_and_legacy(void **state) {
        (void) state;
        make_dump();
        struct criu_task_fds t;
        assert_int_equal(criu_task_fds_load(9, open_image, NULL, &t), 0);
        assert_int_equal(t.n, 0);
        assert_false(t.has_fs);
        char *s = NULL;
        size_t len = 0;
        assert_int_equal(criu_fds_text(&t, &(struct criu_files) { 0 }, &s, &len), 0);
        assert_int_equal(len, 0);
        free(s);

        struct th_img *r = &dump[0];
        RegFileEntry reg = REG_FILE_ENTRY__INIT;
        reg.id = 1, reg.name = "/old", reg.pos = 3, reg.fown = &fown;
        th_start_named(r, "reg-files.img", REG_FILES_MAGIC);
        th_put_record(r, &reg.base);
        PipeEntry p = PIPE_ENTRY__INIT;
        p.id = 2, p.pipe_id = 9, p.fown = &fown;
        th_start_named(&dump[4], "pipes.img", PIPES_MAGIC);
        th_put_record(&dump[4], &p.base);
        n_dump = 5;
        struct criu_files files = { 0 };
        struct store_reader *rd = NULL;
        assert_int_equal(open_image(NULL, "reg-files.img", &rd), 0);
        assert_int_equal(criu_files_add(&files, rd), 0);
        store_reader_free(rd);
        assert_int_equal(open_image(NULL, "pipes.img", &rd), 0);
        assert_int_equal(criu_files_add(&files, rd), 0);
        store_reader_free(rd);
        assert_int_equal(files.n, 2);
        assert_string_equal(criu_files_find(&files, 1)->path, "/old");
        assert_int_equal(criu_files_find(&files, 2)->pipe_id, 9);
        criu_files_clear(&files);
}

/* Damage: cut files.img, a REG without its reg message, a wrong image. */
static void test_corrupt(void **state) {
        (void) state;
        make_dump();
        size_t full = dump[0].len;
        for (size_t cut = 9; cut < full; cut++) {
                struct criu_files files = { 0 };
                struct store_reader *r = NULL;
                assert_int_equal(th_reader_from_memory(dump[0].buf, cut, NULL, &r), 0);
                int k = criu_files_add(&files, r);
                assert_true(k == 0 || k == -EBADMSG);
                store_reader_free(r);
                criu_files_clear(&files);
        }
        FileEntry f = FILE_ENTRY__INIT;
        f.type = FD_TYPES__REG, f.id = 1;
        th_start_named(&dump[0], "files.img", FILES_MAGIC);
        th_put_record(&dump[0], &f.base);
        struct criu_files files = { 0 };
        struct store_reader *r = NULL;
        assert_int_equal(open_image(NULL, "files.img", &r), 0);
        assert_int_equal(criu_files_add(&files, r), -EBADMSG);
        store_reader_free(r);
        criu_files_clear(&files);
        /* fdinfo holding an fs entry */
        dump[2] = dump[3];
        dump[2].name = "fdinfo-42.img";
        struct criu_task_fds t;
        assert_int_equal(criu_task_fds_load(5, open_image, NULL, &t), -EBADMSG);
        /* an ids image cut short */
        dump[1].len = 9;
        assert_int_equal(criu_task_fds_load(5, open_image, NULL, &t), -EBADMSG);
}

static void test_mounts(void **state) {
        (void) state;
        MntEntry a = MNT_ENTRY__INIT, b = MNT_ENTRY__INIT;
        a.fstype = 17, a.mnt_id = 100, a.parent_mnt_id = 99, a.root_dev = (0u << 20) | 55, a.root = "/";
        a.flags = 1 | (1u << 21), a.mountpoint = "/", a.source = "overlay", a.options = "lowerdir=/l";
        b.fstype = 16, b.fsname = "nsfs", b.mnt_id = 101, b.parent_mnt_id = 100, b.root = "/";
        b.flags = 2 | 4 | 8, b.mountpoint = "/proc", b.source = "proc", b.options = "";
        b.has_shared_id = 1, b.shared_id = 4;
        struct th_img *m = &dump[5];
        th_start_named(m, "mountpoints-13.img", MNTS_MAGIC);
        th_put_record(m, &a.base);
        th_put_record(m, &b.base);
        struct store_reader *r = NULL;
        struct criu_mounts mounts;
        assert_int_equal(th_reader_from_memory(m->buf, m->len, NULL, &r), 0);
        assert_int_equal(criu_mounts_load(r, &mounts), 0);
        store_reader_free(r);
        char *s = NULL;
        size_t len = 0;
        assert_int_equal(criu_mounts_text(&mounts, &s, &len), 0);
        assert_string_equal(s, "MNT_ID PARENT MOUNTPOINT ROOT FSTYPE FLAGS SOURCE OPTIONS\n"
                               "100 99 / / overlay ro,relatime overlay lowerdir=/l\n"
                               "101 100 /proc / nsfs rw,nosuid,nodev,noexec proc -\n");
        free(s);
        json_t *j = NULL;
        assert_int_equal(criu_mounts_json(&mounts, &j), 0);
        s = json_dumps(json_array_get(j, 1), JSON_COMPACT | JSON_SORT_KEYS);
        assert_string_equal(s, "{\"flags\":\"rw,nosuid,nodev,noexec\",\"fstype\":\"nsfs\",\"mnt_id\":101,"
                               "\"mountpoint\":\"/proc\","
                               "\"options\":\"\","
                               "\"parent_mnt_id\":100,\"root\":\"/\",\"root_dev\":\"0:0\",\"shared_id\":4,"
                               "\"source\":\"proc\"}");
        free(s);
        json_decref(j);
        criu_mounts_clear(&mounts);
        /* every cut: a whole prefix or -EBADMSG */
        size_t full = m->len;
        for (size_t cut = 0; cut < full; cut++) {
                assert_int_equal(th_reader_from_memory(m->buf, cut, NULL, &r), 0);
                int k = criu_mounts_load(r, &mounts);
                assert_true(k == 0 || k == -EBADMSG);
                if (k == 0)
                        criu_mounts_clear(&mounts);
                store_reader_free(r);
        }
}

/* memfd.img names the memfds of files.img. */
static void test_memfd(void **state) {
        (void) state;
        MemfdFileEntry m = MEMFD_FILE_ENTRY__INIT;
        FileEntry f = FILE_ENTRY__INIT;
        m.id = 3, m.pos = 16, m.fown = &fown, m.inode_id = 7;
        f.type = FD_TYPES__MEMFD, f.id = 3, f.memfd = &m;
        struct th_img *i = &dump[0];
        th_start_named(i, "files.img", FILES_MAGIC);
        th_put_record(i, &f.base);
        MemfdInodeEntry n = MEMFD_INODE_ENTRY__INIT;
        n.name = "shm-area", n.inode_id = 7, n.shmid = 9;
        th_start_named(&dump[1], "memfd.img", MEMFD_INODE_MAGIC);
        th_put_record(&dump[1], &n.base);
        n_dump = 2;
        struct criu_files files = { 0 };
        struct store_reader *r = NULL;
        assert_int_equal(open_image(NULL, "files.img", &r), 0);
        assert_int_equal(criu_files_add(&files, r), 0);
        store_reader_free(r);
        assert_int_equal(open_image(NULL, "memfd.img", &r), 0);
        assert_int_equal(criu_files_add(&files, r), 0);
        store_reader_free(r);
        assert_int_equal(files.n, 1);
        struct criu_fd fd = { .fd = 4, .id = 3, .type = FD_TYPES__MEMFD };
        struct criu_task_fds t = { .pid = 1, .v = &fd, .n = 1 };
        char *s = NULL;
        size_t len = 0;
        assert_int_equal(criu_fds_text(&t, &files, &s, &len), 0);
        assert_string_equal(s, "4 MEMFD memfd:shm-area inode=7 pos=16\n");
        free(s);
        json_t *j = criu_file_json(&files.v[0]);
        assert_string_equal(json_string_value(json_object_get(j, "name")), "shm-area");
        json_decref(j);
        criu_files_clear(&files);
}

static void test_names(void **state) {
        (void) state;
        char b[160];
        assert_string_equal(criu_open_flags(0, b, sizeof(b)), "O_RDONLY");
        assert_string_equal(criu_open_flags(01 | 02000 | 04000, b, sizeof(b)), "O_WRONLY|O_APPEND|O_NONBLOCK");
        assert_string_equal(criu_open_flags(04010002, b, sizeof(b)), "O_RDWR|O_SYNC");
        char t[16];
        assert_string_equal(criu_fd_type_name(4, t), "INETSK");
        assert_string_equal(criu_fd_type_name(77, t), "TYPE77");
        assert_string_equal(criu_sock_state_name(10), "LISTEN");
        assert_string_equal(criu_sock_state_name(99), "UNKNOWN");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fds),     cmocka_unit_test(test_zombie_and_legacy),
                cmocka_unit_test(test_corrupt), cmocka_unit_test(test_mounts),
                cmocka_unit_test(test_names),   cmocka_unit_test(test_memfd),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
