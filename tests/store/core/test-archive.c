/* store/core/archive-*.c: checkpoint archives of other engines into an OCI
 * layout. CRI-style archives built here (th_tar_*): the kind, the layout's
 * files and blobs read back (the CRIU tar through tarindex, the config Any
 * through decode.h, the gzip rw layer through gzindex), and the archives
 * that must be refused: traversal and absolute names, links out, devices,
 * truncated headers, zstd, an unknown layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "decode.h"
#include "gzindex.h"
#include "helpers.h"
#include "tarindex.h"

#define SPEC "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"sh\"]}}"
#define CONFIG "{\"id\":\"c1\",\"rootfsImageName\":\"docker.io/library/busybox:1\",\"runtime\":\"io.containerd.runc.v2\"}"

/* A containerd-CRI archive: checkpoint/ (two files, out of order), the
 * dumps, rootfs-diff.tar (gzip when gz_rw), plus `extra` when given. */
static void cri_archive(struct th_buf *t, bool gz_rw, const char *spec, const char *extra) {
        th_tar_file(t, "checkpoint/pages-1.img", "PAGES", 5);
        th_tar_file(t, "checkpoint/inventory.img", "INV", 3);
        th_tar_file(t, "spec.dump", spec, strlen(spec));
        th_tar_file(t, "config.dump", CONFIG, strlen(CONFIG));
        if (!extra || strcmp(extra, "no-status") != 0)
                th_tar_file(t, "status.dump", "{}", 2);
        else
                th_tar_file(t, "bind.mounts", "[]", 2);
        struct th_buf rw = { 0 };
        th_tar_file(&rw, "rw-marker", "rw\n", 3);
        th_tar_end(&rw);
        struct th_buf gz = { 0 };
        if (gz_rw)
                th_gzip(&gz, rw.p, rw.len, 6);
        th_tar_file(t, "rootfs-diff.tar", gz_rw ? gz.p : rw.p, gz_rw ? gz.len : rw.len);
        if (extra && strcmp(extra, "no-status") != 0)
                th_tar_file(t, extra, "x", 1);
        th_tar_end(t);
        th_buf_free(&rw);
        th_buf_free(&gz);
}

static int open_buf(struct th_buf *t, store_archive **ret, char *err, size_t errlen) {
        struct store_reader *r;
        assert_int_equal(th_reader_from_memory(t->p, t->len, NULL, &r), 0);
        int e = store_archive_open(r, ret, err, errlen);
        if (e < 0)
                store_reader_free(r);
        return e;
}

static void *blob(const char *dir, const char *digest, size_t *len) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, digest + 7);
        void *data = NULL;
        assert_int_equal(th_read_file(path, &data, len), 0);
        return data;
}

static const char *desc_digest(json_t *index, const char *mt) {
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(index, "manifests"), i, d)
                if (strcmp(json_string_value(json_object_get(d, "mediaType")), mt) == 0)
                        return json_string_value(json_object_get(d, "digest"));
        return NULL;
}

static void check_criu(const char *dir, const char *digest) {
        size_t len;
        void *data = blob(dir, digest, &len);
        struct store_reader *r;
        assert_int_equal(th_reader_from_memory(data, len, free, &r), 0);
        struct tar_index *idx;
        assert_int_equal(tarindex_build(r, &idx), 0);
        assert_int_equal(idx->n, 2);
        assert_string_equal(idx->members[0].path, "inventory.img"); /* flat and sorted */
        assert_string_equal(idx->members[1].path, "pages-1.img");
        char buf[8] = { 0 };
        assert_int_equal(store_reader_read_exact(r, buf, 5, idx->members[1].data_offset), 0);
        assert_string_equal(buf, "PAGES");
        tar_index_free(idx);
        store_reader_free(r);
}

