/* Unit tests of the parts of rpc/restore that need no daemon. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cleanup.h"
#include "restore-criu.h"
#include "restore-image.h"
#include "restore-untar.h"
#include "restore.h"
#include "strv.h"
#include "vocab.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define D(c) "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
             c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
#define DA D("a")
#define DB D("b")
#define DC D("c")

static int parse(const char *s, restore_request **q, char **msg) {
        *msg = NULL;
        return restore_request_parse(s, strlen(s), q, msg);
}

static void test_request(void **state) {
        restore_request *q;
        char *msg;
        assert_int_equal(parse("", &q, &msg), 0);
        assert_null(q->id);
        assert_false(q->no_start);
        assert_false(q->no_rw);
        restore_request_free(q);
        assert_int_equal(parse("  id=web-2 \tno-start no-rw\n", &q, &msg), 0);
        assert_string_equal(q->id, "web-2");
        assert_true(q->no_start);
        assert_true(q->no_rw);
        restore_request_free(q);
        assert_int_equal(parse("live\n", &q, &msg), 0);
        assert_false(q->no_start);
        restore_request_free(q);
        /* Not NUL-terminated: only len bytes count. */
        assert_int_equal(restore_request_parse("no-rwXXXX", 5, &q, &msg), 0);
        assert_true(q->no_rw);
        restore_request_free(q);
        static const char *const bad[] = {
                "bogus", "id=", "id=a..b", "id=-a", "id=a-", "id=a/b", "id=a:b", "live no-start", "live live",
                "no-rw no-rw", "id=a id=b", "ID=a", "no_rw",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                q = NULL;
                assert_int_equal(parse(bad[i], &q, &msg), -EINVAL);
                assert_null(q);
                assert_non_null(msg);
                free(msg);
        }
        assert_int_equal(parse("bogus", &q, &msg), -EINVAL);
        assert_non_null(strstr(msg, "unknown word \"bogus\""));
        free(msg);
        assert_int_equal(restore_request_parse("live\0x", 6, &q, &msg), -EINVAL);
        assert_non_null(strstr(msg, "NUL"));
        free(msg);
        char *big = malloc(RESTORE_COMMAND_MAX + 2);
        memset(big, ' ', RESTORE_COMMAND_MAX + 1);
        assert_int_equal(restore_request_parse(big, RESTORE_COMMAND_MAX + 1, &q, &msg), -EINVAL);
        free(msg);
        assert_int_equal(restore_request_parse(big, RESTORE_COMMAND_MAX, &q, NULL), 0);
        restore_request_free(q);
        free(big);
}

static void test_id_valid(void **state) {
        assert_true(restore_id_valid("a"));
        assert_true(restore_id_valid("web.1_x-2"));
        assert_false(restore_id_valid(""));
        assert_false(restore_id_valid("a__b"));
        assert_false(restore_id_valid(".a"));
        char id[RESTORE_ID_MAX + 2];
        memset(id, 'x', sizeof(id));
        id[RESTORE_ID_MAX] = '\0';
        assert_true(restore_id_valid(id));
        id[RESTORE_ID_MAX] = 'x';
        id[RESTORE_ID_MAX + 1] = '\0';
        assert_false(restore_id_valid(id));
}

/* sha256 of "prev next" by OpenSSL directly. */
static void chain_step(const char *prev, const char *next, char out[DIGEST_MAX]) {
        char buf[200];
        int n = snprintf(buf, sizeof(buf), "%s %s", prev, next);
        unsigned char md[32];
        SHA256((const unsigned char *) buf, (size_t) n, md);
        strcpy(out, "sha256:");
        for (int i = 0; i < 32; i++)
                sprintf(out + 7 + 2 * i, "%02x", md[i]);
}

static void test_chain_id(void **state) {
        char got[DIGEST_MAX], want[DIGEST_MAX], want2[DIGEST_MAX];
        const char *one[] = { DA };
        assert_int_equal(restore_chain_id(one, 1, got), 0);
        assert_string_equal(got, DA);
        const char *three[] = { DA, DB, DC };
        assert_int_equal(restore_chain_id(three, 3, got), 0);
        chain_step(DA, DB, want);
        chain_step(want, DC, want2);
        assert_string_equal(got, want2);
        assert_int_equal(restore_chain_id(three, 2, got), 0);
        assert_string_equal(got, want);
        assert_int_equal(restore_chain_id(three, 0, got), -EINVAL);
        const char *bad[] = { DA, "sha256:zz" };
        assert_int_equal(restore_chain_id(bad, 2, got), -EINVAL);
}

