/* store/core/oci-*.c: an OCI layout to import, from a directory or a tar:
 * the walk from index.json, the check of every blob against its digest,
 * and the refusal of unsafe tars (traversal, absolute names, links out,
 * devices, oversized headers). Synthetic layouts built here. Pure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "helpers.h"
#include "oci-import.h"
#include "vocab.h"

/* The files of a layout: a checkpoint index (manifest + criu blob), the
 * manifest (config + layer), and index.json naming the image. */
struct layout {
        char *rel[8];
        char *data[8];
        size_t len[8];
        size_t n;
        char index[DIGEST_MAX], manifest[DIGEST_MAX], criu[DIGEST_MAX], config[DIGEST_MAX], layer[DIGEST_MAX];
};

static void add_file(struct layout *l, const char *rel, const char *data, size_t len) {
        l->rel[l->n] = strdup(rel);
        l->data[l->n] = malloc(len + 1);
        memcpy(l->data[l->n], data, len);
        l->len[l->n++] = len;
}

static void add_blob(struct layout *l, const char *data, size_t len, char digest[DIGEST_MAX]) {
        assert_int_equal(digest_of(data, len, digest), 0);
        char rel[128];
        snprintf(rel, sizeof(rel), "blobs/sha256/%s", digest + 7);
        add_file(l, rel, data, len);
}

static void layout_init(struct layout *l) {
        memset(l, 0, sizeof(*l));
        static char criu[300000];
        uint64_t seed = 42;
        th_fill(&seed, (uint8_t *) criu, sizeof(criu), 50);
        add_blob(l, criu, sizeof(criu), l->criu);
        add_blob(l, "{\"config\":1}", 12, l->config);
        add_blob(l, "layer-bytes", 11, l->layer);
        char buf[2048];
        int n = snprintf(buf, sizeof(buf),
                         "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"c\",\"digest\":\"%s\","
                         "\"size\":12},\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":11}]}",
                         MT_MANIFEST, l->config, MT_LAYER_GZIP, l->layer);
        add_blob(l, buf, (size_t) n, l->manifest);
        n = snprintf(buf, sizeof(buf),
                     "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu},"
                     "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}]}",
                     MT_MANIFEST, l->manifest, strlen(buf), MT_CRIU, l->criu, sizeof(criu));
        add_blob(l, buf, (size_t) n, l->index);
        n = snprintf(buf, sizeof(buf),
                     "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,"
                     "\"annotations\":{\"%s\":\"checkpoint/web:t1\",\"%s\":\"t1\"}}]}",
                     MT_INDEX, l->index, (size_t) n, ANN_CONTAINERD_IMAGE_NAME, ANN_IMAGE_NAME);
        add_file(l, "index.json", buf, (size_t) n);
        add_file(l, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
}

static void layout_free(struct layout *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->rel[i]);
                free(l->data[i]);
        }
}

static int find(const struct layout *l, const char *digest) {
        for (size_t i = 0; i < l->n; i++)
                if (strstr(l->rel[i], digest + 7))
                        return (int) i;
        return -1;
}

static char *write_dir(const struct layout *l) {
        char *dir = th_mkdtemp(), path[4096];
        snprintf(path, sizeof(path), "%s/blobs/sha256", dir);
        assert_int_equal(th_sh("mkdir -p '%s'", path), 0);
        for (size_t i = 0; i < l->n; i++) {
                snprintf(path, sizeof(path), "%s/%s", dir, l->rel[i]);
                assert_int_equal(th_write_file(path, l->data[i], l->len[i]), 0);
        }
        return dir;
}