static json_t *convert(struct th_buf *t, const char *dir, store_convert_result *res, store_archive_kind kind) {
        store_archive *a;
        char err[256] = "";
        assert_int_equal(open_buf(t, &a, err, sizeof(err)), 0);
        assert_int_equal(store_archive_get_kind(a), kind);
        store_convert_opts o = { .name = "example.com/ckpt:v1" };
        assert_int_equal(store_archive_convert(a, &o, dir, res, err, sizeof(err)), 0);
        store_archive_free(a);
        size_t len;
        void *data = blob(dir, res->index_digest, &len);
        json_t *index = json_loadb(data, len, 0, NULL);
        free(data);
        assert_non_null(index);
        return index;
}

static void test_cri(void **state) {
        (void) state;
        struct th_buf t = { 0 };
        cri_archive(&t, true, SPEC, NULL);
        char *dir = th_mkdtemp();
        store_convert_result res;
        json_t *index = convert(&t, dir, &res, ARCHIVE_CONTAINERD_CRI);
        json_t *ann = json_object_get(index, "annotations");
        assert_string_equal(json_string_value(json_object_get(ann, "org.opencontainers.image.ref.name")),
                            "docker.io/library/busybox:1");
        assert_string_equal(json_string_value(json_object_get(ann, "io.containerd.checkpoint.runtime")),
                            "io.containerd.runc.v2");
        assert_string_equal(json_string_value(json_object_get(ann, "io.containerd.checkpoint.snapshotter")),
                            "overlayfs");
        assert_int_equal(json_array_size(json_object_get(index, "manifests")), 4);
        assert_int_equal(res.criu_members, 2);
        assert_int_equal(res.rw_recompressed, 0);
        check_criu(dir, desc_digest(index, "application/vnd.containerd.container.criu.checkpoint.criu.tar"));
        size_t len;
        uint8_t *cfg = blob(dir, desc_digest(index, "application/vnd.containerd.container.checkpoint.config.v1+proto"),
                            &len);
        uint8_t *spec;
        size_t spec_len;
        assert_int_equal(store_decode_config_spec(cfg, len, &spec, &spec_len), 0);
        assert_int_equal(spec_len, strlen(SPEC));
        assert_memory_equal(spec, SPEC, spec_len); /* byte for byte: root.path is rootfs already */
        free(spec);
        free(cfg);
        void *lay = NULL;
        char path[4200];
        snprintf(path, sizeof(path), "%s/index.json", dir);
        assert_int_equal(th_read_file(path, &lay, &len), 0);
        json_t *l = json_loadb(lay, len, 0, NULL);
        json_t *m0 = json_array_get(json_object_get(l, "manifests"), 0);
        assert_string_equal(json_string_value(json_object_get(m0, "digest")), res.index_digest);
        assert_string_equal(json_string_value(json_object_get(json_object_get(m0, "annotations"),
                                                              "io.containerd.image.name")),
                            "example.com/ckpt:v1");
        json_decref(l);
        free(lay);

        /* the same archive gzip-compressed: the same image */
        struct th_buf gz = { 0 };
        th_gzip(&gz, t.p, t.len, 1);
        store_convert_result res2;
        json_t *index2 = convert(&gz, dir, &res2, ARCHIVE_CONTAINERD_CRI);
        assert_string_equal(res2.index_digest, res.index_digest);
        json_decref(index2);
        json_decref(index);
        th_buf_free(&gz);
        th_buf_free(&t);
        th_rm_rf(dir);
        free(dir);
}