static void test_index(void **state) {
        const char *json =
                "{\"schemaVersion\":2,\"manifests\":["
                "{\"mediaType\":\"" MT_CKPT_CONFIG "\",\"digest\":\"" DA "\",\"size\":10},"
                "{\"mediaType\":\"" MT_CRIU "\",\"digest\":\"" DB "\",\"size\":20},"
                "{\"mediaType\":\"" MT_CRIU "\",\"digest\":\"" DC "\",\"size\":30},"
                "{\"mediaType\":\"" MT_LAYER_GZIP "\",\"digest\":\"" DC "\",\"size\":40},"
                "{\"mediaType\":\"" MT_MANIFEST "\",\"digest\":\"" DA "\",\"size\":50,"
                "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}],"
                "\"annotations\":{\"" ANN_RUNTIME "\":\"io.containerd.runc.v2\",\"" ANN_SNAPSHOTTER
                "\":\"overlayfs\",\"" ANN_IMAGE_NAME "\":\"docker.io/library/busybox:latest\"}}";
        restore_index ix;
        assert_int_equal(restore_index_parse(json, strlen(json), &ix), 0);
        assert_string_equal(ix.image_name, "docker.io/library/busybox:latest");
        assert_string_equal(ix.runtime, "io.containerd.runc.v2");
        assert_string_equal(ix.snapshotter, "overlayfs");
        assert_true(ix.config.found);
        assert_string_equal(ix.config.digest, DA);
        assert_int_equal(ix.config.size, 10);
        /* The first of a media type counts, as GetIndexByMediaType. */
        assert_string_equal(ix.criu.digest, DB);
        assert_string_equal(ix.criu.media_type, MT_CRIU);
        assert_string_equal(ix.rw.digest, DC);
        assert_int_equal(ix.rw.size, 40);
        assert_false(ix.runtime_options.found);
        restore_index_clear(&ix);

        const char *bare = "{\"manifests\":[]}";
        assert_int_equal(restore_index_parse(bare, strlen(bare), &ix), 0);
        assert_null(ix.image_name);
        assert_false(ix.criu.found);
        restore_index_clear(&ix);
        static const char *const bad[] = {
                "", "{", "[]", "{\"manifests\":{}}",
                "{\"manifests\":[{\"mediaType\":\"" MT_CRIU "\",\"digest\":\"sha256:x\",\"size\":1}]}",
                "{\"manifests\":[{\"mediaType\":\"" MT_CRIU "\",\"digest\":\"" DA "\",\"size\":-1}]}",
                "{\"manifests\":[{\"mediaType\":\"" MT_CRIU "\",\"digest\":\"" DA "\"}]}",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(restore_index_parse(bad[i], strlen(bad[i]), &ix), -EBADMSG);
}

static void test_image_step(void **state) {
#if defined(__x86_64__)
        const char *here = "amd64", *other = "arm64";
#else
        const char *here = "arm64", *other = "amd64";
#endif
        char list[1024];
        snprintf(list, sizeof(list),
                 "{\"manifests\":["
                 "{\"mediaType\":\"" MT_MANIFEST "\",\"digest\":\"" DA "\",\"size\":1,"
                 "\"platform\":{\"architecture\":\"%s\",\"os\":\"linux\"}},"
                 "{\"mediaType\":\"" MT_MANIFEST "\",\"digest\":\"" DB "\",\"size\":2,"
                 "\"platform\":{\"architecture\":\"%s\",\"os\":\"linux\"}}]}", other, here);
        restore_desc d;
        assert_int_equal(restore_image_step(MT_INDEX, list, strlen(list), &d), 0);
        assert_string_equal(d.digest, DB);
        assert_string_equal(d.media_type, MT_MANIFEST);
        assert_int_equal(restore_image_step(MT_DOCKER_LIST, list, strlen(list), &d), 0);
        assert_string_equal(d.digest, DB);
        snprintf(list, sizeof(list),
                 "{\"manifests\":[{\"mediaType\":\"" MT_MANIFEST "\",\"digest\":\"" DA "\",\"size\":1,"
                 "\"platform\":{\"architecture\":\"%s\",\"os\":\"linux\"}}]}", other);
        assert_int_equal(restore_image_step(MT_INDEX, list, strlen(list), &d), -ENOENT);
        const char *noplat = "{\"manifests\":[{\"mediaType\":\"" MT_MANIFEST "\",\"digest\":\"" DC "\",\"size\":3}]}";
        assert_int_equal(restore_image_step(MT_INDEX, noplat, strlen(noplat), &d), 0);
        assert_string_equal(d.digest, DC);
        const char *man = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                          "\"digest\":\"" DC "\",\"size\":99},\"layers\":[]}";
        assert_int_equal(restore_image_step(MT_MANIFEST, man, strlen(man), &d), 0);
        assert_string_equal(d.digest, DC);
        assert_int_equal(d.size, 99);
        assert_int_equal(restore_image_step(MT_DOCKER_MANIFEST, man, strlen(man), &d), 0);
        assert_int_equal(restore_image_step(MT_LAYER_TAR, man, strlen(man), &d), -EBADMSG);
        assert_int_equal(restore_image_step(MT_MANIFEST, "{}", 2, &d), -EBADMSG);
        assert_int_equal(restore_image_step(MT_MANIFEST, "nope", 4, &d), -EBADMSG);
}

static void test_diff_ids(void **state) {
        const char *cfg = "{\"architecture\":\"amd64\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" DA "\",\"" DB "\"]}}";
        char **ids;
        size_t n;
        assert_int_equal(restore_config_diff_ids(cfg, strlen(cfg), &ids, &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(ids[0], DA);
        assert_string_equal(ids[1], DB);
        assert_null(ids[2]);
        strv_free(ids);
        static const char *const bad[] = {
                "{}", "{\"rootfs\":{\"diff_ids\":[]}}", "{\"rootfs\":{\"diff_ids\":[\"x\"]}}",
                "{\"rootfs\":{\"diff_ids\":[1]}}", "not json",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(restore_config_diff_ids(bad[i], strlen(bad[i]), &ids, &n), -EBADMSG);
}

/* Lines as CRIU 4.x writes them (the shape, not a copy of a real log). */
static const char LOG[] =
        "(00.000100) Version: 4.2.1\n"
        "(00.031459) Error (criu/util.c:1534): rlimit: Can't setup RLIMIT_NOFILE for self: Operation not permitted\n"
        "(00.093600)      1: Restoring fd 3\n"
        "(00.093661)      1: Error (criu/files-reg.c:2353): Can't open file rw-marker on restore: No such file\n"
        "(00.093663)      1: Error (criu/files-reg.c:2267): Can't open file rw-marker: No such file\n"
        "(00.093664)      1: Error (criu/files.c:1221): Unable to open fd=3 id=0x3\n"
        "(00.094762) Error (criu/cr-restore.c:2331): Restoring FAILED.\n";

static void test_log_errors(void **state) {
        char buf[512];
        assert_int_equal(rcriu_log_errors(LOG, strlen(LOG), 3, buf, sizeof(buf)), 3);
        assert_string_equal(buf, "Can't open file rw-marker on restore: No such file; Can't open file rw-marker: "
                                 "No such file; Unable to open fd=3 id=0x3");
        assert_int_equal(rcriu_log_errors(LOG, strlen(LOG), 1, buf, sizeof(buf)), 1);
        assert_string_equal(buf, "Can't open file rw-marker on restore: No such file");
        /* Truncated to the buffer, NUL-terminated. */
        assert_int_equal(rcriu_log_errors(LOG, strlen(LOG), 3, buf, 10), 3);
        assert_string_equal(buf, "Can't ope");
        assert_int_equal(rcriu_log_errors("(00.1) all fine\n", 16, 3, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "");
        /* No newline at the end, and a line of nothing but the marker. */
        const char *last = "x\n(0.1) Error (a.c:1): the end";
        assert_int_equal(rcriu_log_errors(last, strlen(last), 3, buf, sizeof(buf)), 1);
        assert_string_equal(buf, "the end");
}

static void test_workdir(void **state) {
        char dir[PATH_MAX], path[PATH_MAX + 32], buf[256];
        assert_int_equal(rcriu_workdir_make(dir), 0);
        struct stat st;
        assert_int_equal(stat(dir, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);
        assert_int_equal(rcriu_workdir_errors(dir, buf, sizeof(buf)), 0);   /* no log */
        snprintf(path, sizeof(path), "%s/restore.log", dir);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(LOG, f);
        fclose(f);
        snprintf(path, sizeof(path), "%s/sub", dir);
        assert_int_equal(mkdir(path, 0700), 0);
        assert_int_equal(rcriu_workdir_errors(dir, buf, sizeof(buf)), 3);
        assert_non_null(strstr(buf, "Unable to open fd=3"));
        rcriu_workdir_remove(dir);
        assert_int_equal(stat(dir, &st), -1);
        rcriu_workdir_remove("");
        assert_int_equal(rcriu_workdir_errors("", buf, sizeof(buf)), 0);
}

static void test_task_options(void **state) {
        Google__Protobuf__Any any;
        uint8_t *buf = NULL;
        assert_int_equal(rcriu_task_options(NULL, "/w", NULL, &any, &buf), 0);
        assert_string_equal(any.type_url, "containerd.runc.v1.Options");
        Containerd__Runc__V1__Options *o = NULL;
        assert_int_equal(pb_msg_unpack(&containerd__runc__v1__options__descriptor, any.value.data, any.value.len,
                                       (ProtobufCMessage **) &o), 0);
        assert_string_equal(o->criu_work_path, "/w");
        assert_string_equal(o->criu_image_path, "");
        pb_msg_free(o);
        free(buf);

        /* The container's runtime options are kept; only the work path is ours. */
        Containerd__Runc__V1__Options rt = CONTAINERD__RUNC__V1__OPTIONS__INIT;
        rt.binary_name = (char *) "crun";
        rt.systemd_cgroup = true;
        rt.criu_work_path = (char *) "/theirs";
        uint8_t *rtbuf;
        size_t rtlen;
        assert_int_equal(pb_msg_pack(&rt.base, &rtbuf, &rtlen), 0);
        Google__Protobuf__Any rtany = GOOGLE__PROTOBUF__ANY__INIT;
        rtany.type_url = (char *) "containerd.runc.v1.Options";
        rtany.value.data = rtbuf;
        rtany.value.len = rtlen;
        assert_int_equal(rcriu_task_options(&rtany, "/mine", "/mine/image", &any, &buf), 0);
        assert_int_equal(pb_msg_unpack(&containerd__runc__v1__options__descriptor, any.value.data, any.value.len,
                                       (ProtobufCMessage **) &o), 0);
        assert_string_equal(o->binary_name, "crun");
        assert_true(o->systemd_cgroup);
        assert_string_equal(o->criu_work_path, "/mine");
        assert_string_equal(o->criu_image_path, "/mine/image");
        pb_msg_free(o);
        free(buf);
        rtany.type_url = (char *) "type.googleapis.com/containerd.runc.v1.Options";
        assert_int_equal(rcriu_task_options(&rtany, "/mine", NULL, &any, &buf), 0);
        free(buf);
        rtany.type_url = (char *) "io.containerd.runhcs.v1.Options";
        assert_int_equal(rcriu_task_options(&rtany, "/mine", NULL, &any, &buf), -EOPNOTSUPP);
        rtany.type_url = (char *) "containerd.runc.v1.Options";
        rtany.value.len = 1;   /* a cut message */
        rtbuf[0] = 0x0a;
        assert_int_equal(rcriu_task_options(&rtany, "/mine", NULL, &any, &buf), -EBADMSG);
        free(rtbuf);
}


/* A tar made by tar(1) in `fmt` from a tree, unpacked by rtar_extract:
 * the same files with the same bytes. */
static int untar_with(const char *fmt, const char *extra_setup, char out[PATH_MAX]) {
        char src[] = "/tmp/test-untar-src-XXXXXX", cmd[3 * PATH_MAX];
        assert_non_null(mkdtemp(src));
        snprintf(out, PATH_MAX, "/tmp/test-untar-out-XXXXXX");
        assert_non_null(mkdtemp(out));
        snprintf(cmd, sizeof(cmd),
                 "set -e; cd %s; printf 'core' > core-1.img; head -c 300000 /dev/urandom > pages-1.img; "
                 "mkdir -p sub/deeper; echo hi > sub/deeper/x.img; : > empty.img; "
                 "%s tar --format=%s -cf ../%s.tar .",
                 src, extra_setup, fmt, src + 5);
        assert_int_equal(system(cmd), 0);
        char tarpath[PATH_MAX + 8];
        snprintf(tarpath, sizeof(tarpath), "%s.tar", src);
        int fd = open(tarpath, O_RDONLY | O_CLOEXEC), dfd = open(out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r = rtar_extract(fd, dfd);
        close(fd);
        close(dfd);
        if (r == 0) {
                snprintf(cmd, sizeof(cmd), "diff -r %s %s", src, out);
                assert_int_equal(system(cmd), 0);
        }
        snprintf(cmd, sizeof(cmd), "rm -rf %s %s", src, tarpath);
        assert_int_equal(system(cmd), 0);
        return r;
}

static void rm_rf(const char *dir) {
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        assert_int_equal(system(cmd), 0);
}

static void test_untar(void **state) {
        char out[PATH_MAX];
        /* Long names: pax path= and GNU ././@LongLink. */
        static const char *const fmts[] = { "ustar", "pax", "gnu" };
        static const char *const setup[] = { "", "touch sub/$(printf 'n%.0s' $(seq 150)).img;",
                                             "touch sub/$(printf 'g%.0s' $(seq 150)).img;" };
        for (size_t i = 0; i < 3; i++) {
                assert_int_equal(untar_with(fmts[i], setup[i], out), 0);
                rm_rf(out);
        }
        /* Members a CRIU dump never has: refused. */
        assert_int_equal(untar_with("pax", "ln -s core-1.img link.img;", out), -EBADMSG);
        rm_rf(out);
        assert_int_equal(untar_with("pax", "mkfifo fifo;", out), -EBADMSG);
        rm_rf(out);
}

/* Hand-made archives: traversal, absolute names, damage. */
static int untar_bytes(const unsigned char *data, size_t len) {
        char path[] = "/tmp/test-untar-raw-XXXXXX", out[] = "/tmp/test-untar-rawout-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, len), (ssize_t) len);
        assert_non_null(mkdtemp(out));
        int dfd = open(out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r = rtar_extract(fd, dfd);
        close(fd);
        close(dfd);
        unlink(path);
        struct stat st;
        char esc[PATH_MAX];
        snprintf(esc, sizeof(esc), "/tmp/escaped-by-untar");
        assert_int_equal(stat(esc, &st), -1);   /* nothing outside */
        rm_rf(out);
        return r;
}

static void header(unsigned char *h, const char *name, char type, size_t size) {
        memset(h, 0, 512);
        snprintf((char *) h, 100, "%s", name);
        snprintf((char *) h + 100, 8, "%07o", 0644);
        snprintf((char *) h + 124, 12, "%011zo", size);
        h[156] = (unsigned char) type;
        memcpy(h + 257, "ustar", 6);
        memcpy(h + 263, "00", 2);
        memset(h + 148, ' ', 8);
        unsigned sum = 0;
        for (int i = 0; i < 512; i++)
                sum += h[i];
        snprintf((char *) h + 148, 8, "%06o", sum);
}

static void test_untar_hostile(void **state) {
        unsigned char a[512 * 4] = { 0 };
        header(a, "core-1.img", '0', 3);
        memcpy(a + 512, "abc", 3);
        assert_int_equal(untar_bytes(a, sizeof(a)), 0);
        static const char *const bad_names[] = { "../escaped-by-untar", "/tmp/escaped-by-untar", "a/../../x", "a//b" };
        for (size_t i = 0; i < 4; i++) {
                header(a, bad_names[i], '0', 3);
                assert_int_equal(untar_bytes(a, sizeof(a)), -EBADMSG);
        }
        header(a, "hard", '1', 0);
        assert_int_equal(untar_bytes(a, sizeof(a)), -EBADMSG);
        header(a, "dev", '3', 0);
        assert_int_equal(untar_bytes(a, sizeof(a)), -EBADMSG);
        header(a, "core-1.img", '0', 3);
        a[0] ^= 1;   /* checksum off */
        assert_int_equal(untar_bytes(a, sizeof(a)), -EBADMSG);
        header(a, "big.img", '0', 5000);   /* data beyond the end */
        assert_int_equal(untar_bytes(a, sizeof(a)), -EBADMSG);
        header(a, "core-1.img", '0', 3);
        assert_int_equal(untar_bytes(a, 300), -EBADMSG);   /* a cut header */
        /* A pax path= that climbs out. */
        const char rec[] = "28 path=../escaped-by-untar\n";   /* a valid record */
        header(a, "PaxHeaders/x", 'x', strlen(rec));
        memcpy(a + 512, rec, strlen(rec));
        header(a + 1024, "innocent", '0', 0);
        assert_int_equal(untar_bytes(a, sizeof(a)), -EBADMSG);
}

/* Random damage to a valid archive: an error or a success, never a crash,
 * never a file outside the target directory. */
static void test_untar_fuzz(void **state) {
        unsigned char good[512 * 8] = { 0 };   /* ends with zero blocks */
        header(good, "core-1.img", '0', 3);
        memcpy(good + 512, "abc", 3);
        header(good + 1024, "sub", '5', 0);
        header(good + 1536, "sub/pages-1.img", '0', 600);
        memset(good + 2048, 'p', 600);
        assert_int_equal(untar_bytes(good, sizeof(good)), 0);
        srand(7);
        int ok = 0, refused = 0;
        for (int i = 0; i < 400; i++) {
                unsigned char a[sizeof(good)];
                memcpy(a, good, sizeof(a));
                int flips = 1 + rand() % 8;
                for (int f = 0; f < flips; f++)
                        a[rand() % (int) sizeof(a)] = (unsigned char) rand();
                size_t len = (i % 5 == 0) ? (size_t) (rand() % (int) sizeof(a)) : sizeof(a);
                int r = untar_bytes(a, len);
                assert_true(r == 0 || r == -EBADMSG || r == -EEXIST || r == -ENOTDIR || r == -EISDIR ||
                            r == -ENOENT || r == -ENAMETOOLONG || r == -EINVAL);
                r == 0 ? ok++ : refused++;
        }
        assert_true(refused > 0 && ok > 0);
        print_message("untar fuzz: %d unpacked, %d refused\n", ok, refused);
}

/* Random lines: a request or EINVAL with a message, never a crash. */
static void test_request_fuzz(void **state) {
        static const char *const words[] = { "id=", "id=a", "live", "no-start", "no-rw", " ", "\t", "\n", "x", "=" };
        srand(11);
        for (int i = 0; i < 2000; i++) {
                char line[256] = "";
                int n = rand() % 8;
                for (int w = 0; w < n; w++)
                        strncat(line, words[rand() % 10], sizeof(line) - strlen(line) - 1);
                if (i % 7 == 0 && strlen(line) > 0)
                        line[rand() % strlen(line)] = (char) (rand() % 256 ?: 1);
                restore_request *q = NULL;
                char *msg = NULL;
                int r = restore_request_parse(line, strlen(line), &q, &msg);
                assert_true(r == 0 || r == -EINVAL);
                if (r == 0) {
                        assert_non_null(q);
                        assert_true(!q->id || restore_id_valid(q->id));
                } else
                        assert_non_null(msg);
                restore_request_free(q);
                free(msg);
        }
}

static void test_registry(void **state) {
        restore_registry *reg;
        assert_int_equal(restore_registry_new(&reg), 0);
        char *text;
        assert_int_equal(restore_registry_last_report(reg, "ns", "img", &text), 0);
        assert_string_equal(text, "");
        free(text);
        assert_int_equal(restore_registry_note_error(reg, "ns", "img", EINVAL, "unknown word \"x\""), 0);
        assert_int_equal(restore_registry_last_report(reg, "ns", "img", &text), 0);
        assert_non_null(strstr(text, "result: failed\n"));
        assert_non_null(strstr(text, "error: EINVAL\n"));
        assert_non_null(strstr(text, "message: unknown word \"x\"\n"));
        free(text);
        assert_int_equal(restore_registry_last_report(reg, "ns2", "img", &text), 0);
        assert_string_equal(text, "");
        free(text);
        restore_registry_free(reg);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_request),    cmocka_unit_test(test_id_valid),
                cmocka_unit_test(test_chain_id),   cmocka_unit_test(test_index),
                cmocka_unit_test(test_image_step), cmocka_unit_test(test_diff_ids),
                cmocka_unit_test(test_log_errors), cmocka_unit_test(test_workdir),
                cmocka_unit_test(test_task_options), cmocka_unit_test(test_registry),
                cmocka_unit_test(test_untar),      cmocka_unit_test(test_untar_hostile),
                cmocka_unit_test(test_untar_fuzz), cmocka_unit_test(test_request_fuzz),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