/* The layout as `tar -C layout -cf x.tar .` would have it, plus extras. */
static char *write_tar(const struct layout *l, void (*extra)(struct th_buf *)) {
        struct th_buf t = { 0 };
        th_tar_header(&t, &(struct th_hdr) { .name = "./", .type = '5', .mode = 0755 });
        th_tar_header(&t, &(struct th_hdr) { .name = "./blobs/", .type = '5', .mode = 0755 });
        th_tar_header(&t, &(struct th_hdr) { .name = "./blobs/sha256/", .type = '5', .mode = 0755 });
        for (size_t i = 0; i < l->n; i++) {
                char name[100];
                snprintf(name, sizeof(name), "./%s", l->rel[i]);
                /* 7-char digest prefix in a 100-byte field: "./blobs/sha256/" + 64 hex fits */
                th_tar_file(&t, name, l->data[i], l->len[i]);
        }
        if (extra)
                extra(&t);
        th_tar_end(&t);
        char *dir = th_mkdtemp(), *path;
        assert_true(asprintf(&path, "%s/x.tar", dir) > 0);
        assert_int_equal(th_write_file(path, t.p, t.len), 0);
        th_buf_free(&t);
        free(dir);
        return path;
}

static void check_good_plan(oci_src *s, const struct layout *l) {
        oci_plan *p = NULL;
        char *msg = NULL;
        assert_int_equal(oci_plan_build(s, &p, &msg), 0);
        assert_int_equal(p->n, 5);
        assert_int_equal(p->n_present, 5);
        assert_string_equal(p->name, "checkpoint/web:t1");
        assert_string_equal(p->blobs[0].digest, l->index);
        assert_string_equal(p->blobs[0].media_type, MT_INDEX);
        assert_int_equal(p->blobs[0].n_labels, 2);
        assert_string_equal(p->blobs[0].labels[0], "containerd.io/gc.ref.content.m.0");
        assert_string_equal(p->blobs[0].labels[1], l->manifest);
        assert_string_equal(p->blobs[1].digest, l->manifest);
        assert_int_equal(p->blobs[1].n_labels, 2);
        assert_string_equal(p->blobs[1].labels[0], "containerd.io/gc.ref.content.config");
        assert_string_equal(p->blobs[1].labels[3], l->layer);
        assert_string_equal(p->blobs[2].digest, l->criu);
        assert_int_equal(p->blobs[2].size, 300000);
        uint64_t total = 0;
        for (size_t i = 0; i < l->n - 2; i++)
                total += l->len[i];
        assert_int_equal(p->bytes, total);
        assert_int_equal(oci_plan_verify(s, p, &msg), 0);
        oci_plan_free(p);
}

static void test_good_dir(void **state) {
        struct layout l;
        layout_init(&l);
        char *dir = write_dir(&l);
        oci_src *s = NULL;
        char *msg = NULL;
        assert_int_equal(oci_src_open(dir, &s, &msg), 0);
        assert_false(oci_src_is_tar(s));
        check_good_plan(s, &l);
        oci_src_free(s);
        th_rm_rf(dir);
        free(dir);
        layout_free(&l);
}

static void test_good_tar(void **state) {
        struct layout l;
        layout_init(&l);
        char *path = write_tar(&l, NULL);
        oci_src *s = NULL;
        char *msg = NULL;
        assert_int_equal(oci_src_open(path, &s, &msg), 0);
        assert_true(oci_src_is_tar(s));
        check_good_plan(s, &l);
        oci_src_free(s);
        unlink(path);
        free(path);
        layout_free(&l);
}

static void test_good_tar_gz(void **state) {
        struct layout l;
        layout_init(&l);
        char *path = write_tar(&l, NULL);
        void *data = NULL;
        size_t len = 0;
        assert_int_equal(th_read_file(path, &data, &len), 0);
        struct th_buf gz = { 0 };
        th_gzip(&gz, data, len, 6);
        assert_int_equal(th_write_file(path, gz.p, gz.len), 0);
        oci_src *s = NULL;
        char *msg = NULL;
        assert_int_equal(oci_src_open(path, &s, &msg), 0);
        assert_true(oci_src_is_tar(s));
        check_good_plan(s, &l);
        oci_src_free(s);
        /* a damaged gzip stream: a corrupt tar */
        gz.p[gz.len / 2] ^= 0x55;
        assert_int_equal(th_write_file(path, gz.p, gz.len), 0);
        assert_int_equal(oci_src_open(path, &s, &msg), -EBADMSG);
        free(msg);
        th_buf_free(&gz);
        free(data);
        unlink(path);
        free(path);
        layout_free(&l);
}