/* CRI-O: a plain rootfs-diff.tar is compressed; root.path goes back to rootfs. */
static void test_crio_podman(void **state) {
        (void) state;
        struct th_buf t = { 0 };
        cri_archive(&t, false, "{\"root\":{\"path\":\"/var/lib/containers/x/merged\",\"readonly\":false}}", "no-status");
        char *dir = th_mkdtemp();
        store_convert_result res;
        json_t *index = convert(&t, dir, &res, ARCHIVE_CRIO);
        assert_int_equal(res.rw_recompressed, 1);
        size_t len;
        void *rw = blob(dir, desc_digest(index, "application/vnd.oci.image.layer.v1.tar+gzip"), &len);
        struct store_reader *r;
        assert_int_equal(th_reader_from_memory(rw, len, free, &r), 0);
        struct gzindex *gi;
        assert_int_equal(gzindex_build(r, 0, &gi), 0);
        struct store_reader *u;
        assert_int_equal(gzindex_reader_new(gi, r, GZREADER_OWN_INDEX | GZREADER_OWN_SOURCE, &u), 0);
        struct tar_index *idx;
        assert_int_equal(tarindex_build(u, &idx), 0);
        assert_string_equal(idx->members[0].path, "rw-marker");
        tar_index_free(idx);
        store_reader_free(u);
        uint8_t *cfg = blob(dir, desc_digest(index, "application/vnd.containerd.container.checkpoint.config.v1+proto"),
                            &len);
        uint8_t *spec;
        size_t spec_len;
        assert_int_equal(store_decode_config_spec(cfg, len, &spec, &spec_len), 0);
        assert_non_null(strstr((char *) spec, "\"root\":{\"path\":\"rootfs\",\"readonly\":false}"));
        free(spec);
        free(cfg);
        json_decref(index);
        th_buf_free(&t);

        cri_archive(&t, true, SPEC, "network.status");
        index = convert(&t, dir, &res, ARCHIVE_PODMAN);
        json_decref(index);
        th_buf_free(&t);
        th_rm_rf(dir);
        free(dir);
}

/* Podman with crun and systemd cgroups: runc's shim options say so. */
static void test_podman_runtime(void **state) {
        (void) state;
        static const char spec[] = "{\"root\":{\"path\":\"/x/merged\"},\"linux\":{\"cgroupsPath\":"
                                   "\"machine.slice:libpod:0123\"}}";
        static const char config[] = "{\"rootfsImageName\":\"localhost/bb:1\",\"runtime\":\"crun\"}";
        struct th_buf t = { 0 };
        th_tar_file(&t, "checkpoint/inventory.img", "INV", 3);
        th_tar_file(&t, "spec.dump", spec, strlen(spec));
        th_tar_file(&t, "config.dump", config, strlen(config));
        th_tar_file(&t, "network.status", "[]", 2);
        th_tar_end(&t);
        char *dir = th_mkdtemp();
        store_convert_result res;
        json_t *index = convert(&t, dir, &res, ARCHIVE_PODMAN);
        assert_int_equal(res.rw_size, -1); /* no rootfs-diff.tar: no rw layer */
        assert_null(desc_digest(index, "application/vnd.oci.image.layer.v1.tar+gzip"));
        assert_string_equal(json_string_value(json_object_get(json_object_get(index, "annotations"),
                                                              "io.containerd.checkpoint.runtime")),
                            "io.containerd.runc.v2");
        const char *d = desc_digest(index, "application/vnd.containerd.container.checkpoint.runtime.options+proto");
        assert_non_null(d);
        assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(index, "manifests"), 0),
                                                              "digest")),
                            d); /* first, as ctr orders them */
        size_t len;
        uint8_t *ro = blob(dir, d, &len);
        char *js;
        size_t js_len;
        assert_int_equal(store_decode_options(NULL, 0, ro, len, &js, &js_len), 0);
        json_t *j = json_loads(js, 0, NULL);
        json_t *rt = json_object_get(j, "runtime");
        assert_string_equal(json_string_value(json_object_get(rt, "binary_name")), "crun");
        assert_true(json_is_true(json_object_get(rt, "systemd_cgroup")));
        json_decref(j);
        free(js);
        free(ro);
        json_decref(index);
        th_buf_free(&t);
        th_rm_rf(dir);
        free(dir);
}

