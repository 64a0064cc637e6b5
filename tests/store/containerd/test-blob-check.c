/* store/containerd/blob-check.c: which opened blobs are checked how, and
 * the queries fs/ops.c serves by; store/containerd/ckpt-files.c: the pure
 * parts (which files a checkpoint has, names, layout/index.json). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blob-check.h"
#include "helpers.h"
#include "ckpt-files.h"
#include "vocab.h"

static const char *data = "hello\n";
static const char *good = "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
static const char *bad = "sha256:0000b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

static store_opened_blob *open_memory(store_blobs *b, const char *digest) {
        struct store_reader *rd;
        assert_int_equal(th_reader_from_memory(data, 6, NULL, &rd), 0);
        store_opened_blob *o;
        assert_int_equal(store_opened_blob_open(b, rd, digest, &o), 0);
        return o;
}

/* Through Content.Read (no fd): checked as read, pages not kept. */
static void test_streamed(void **state) {
        char buf[8];
        int fd;
        uint64_t off;
        store_opened_blob *o = open_memory(NULL, good);
        assert_false(store_opened_blob_may_keep_pages(o));
        assert_false(store_opened_blob_direct_fd(o, &fd, &off));
        assert_true(store_opened_blob_passthrough(o, &fd));
        assert_int_equal(fd, -1);
        assert_int_equal(store_opened_blob_size(o), 6);
        assert_int_equal(store_opened_blob_read(o, buf, 3, 0), 3);
        assert_int_equal(store_opened_blob_read(o, buf, 8, 3), 3);
        store_opened_blob_close(o);

        o = open_memory(NULL, bad);
        assert_int_equal(store_opened_blob_read(o, buf, 3, 0), 3);
        assert_int_equal(store_opened_blob_read(o, buf, 8, 3), -EIO);
        assert_int_equal(store_opened_blob_read(o, buf, 8, 3), -EIO);   /* and every later read */
        store_opened_blob_close(o);
}

/* A tar member (no digest): not checked, not passed through. */
static void test_member(void **state) {
        char buf[8];
        int fd;
        store_opened_blob *o = open_memory(NULL, NULL);
        assert_true(store_opened_blob_may_keep_pages(o));
        assert_false(store_opened_blob_passthrough(o, &fd));
        assert_int_equal(store_opened_blob_read(o, buf, 8, 0), 6);
        store_opened_blob_close(o);
}

/* The local file: checked whole at open; then read by the kernel. */
static void test_local_file(void **state) {
        char dir[] = "/tmp/ckptfs-blobcheck.XXXXXX", path[64];
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/blob", dir);
        FILE *f = fopen(path, "w");
        fputs(data, f);
        fclose(f);
        store_blobs *b;
        assert_int_equal(store_blobs_new(NULL, dir, &b), 0);

        struct store_reader *rd;
        assert_int_equal(th_reader_open(path, &rd), 0);
        store_opened_blob *o;
        assert_int_equal(store_opened_blob_open(b, rd, bad, &o), -EIO);
        int fd;
        uint64_t off;
        assert_int_equal(store_opened_blob_open(b, rd, good, &o), 0);
        assert_true(store_opened_blob_may_keep_pages(o));
        assert_true(store_opened_blob_passthrough(o, &fd));
        assert_int_equal(fd, rd->fd);
        assert_true(store_opened_blob_direct_fd(o, &fd, &off));
        assert_int_equal(off, 0);
        store_opened_blob_close(o);

        store_blobs_free(b);
        unlink(path);
        rmdir(dir);
}

static void test_parts(void **state) {
        store_desc v[] = {
                { .digest = (char *) "sha256:1", .mediatype = (char *) MT_CRIU },
                { .digest = (char *) "sha256:2", .mediatype = (char *) MT_DOCKER_LAYER },
                { .digest = (char *) "sha256:3", .mediatype = (char *) MT_LAYER_GZIP },
                { .digest = (char *) "sha256:4", .mediatype = (char *) MT_RUNTIME_OPTIONS },
        };
        store_descs d = { .v = v, .n = 4 };
        store_ckpt_parts p = store_ckpt_parts_of(&d);
        assert_ptr_equal(p.criu, &v[0]);
        assert_ptr_equal(p.layer, &v[1]);   /* the first layer */
        assert_null(p.config);
        assert_false(store_ckpt_has_config_json(&p));
        assert_true(store_ckpt_has_options_json(&p));   /* runtime options alone */
        d.n = 3;
        p = store_ckpt_parts_of(&d);
        assert_false(store_ckpt_has_options_json(&p));

        assert_string_equal(store_ckpt_manifest_name(MT_CRIU), "criu.tar");
        assert_string_equal(store_ckpt_manifest_name(MT_DOCKER_LAYER), "rw.tar.gz");
        assert_null(store_ckpt_manifest_name("application/x-unknown"));
        assert_string_equal(store_ckpt_ref_name("containerd.io/checkpoint/web:11-25-2026-10:38:53"),
                            "11-25-2026-10:38:53");
        assert_string_equal(store_ckpt_ref_name("a:b/c"), "a:b/c");
}

static int collect(const char *key, const char *value, void *userdata) {
        char *out = userdata;
        strcat(out, key);
        strcat(out, "=");
        strcat(out, value);
        strcat(out, " ");
        return strcmp(key, "stop") == 0 ? -E2BIG : 0;
}

static void test_annotations_and_index(void **state) {
        char out[256] = "";
        store_desc d = { .annotations_json = (char *) "{\"a.b\":\"c\",\"n\":1,\"x\":\"y\"}" };
        assert_int_equal(store_desc_foreach_annotation(&d, collect, out), 0);
        assert_string_equal(out, "a.b=c x=y ");
        out[0] = 0;
        d.annotations_json = (char *) "{\"stop\":\"1\",\"later\":\"2\"}";
        assert_int_equal(store_desc_foreach_annotation(&d, collect, out), -E2BIG);
        assert_string_equal(out, "stop=1 ");
        d.annotations_json = (char *) "not json";
        assert_int_equal(store_desc_foreach_annotation(&d, collect, out), 0);

        store_ckpt ck = { .name = (char *) "backup/web:v1",
                          .target = { .digest = (char *) "sha256:1", .mediatype = (char *) MT_INDEX, .size = 9 } };
        char *s;
        size_t len;
        assert_int_equal(store_ckpt_layout_index(&ck, &s, &len), 0);
        assert_int_equal(strlen(s), len);
        assert_int_not_equal(s[len - 1], '\n');
        json_t *j = json_loads(s, 0, NULL);
        json_t *a = json_object_get(json_array_get(json_object_get(j, "manifests"), 0), "annotations");
        assert_string_equal(json_string_value(json_object_get(a, ANN_IMAGE_NAME)), "v1");
        assert_string_equal(json_string_value(json_object_get(a, ANN_CONTAINERD_IMAGE_NAME)), "backup/web:v1");
        json_decref(j);
        free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_streamed),
                cmocka_unit_test(test_member),
                cmocka_unit_test(test_local_file),
                cmocka_unit_test(test_parts),
                cmocka_unit_test(test_annotations_and_index),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