/* Builds and verifies; returns verify's (or build's) result and message. */
static int plan_and_verify(const char *path, char **ret_msg, oci_plan **ret_plan) {
        oci_src *s = NULL;
        int r = oci_src_open(path, &s, ret_msg);
        if (r < 0)
                return r;
        oci_plan *p = NULL;
        r = oci_plan_build(s, &p, ret_msg);
        if (r >= 0)
                r = oci_plan_verify(s, p, ret_msg);
        if (ret_plan)
                *ret_plan = p;
        else
                oci_plan_free(p);
        oci_src_free(s);
        return r;
}

static void test_flipped_byte(void **state) {
        struct layout l;
        layout_init(&l);
        l.data[find(&l, l.criu)][123456] ^= 0x20;
        char *dir = write_dir(&l), *msg = NULL;
        assert_int_equal(plan_and_verify(dir, &msg, NULL), -EIO);
        assert_non_null(strstr(msg, l.criu));
        assert_non_null(strstr(msg, "damaged"));
        free(msg);
        char *tar = write_tar(&l, NULL);
        msg = NULL;
        assert_int_equal(plan_and_verify(tar, &msg, NULL), -EIO);
        assert_non_null(strstr(msg, l.criu));
        free(msg);
        /* A flipped byte in the manifest: found while walking. */
        l.data[find(&l, l.criu)][123456] ^= 0x20;
        l.data[find(&l, l.manifest)][5] ^= 0x01;
        th_rm_rf(dir);
        free(dir);
        dir = write_dir(&l);
        msg = NULL;
        assert_int_equal(plan_and_verify(dir, &msg, NULL), -EIO);
        assert_non_null(strstr(msg, l.manifest));
        free(msg);
        th_rm_rf(dir);
        free(dir);
        unlink(tar);
        free(tar);
        layout_free(&l);
}

static void test_missing_blob(void **state) {
        struct layout l;
        layout_init(&l);
        char *dir = write_dir(&l), path[4096], *msg = NULL;
        /* A missing leaf: named as not present (the importer asks the content store). */
        snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, l.criu + 7);
        assert_int_equal(unlink(path), 0);
        oci_plan *p = NULL;
        assert_int_equal(plan_and_verify(dir, &msg, &p), 0);
        assert_int_equal(p->n, 5);
        assert_int_equal(p->n_present, 4);
        assert_string_equal(p->blobs[2].digest, l.criu);
        assert_false(p->blobs[2].present);
        oci_plan_free(p);
        /* The image's own index missing: EIO at once. */
        snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, l.index + 7);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(plan_and_verify(dir, &msg, NULL), -EIO);
        assert_non_null(strstr(msg, l.index));
        free(msg);
        /* A blob that is a symlink (even to a good copy) is not read. */
        snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, l.index + 7);
        assert_int_equal(symlink("/etc/passwd", path), 0);
        msg = NULL;
        assert_int_equal(plan_and_verify(dir, &msg, NULL), -EIO);
        assert_non_null(strstr(msg, l.index));
        free(msg);
        th_rm_rf(dir);
        free(dir);
        layout_free(&l);
}