/* ---------------------------------------------------------------- files.img's root mode */
static void pb_varint(struct th_buf *b, uint64_t v) {
        do {
                uint8_t c = (uint8_t) ((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
                th_buf_put(b, &c, 1);
                v >>= 7;
        } while (v);
}

static void pb_len(struct th_buf *b, unsigned num, const void *p, size_t n) {
        pb_varint(b, num << 3 | 2);
        pb_varint(b, n);
        th_buf_put(b, p, n);
}

/* A FileEntry record of a regular file: id, name, mode (0: none). */
static void file_record(struct th_buf *img, unsigned id, const char *name, uint32_t mode) {
        struct th_buf reg = { 0 }, fe = { 0 };
        pb_varint(&reg, 1 << 3), pb_varint(&reg, id);
        pb_varint(&reg, 2 << 3), pb_varint(&reg, 0);
        pb_varint(&reg, 3 << 3), pb_varint(&reg, 0);
        pb_len(&reg, 5, "\x08\x00", 2);
        pb_len(&reg, 6, name, strlen(name));
        pb_varint(&reg, 7 << 3), pb_varint(&reg, 96 * 2);
        if (mode)
                pb_varint(&reg, 10 << 3), pb_varint(&reg, mode);
        pb_varint(&reg, 11 << 3), pb_varint(&reg, 0xdeadbeef); /* a field after the mode */
        pb_varint(&fe, 1 << 3), pb_varint(&fe, 1);
        pb_varint(&fe, 2 << 3), pb_varint(&fe, id);
        pb_len(&fe, 3, reg.p, reg.len);
        uint8_t len[4] = { (uint8_t) fe.len, (uint8_t) (fe.len >> 8), 0, 0 };
        th_buf_put(img, len, 4);
        th_buf_put(img, fe.p, fe.len);
        th_buf_free(&reg);
        th_buf_free(&fe);
}

static void files_img(struct th_buf *img, uint32_t root_mode, uint32_t cwd_mode) {
        th_buf_put(img, "\x19\x43\x56\x54\x38\x31\x30\x56", 8); /* IMG_COMMON, FILES */
        file_record(img, 1, "/bin/busybox", 0100755);
        file_record(img, 5, "/", cwd_mode);
        file_record(img, 6, "/", root_mode);
        file_record(img, 7, "/tmp", 040555); /* not the root: as it is */
        file_record(img, 8, "/x", 0);
}

static void test_root_mode(void **state) {
        (void) state;
        struct th_buf in = { 0 }, want = { 0 };
        files_img(&in, 040555, 040000); /* 040000 needs a longer varint than 040755 */
        files_img(&want, 040755, 040755);
        uint8_t *out;
        size_t len;
        unsigned changed;
        assert_int_equal(store_archive_fix_root_mode(in.p, in.len, 040755, &out, &len, &changed), 0);
        assert_int_equal(changed, 2);
        assert_int_equal(len, want.len);
        assert_memory_equal(out, want.p, len);
        uint8_t *again;
        size_t len2;
        assert_int_equal(store_archive_fix_root_mode(out, len, 040755, &again, &len2, &changed), 0);
        assert_int_equal(changed, 0); /* nothing left to change: the same bytes */
        assert_int_equal(len2, len);
        assert_memory_equal(again, out, len);
        free(again);
        free(out);
        for (size_t cut = 1; cut < 12; cut++) /* truncated records */
                assert_int_equal(store_archive_fix_root_mode(in.p, in.len - cut, 040755, &out, &len, &changed),
                                 -EBADMSG);
        uint64_t seed = 11; /* damaged bytes: 0 or -EBADMSG, never a crash (valgrind, ASan) */
        for (int i = 0; i < 2000; i++) {
                uint8_t *copy = malloc(in.len);
                memcpy(copy, in.p, in.len);
                for (int k = 0; k < 3; k++)
                        copy[8 + th_rand(&seed) % (in.len - 8)] = (uint8_t) th_rand(&seed);
                int r = store_archive_fix_root_mode(copy, in.len, 040755, &out, &len, &changed);
                assert_true(r == 0 || r == -EBADMSG);
                if (r == 0)
                        free(out);
                free(copy);
        }
        in.p[4] ^= 1; /* not FILES */
        assert_int_equal(store_archive_fix_root_mode(in.p, in.len, 040755, &out, &len, &changed), -EBADMSG);
        th_buf_free(&in);
        th_buf_free(&want);
}

static void refused(struct th_buf *t, int want, const char *msg) {
        store_archive *a = NULL;
        char err[256] = "";
        assert_int_equal(open_buf(t, &a, err, sizeof(err)), want);
        if (!strstr(err, msg))
                fail_msg("message \"%s\" lacks \"%s\"", err, msg);
        th_buf_free(t);
}

static void base_members(struct th_buf *t) {
        th_tar_file(t, "checkpoint/inventory.img", "INV", 3);
        th_tar_file(t, "spec.dump", SPEC, strlen(SPEC));
        th_tar_file(t, "config.dump", CONFIG, strlen(CONFIG));
        th_tar_file(t, "status.dump", "{}", 2);
}

static void test_refused_names(void **state) {
        (void) state;
        struct th_buf t = { 0 };
        base_members(&t);
        th_tar_file(&t, "checkpoint/../../etc/passwd", "x", 1);
        th_tar_end(&t);
        refused(&t, -EINVAL, "unsafe member name");

        base_members(&t);
        th_tar_file(&t, "/etc/passwd", "x", 1);
        th_tar_end(&t);
        refused(&t, -EINVAL, "/etc/passwd is absolute");

        base_members(&t); /* absolute through the ustar prefix */
        th_tar_header(&t, &(struct th_hdr) { .name = "passwd", .prefix = "/etc", .size = 1 });
        th_tar_data(&t, "x", 1);
        th_tar_end(&t);
        refused(&t, -EINVAL, "is absolute");

        base_members(&t); /* absolute in a pax path */
        th_tar_pax(&t, false, (const char *const[]) { "mtime", "1", "path", "/etc/shadow", NULL }, NULL);
        th_tar_file(&t, "harmless", "x", 1);
        th_tar_end(&t);
        refused(&t, -EINVAL, "etc/shadow is absolute");

        base_members(&t); /* absolute in a GNU long name */
        th_tar_gnu_long(&t, 'L', "/etc/gshadow");
        th_tar_file(&t, "harmless", "x", 1);
        th_tar_end(&t);
        refused(&t, -EINVAL, "etc/gshadow is absolute");

        base_members(&t); /* a relative pax path is fine */
        th_tar_pax(&t, false, (const char *const[]) { "path", "etc/ok", NULL }, NULL);
        th_tar_file(&t, "harmless", "x", 1);
        th_tar_end(&t);
        store_archive *a = NULL;
        assert_int_equal(open_buf(&t, &a, NULL, 0), 0);
        assert_non_null(tar_index_find(store_archive_index(a), "etc/ok"));
        store_archive_free(a);
        th_buf_free(&t);

        base_members(&t); /* .. in a pax path */
        th_tar_pax(&t, false, (const char *const[]) { "path", "a/../../b", NULL }, NULL);
        th_tar_file(&t, "harmless", "x", 1);
        th_tar_end(&t);
        refused(&t, -EINVAL, "unsafe member name");
}

static void test_refused_kinds(void **state) {
        (void) state;
        struct th_buf t = { 0 };
        base_members(&t);
        th_tar_header(&t, &(struct th_hdr) { .name = "checkpoint/link", .type = '2', .linkname = "../../../etc/shadow" });
        th_tar_end(&t);
        refused(&t, -EINVAL, "points out of the archive");

        base_members(&t);
        th_tar_header(&t, &(struct th_hdr) { .name = "etc/abs", .type = '2', .linkname = "/etc/shadow" });
        th_tar_end(&t);
        refused(&t, -EINVAL, "points out of the archive");

        base_members(&t); /* a link that stays inside is fine outside checkpoint/ ... */
        th_tar_header(&t, &(struct th_hdr) { .name = "etc/mtab", .type = '2', .linkname = "../proc/mounts" });
        th_tar_end(&t);
        store_archive *a = NULL;
        assert_int_equal(open_buf(&t, &a, NULL, 0), 0);
        store_archive_free(a);
        th_buf_free(&t);

        base_members(&t); /* ... but not in it */
        th_tar_header(&t, &(struct th_hdr) { .name = "checkpoint/l", .type = '2', .linkname = "inventory.img" });
        th_tar_end(&t);
        refused(&t, -EINVAL, "is not a regular file");

        base_members(&t);
        th_tar_header(&t, &(struct th_hdr) { .name = "dev/null", .type = '3', .devmajor = 1, .devminor = 3 });
        th_tar_end(&t);
        refused(&t, -EINVAL, "dev/null is a device file");

        size_t big = (16u << 20) + 1;
        char *zeros = calloc(1, big);
        assert_non_null(zeros);
        th_tar_file(&t, "checkpoint/inventory.img", "INV", 3);
        th_tar_file(&t, "spec.dump", zeros, big);
        th_tar_file(&t, "config.dump", CONFIG, strlen(CONFIG));
        th_tar_end(&t);
        free(zeros);
        refused(&t, -EINVAL, "spec.dump is not a regular file of at most 16 MiB");
}

static void test_refused_corrupt(void **state) {
        (void) state;
        struct th_buf t = { 0 };
        cri_archive(&t, true, SPEC, NULL);
        t.len = 512 + 300; /* inside the second header */
        refused(&t, -EBADMSG, "corrupt");

        base_members(&t); /* a header whose size runs past the end */
        th_tar_header(&t, &(struct th_hdr) { .name = "checkpoint/pages-1.img", .size = 1u << 30 });
        th_tar_end(&t);
        refused(&t, -EBADMSG, "corrupt");

        base_members(&t);
        th_tar_header(&t, &(struct th_hdr) { .name = "x", .size = 1, .checksum_delta = 3 });
        th_tar_data(&t, "x", 1);
        th_tar_end(&t);
        refused(&t, -EBADMSG, "corrupt");

        th_buf_put(&t, "\x28\xb5\x2f\xfd" "zstd frame", 14);
        refused(&t, -EPROTONOSUPPORT, "zstd");

        th_tar_file(&t, "hello.txt", "hi", 2);
        th_tar_end(&t);
        refused(&t, -EMEDIUMTYPE, "not a checkpoint archive");

        th_tar_file(&t, "checkpoint/inventory.img", "INV", 3);
        th_tar_file(&t, "spec.dump", SPEC, strlen(SPEC));
        th_tar_file(&t, "config.dump", CONFIG, strlen(CONFIG));
        th_tar_end(&t);
        refused(&t, -EMEDIUMTYPE, "unknown engine");
}

/* A spec.dump or config.dump that is not JSON fails the conversion, not the open. */
static void test_bad_json(void **state) {
        (void) state;
        struct th_buf t = { 0 };
        cri_archive(&t, true, "not json", NULL);
        store_archive *a;
        char err[256] = "";
        assert_int_equal(open_buf(&t, &a, err, sizeof(err)), 0);
        char *dir = th_mkdtemp();
        store_convert_result res;
        store_convert_opts o = { .name = "x/y:z" };
        assert_int_equal(store_archive_convert(a, &o, dir, &res, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, "spec.dump is not a JSON object"));
        o.name = "";
        assert_int_equal(store_archive_convert(a, &o, dir, &res, err, sizeof(err)), -EINVAL);
        store_archive_free(a);
        th_buf_free(&t);
        th_rm_rf(dir);
        free(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cri),
                cmocka_unit_test(test_crio_podman),
                cmocka_unit_test(test_podman_runtime),
                cmocka_unit_test(test_root_mode),
                cmocka_unit_test(test_refused_names),
                cmocka_unit_test(test_refused_kinds),
                cmocka_unit_test(test_refused_corrupt),
                cmocka_unit_test(test_bad_json),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