static void extra_dotdot(struct th_buf *t) {
        th_tar_file(t, "./blobs/../../evil", "x", 1);
}
static void extra_absolute(struct th_buf *t) {
        th_tar_file(t, "/etc/evil", "x", 1);
}
static void extra_symlink_out(struct th_buf *t) {
        th_tar_header(t, &(struct th_hdr) { .name = "./blobs/out", .type = '2', .linkname = "../../etc" });
}
static void extra_symlink_abs(struct th_buf *t) {
        th_tar_header(t, &(struct th_hdr) { .name = "./link", .type = '2', .linkname = "/etc/passwd" });
}
static void extra_device(struct th_buf *t) {
        th_tar_header(t, &(struct th_hdr) { .name = "./dev", .type = '3', .devmajor = 1, .devminor = 3 });
}
static void extra_hardlink_nowhere(struct th_buf *t) {
        th_tar_header(t, &(struct th_hdr) { .name = "./hl", .type = '1', .linkname = "etc/shadow" });
}
static void extra_oversized(struct th_buf *t) {
        static char big[(1u << 20) + 10];
        memset(big, 'a', sizeof(big) - 1);
        const char *kv[] = { "comment", big, NULL };
        th_tar_pax(t, false, kv, NULL);
        th_tar_file(t, "./after", "x", 1);
}
static void extra_symlink_inside(struct th_buf *t) {
        th_tar_header(t, &(struct th_hdr) { .name = "./blobs/sha256/in", .type = '2', .linkname = "../../oci-layout" });
}

static void expect_refused(void (*extra)(struct th_buf *), int err, const char *words) {
        struct layout l;
        layout_init(&l);
        char *tar = write_tar(&l, extra), *msg = NULL;
        oci_src *s = NULL;
        assert_int_equal(oci_src_open(tar, &s, &msg), err);
        assert_null(s);
        assert_non_null(msg);
        assert_non_null(strstr(msg, words));
        free(msg);
        unlink(tar);
        free(tar);
        layout_free(&l);
}

static void test_unsafe_tars(void **state) {
        expect_refused(extra_dotdot, -EINVAL, "..");
        expect_refused(extra_absolute, -EINVAL, "\"etc/evil\" has an absolute name");
        expect_refused(extra_symlink_out, -EINVAL, "symlink pointing out");
        expect_refused(extra_symlink_abs, -EINVAL, "symlink pointing out");
        expect_refused(extra_device, -EINVAL, "device file");
        expect_refused(extra_hardlink_nowhere, -EINVAL, "hard link");
        expect_refused(extra_oversized, -EBADMSG, "oversized");
        /* A symlink that stays inside is harmless (and never followed). */
        struct layout l;
        layout_init(&l);
        char *tar = write_tar(&l, extra_symlink_inside), *msg = NULL;
        assert_int_equal(plan_and_verify(tar, &msg, NULL), 0);
        unlink(tar);
        free(tar);
        layout_free(&l);
}

static void test_truncated_tar(void **state) {
        struct layout l;
        layout_init(&l);
        char *tar = write_tar(&l, NULL), *msg = NULL;
        struct stat st;
        assert_int_equal(stat(tar, &st), 0);
        assert_int_equal(truncate(tar, st.st_size / 2), 0);
        oci_src *s = NULL;
        assert_int_equal(oci_src_open(tar, &s, &msg), -EBADMSG);
        assert_non_null(strstr(msg, "truncated"));
        free(msg);
        unlink(tar);
        free(tar);
        assert_int_equal(oci_src_open("/nonexistent/layout", &s, &msg), -ENOENT);
        assert_int_equal(oci_src_open("/dev/null", &s, &msg), -EINVAL);
        free(msg);
        layout_free(&l);
}

static void test_parse(void **state) {
        char *path = NULL, *name = NULL, *msg = NULL;
        const char *line = "/tmp/x.tar name=ckpt/web:restored\n";
        assert_int_equal(oci_import_parse(line, strlen(line), &path, &name, &msg), 0);
        assert_string_equal(path, "/tmp/x.tar");
        assert_string_equal(name, "ckpt/web:restored");
        free(path);
        free(name);
        assert_int_equal(oci_import_parse("/a", 2, &path, &name, &msg), 0);
        assert_string_equal(path, "/a");
        assert_null(name);
        free(path);
        const char *bad[] = { "", "\n", "rel/path", "/a bogus", "/a name=x name=y", "/a\n/b" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                msg = NULL;
                assert_int_equal(oci_import_parse(bad[i], strlen(bad[i]), &path, &name, &msg), -EINVAL);
                assert_non_null(msg);
                free(msg);
        }
}

/* The name: io.containerd.image.name, else the ref name, else none; one image only. */
static void test_names(void **state) {
        struct layout l;
        layout_init(&l);
        char *dir = write_dir(&l), path[4096], buf[1024];
        snprintf(path, sizeof(path), "%s/index.json", dir);
        const char *variants[] = { ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"t1\"}", "", "" };
        const char *want[] = { "t1", NULL, NULL };
        for (int v = 0; v < 3; v++) {
                int n = snprintf(buf, sizeof(buf),
                                 "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"%s\",\"digest\":\"%s\","
                                 "\"size\":%zu%s}%s]}",
                                 MT_INDEX, l.index, l.len[find(&l, l.index)], variants[v],
                                 v == 2 ? ",{\"mediaType\":\"x\",\"digest\":\"sha256:00\",\"size\":1}" : "");
                assert_int_equal(th_write_file(path, buf, (size_t) n), 0);
                oci_plan *p = NULL;
                char *msg = NULL;
                int r = plan_and_verify(dir, &msg, &p);
                if (v == 2) {
                        assert_int_equal(r, -EINVAL);
                        assert_non_null(strstr(msg, "exactly one"));
                        free(msg);
                        continue;
                }
                assert_int_equal(r, 0);
                if (want[v])
                        assert_string_equal(p->name, want[v]);
                else
                        assert_null(p->name);
                oci_plan_free(p);
        }
        th_rm_rf(dir);
        free(dir);
        layout_free(&l);
}

/* Random damage to a good tar (flipped bytes in headers and data, cuts):
 * every outcome is 0 or a clean -errno, with a message on failure. */
static void test_fuzzed_tars(void **state) {
        struct layout l;
        layout_init(&l);
        char *good = write_tar(&l, NULL);
        void *data = NULL;
        size_t len = 0;
        assert_int_equal(th_read_file(good, &data, &len), 0);
        uint64_t seed = 7;
        int ok = 0, refused = 0;
        for (int i = 0; i < 300; i++) {
                uint8_t *copy = malloc(len);
                memcpy(copy, data, len);
                size_t n = len;
                int flips = 1 + (int) (th_rand(&seed) % 8);
                for (int f = 0; f < flips; f++) {
                        /* mostly in the first blocks of members: headers */
                        size_t at = th_rand(&seed) % 4 ? (th_rand(&seed) % (n / 512)) * 512 + th_rand(&seed) % 512
                                                      : th_rand(&seed) % n;
                        copy[at] ^= (uint8_t) (1 + th_rand(&seed) % 255);
                }
                if (th_rand(&seed) % 5 == 0)
                        n = th_rand(&seed) % n;
                assert_int_equal(th_write_file(good, copy, n), 0);
                free(copy);
                char *msg = NULL;
                int r = plan_and_verify(good, &msg, NULL);
                if (r == 0)
                        ok++;
                else {
                        assert_true(r == -EIO || r == -EINVAL || r == -EBADMSG);
                        assert_non_null(msg);
                        refused++;
                }
                free(msg);
        }
        assert_int_equal(ok + refused, 300);
        assert_true(refused > 200);
        free(data);
        unlink(good);
        free(good);
        layout_free(&l);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_good_dir),     cmocka_unit_test(test_good_tar),
                cmocka_unit_test(test_good_tar_gz),
                cmocka_unit_test(test_flipped_byte), cmocka_unit_test(test_missing_blob),
                cmocka_unit_test(test_unsafe_tars),  cmocka_unit_test(test_truncated_tar),
                cmocka_unit_test(test_parse),        cmocka_unit_test(test_fuzzed_tars),
                cmocka_unit_test(test_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
