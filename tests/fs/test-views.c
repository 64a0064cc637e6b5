/* fs/ckpt-views.c offline: a catalog loaded from an sqlite cache (no daemon:
 * the rpc client points nowhere), and the kinds of the checkpoint tree
 * listing and rendering from it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "cleanup.h"
#include "db.h"
#include "ckpt-views.h"
#include "views.h"

#define D(c) "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
#define IDX D("1")
#define IDX2 D("2")
#define CRIU D("3")
#define RW D("4")
#define CFG D("5")
#define OPT D("6")
#define RTO D("7")

typedef struct env {
        char path[256];
        rpc_client *rpc;
        struct store_db *db;
        store_blobs *blobs;
        fs_ctx ctx;
} env;

static void put_image(struct store_db *db, const char *ns, const char *name, const char *digest, const char *labels) {
        struct store_image img = { .ns = ns, .name = name, .target_digest = digest,
                                   .target_mediatype = MT_INDEX, .target_size = 1000,
                                   .created = 1700000000LL * 1000000000LL, .labels_json = labels };
        assert_int_equal(store_db_put_image(db, &img), 0);
}

static int setup(void **state) {
        env *e = calloc(1, sizeof(*e));
        snprintf(e->path, sizeof(e->path), "/tmp/test-views-%d.db", getpid());
        unlink(e->path);
        assert_int_equal(store_db_open(e->path, &e->db), 0);
        /* Two checkpoints: a ctr one (found by its CRIU descriptor), one
         * labelled; and an ordinary image (not a checkpoint). */
        put_image(e->db, "ns1", "containerd.io/checkpoint/web:11-25-2026-10:38:53", IDX, NULL);
        put_image(e->db, "ns1", "plain:1", IDX2, "{\"containerd.io/checkpoint\":\"true\"}");
        /* A second name of IDX2 that no directory can show ('..'), which
         * sorts first: listed nowhere, not canonical. */
        put_image(e->db, "ns1", "plain/../x:1", IDX2, "{\"containerd.io/checkpoint\":\"true\"}");
        put_image(e->db, "ns1", "docker.io/library/busybox:latest", D("9"), NULL);
        struct store_descriptor kids[] = {
                { .digest = CRIU, .mediatype = MT_CRIU, .size = 10 },
                { .digest = RW, .mediatype = MT_LAYER_GZIP, .size = 20 },
                { .digest = CFG, .mediatype = MT_CKPT_CONFIG, .size = 30,
                  .annotations_json = "{\"a.b\":\"c\"}" },
                { .digest = OPT, .mediatype = MT_CKPT_OPTIONS, .size = 40 },
                { .digest = RTO, .mediatype = MT_RUNTIME_OPTIONS, .size = 50 },
                { .digest = D("8"), .mediatype = "application/x-unknown", .size = 60 },
        };
        assert_int_equal(store_db_put_descriptors(e->db, IDX, kids, 6), 0);
        for (size_t i = 0; i < 6; i++) {
                struct store_blob b = { .digest = kids[i].digest, .mediatype = kids[i].mediatype,
                                        .size = kids[i].size };
                assert_int_equal(store_db_put_blob(e->db, &b), 0);
        }
        assert_int_equal(store_db_put_descriptors(e->db, IDX2, kids, 1), 0);
        assert_int_equal(rpc_client_new("/nonexistent/ckptfs-test.sock", 300, &e->rpc), 0);
        assert_int_equal(store_blobs_new(e->rpc, NULL, &e->blobs), 0);
        e->ctx.db = e->db;
        e->ctx.blobs = e->blobs;
        assert_int_equal(store_catalog_new(e->rpc, e->db, e->blobs, NULL, &e->ctx.catalog), 0);
        *state = e;
        return 0;
}

static int teardown(void **state) {
        env *e = *state;
        store_catalog_free(e->ctx.catalog);
        store_blobs_free(e->blobs);
        store_db_close(e->db);
        rpc_client_free(e->rpc);
        unlink(e->path);
        free(e);
        return 0;
}

static fs_node node(fs_kind kind, const char *k0, const char *k1, const char *k2) {
        return (fs_node) { .kind = kind, .path = "", .name = "", .key = { (char *) k0, (char *) k1, (char *) k2 } };
}

static char *names_of(const fs_dirents *d) {
        static char buf[4096];
        buf[0] = 0;
        for (size_t i = 0; i < d->n; i++) {
                strcat(buf, d->v[i].name);
                strcat(buf, " ");
        }
        return buf;
}

static void test_name_tree(void **state) {
        env *e = *state;
        fs_dirents out = { 0 };
        fs_node n = node(FS_NS_CKPTS, "ns1", NULL, NULL);
        assert_int_equal(views_list_ns_ckpts(&e->ctx, &n, &out), 0);
        /* Nested parts are directories; the busybox image is not listed. */
        assert_string_equal(names_of(&out), "containerd.io plain:1 ");
        assert_int_equal(out.v[0].kind, FS_CKPT_PREFIX);
        assert_string_equal(out.v[0].key[1], "containerd.io");
        assert_int_equal(out.v[1].kind, FS_CKPT);
        fs_dirents_clear(&out);

        n = node(FS_CKPT_PREFIX, "ns1", "containerd.io/checkpoint", NULL);
        assert_int_equal(views_list_prefix(&e->ctx, &n, &out), 0);
        assert_string_equal(names_of(&out), "web:11-25-2026-10:38:53 ");
        assert_int_equal(out.v[0].kind, FS_CKPT);
        assert_string_equal(out.v[0].key[1], "containerd.io/checkpoint/web:11-25-2026-10:38:53");
        fs_dirents_clear(&out);

        /* containers/web/checkpoints/<tag> by the standard name */
        n = node(FS_CONTAINER_CKPTS, "ns1", "web", NULL);
        assert_int_equal(views_list_container_ckpts(&e->ctx, &n, &out), 0);
        assert_string_equal(names_of(&out), "11-25-2026-10:38:53 ");
        fs_dirents_clear(&out);

        n = node(FS_NS_CKPTS, "nope", NULL, NULL);
        assert_int_equal(views_list_ns_ckpts(&e->ctx, &n, &out), 0);
        assert_int_equal(out.n, 0);
}

/* by-digest/: each digest once, as the checkpoint dir of its canonical
 * name, aliased to that name's path. */
static void test_by_digest(void **state) {
        env *e = *state;
        fs_dirents out = { 0 };
        fs_node n = node(FS_BY_DIGEST, "ns1", NULL, NULL);
        assert_int_equal(views_list_by_digest(&e->ctx, &n, &out), 0);
        assert_int_equal(out.n, 2);
        assert_string_equal(out.v[0].name, IDX + 7);
        assert_int_equal(out.v[0].kind, FS_CKPT);
        assert_string_equal(out.v[0].salt, IDX);
        assert_string_equal(out.v[0].key[1], "containerd.io/checkpoint/web:11-25-2026-10:38:53");
        assert_string_equal(out.v[0].alias, "ns1/checkpoints/containerd.io/checkpoint/web:11-25-2026-10:38:53");
        assert_string_equal(out.v[1].key[1], "plain:1");
        fs_dirents_clear(&out);

        assert_int_equal(views_lookup_by_digest(&e->ctx, &n, IDX2 + 7, &out), 0);
        assert_int_equal(out.n, 1);
        assert_string_equal(out.v[0].alias, "ns1/checkpoints/plain:1");
        fs_dirents_clear(&out);
        assert_int_equal(views_lookup_by_digest(&e->ctx, &n, RW + 7, &out), -ENOENT);
        assert_int_equal(views_lookup_by_digest(&e->ctx, &n, "nothex", &out), -ENOENT);
        assert_int_equal(out.n, 0);

        /* The listing of an entry under by-digest/ is the named one's. */
        fs_node d = node(FS_CKPT, "ns1", "plain:1", NULL);
        d.salt = IDX2;
        assert_int_equal(views_list_ckpt(&e->ctx, &d, &out), 0);
        assert_non_null(fs_dirents_find(&out, "index.json"));
        fs_dirents_clear(&out);
        assert_false(views_name_shown("ns1", "plain/../x:1"));
        assert_true(views_name_shown("ns1", "plain:1"));
}

static void test_ckpt_dir(void **state) {
        env *e = *state;
        const char *name = "containerd.io/checkpoint/web:11-25-2026-10:38:53";
        fs_dirents out = { 0 };
        fs_node n = node(FS_CKPT, "ns1", name, NULL);
        assert_int_equal(views_list_ckpt(&e->ctx, &n, &out), 0);
        /* decoded/ (the CRIU images as JSON) when built with store/criu;
         * cri.tar whenever there is a CRIU tar. */
        assert_string_equal(names_of(&out), CKPTFS_CRIU_IMAGES
                                                    ? "index.json layout manifests config.json options.json task rw decoded proc cri.tar inspect.json summary restore push "
                                                    : "index.json layout manifests config.json options.json task rw cri.tar summary restore push ");
        assert_int_equal(fs_dirents_find(&out, "cri.tar")->kind, FS_CK_CRI_TAR);
        assert_int_equal(fs_dirents_find(&out, "push")->kind, FS_CTL_PUSH);
        if (CKPTFS_CRIU_IMAGES) {
                assert_int_equal(out.v[7].kind, FS_CK_DECODED);
                assert_string_equal(out.v[7].key[2], CRIU);
        }
        assert_int_equal(out.v[0].kind, FS_CK_BLOB);
        assert_string_equal(out.v[0].key[2], IDX);
        assert_string_equal(out.v[5].key[2], CRIU "/");
        fs_dirents_clear(&out);

        /* The same dir reached from containers/web/checkpoints/<tag>. */
        n = node(FS_CONTAINER_CKPT, "ns1", "web", "11-25-2026-10:38:53");
        assert_int_equal(views_list_ckpt(&e->ctx, &n, &out), 0);
        assert_int_equal(out.n, CKPTFS_CRIU_IMAGES ? 14 : 11);
        assert_string_equal(out.v[1].key[1], name);
        fs_dirents_clear(&out);

        n = node(FS_CK_MANIFESTS, "ns1", name, NULL);
        assert_int_equal(views_list_manifests(&e->ctx, &n, &out), 0);
        assert_string_equal(names_of(&out), "criu.tar rw.tar.gz config.pb options.pb runtime-options.pb "
                                            "8888888888888888888888888888888888888888888888888888888888888888.blob "
                                            "CACHEDIR.TAG ");
        fs_dirents_clear(&out);

        n = node(FS_CK_LAYOUT_SHA256, "ns1", name, NULL);
        assert_int_equal(views_list_layout_sha256(&e->ctx, &n, &out), 0);
        assert_int_equal(out.n, 7); /* the index and its six children */
        assert_string_equal(out.v[0].name, IDX + 7);
        fs_dirents_clear(&out);

        /* Sizes, times, xattrs of a blob file. */
        fs_node b = node(FS_CK_BLOB, "ns1", name, CFG);
        struct stat st = { 0 };
        assert_int_equal(views_blob_attr(&e->ctx, &b, &st), 0);
        assert_int_equal(st.st_size, 30);
        assert_int_equal(st.st_mtim.tv_sec, 1700000000);
        fs_xattrs x = { 0 };
        assert_int_equal(views_blob_xattrs(&e->ctx, &b, &x), 0);
        assert_int_equal(x.n, 3);
        assert_string_equal(x.v[0].name, "user.ckptfs.digest");
        assert_memory_equal(x.v[0].value, CFG, strlen(CFG));
        assert_string_equal(x.v[2].name, "user.ckptfs.annotation.a.b");
        fs_xattrs_clear(&x);
        b = node(FS_CK_BLOB, "ns1", name, D("a"));
        assert_int_equal(views_blob_attr(&e->ctx, &b, &st), -ENOENT);
}

/* task/: listing and lookups through the member index's tree (members
 * from the sqlite cache: no blob is read). */
static void test_tar_dir(void **state) {
        env *e = *state;
        const char *name = "containerd.io/checkpoint/web:11-25-2026-10:38:53";
        struct tar_member members[] = {
                { .path = (char *) "", .type = TAR_TYPE_DIR, .mode = 0755 },
                { .path = (char *) "pstree.img", .type = TAR_TYPE_REG, .mode = 0600, .size = 3 },
                { .path = (char *) "a/b/c", .type = TAR_TYPE_REG, .mode = 0644 }, /* a, a/b not listed */
                { .path = (char *) "a/h", .type = TAR_TYPE_HARDLINK, .link_target = (char *) "pstree.img" },
                { .path = (char *) "s", .type = TAR_TYPE_SYMLINK, .link_target = (char *) "a" },
                { .path = (char *) "p", .type = TAR_TYPE_FIFO },
                { .path = (char *) "s", .type = TAR_TYPE_REG }, /* the last one wins */
        };
        fs_dirents out = { 0 };
        struct stat st = { 0 };

        assert_int_equal(store_db_put_tar_members(e->db, CRIU, members, ELEMENTSOF(members)), 0);
        assert_int_equal(store_views_new(e->db, e->blobs, &e->ctx.views), 0);

        fs_node n = node(FS_CK_TAR_DIR, "ns1", name, CRIU "/");
        assert_int_equal(views_list_tar_dir(&e->ctx, &n, &out), 0);
        assert_string_equal(names_of(&out), "pstree.img a s p CACHEDIR.TAG ");
        assert_int_equal(out.v[0].kind, FS_CK_TAR_FILE);
        assert_int_equal(out.v[1].kind, FS_CK_TAR_DIR);
        assert_string_equal(out.v[1].key[2], CRIU "/a");
        assert_int_equal(out.v[2].kind, FS_CK_TAR_FILE);
        assert_int_equal(out.v[3].kind, FS_CK_TAR_SPECIAL);
        assert_int_equal(out.v[4].kind, FS_CK_CACHEDIR_TAG);
        fs_dirents_clear(&out);

        assert_int_equal(views_lookup_tar(&e->ctx, &n, "a", &out), 0);
        assert_int_equal(out.n, 1);
        assert_int_equal(out.v[0].kind, FS_CK_TAR_DIR);
        assert_string_equal(out.v[0].key[2], CRIU "/a");
        fs_dirents_clear(&out);
        assert_int_equal(views_lookup_tar(&e->ctx, &n, "CACHEDIR.TAG", &out), 0);
        assert_int_equal(out.v[0].kind, FS_CK_CACHEDIR_TAG);
        fs_dirents_clear(&out);
        assert_int_equal(views_lookup_tar(&e->ctx, &n, "b", &out), -ENOENT);
        assert_int_equal(out.n, 0);

        n = node(FS_CK_TAR_DIR, "ns1", name, CRIU "/a");
        assert_int_equal(views_list_tar_dir(&e->ctx, &n, &out), 0);
        assert_string_equal(names_of(&out), "b h ");
        assert_int_equal(out.v[0].kind, FS_CK_TAR_DIR);
        assert_int_equal(out.v[1].kind, FS_CK_TAR_FILE);
        assert_string_equal(out.v[1].key[2], CRIU "/a/h");
        fs_dirents_clear(&out);
        assert_int_equal(views_lookup_tar(&e->ctx, &n, "CACHEDIR.TAG", &out), -ENOENT);
        assert_int_equal(views_lookup_tar(&e->ctx, &n, "b", &out), 0);
        assert_string_equal(out.v[0].key[2], CRIU "/a/b");
        fs_dirents_clear(&out);

        /* A parent the archive does not list; a hard link shows its target. */
        assert_int_equal(views_tar_attr(&e->ctx, &n, &st), 0);
        assert_int_equal(st.st_mode, S_IFDIR | 0755);
        n = node(FS_CK_TAR_FILE, "ns1", name, CRIU "/a/h");
        assert_int_equal(views_tar_attr(&e->ctx, &n, &st), 0);
        assert_int_equal(st.st_mode & S_IFMT, S_IFREG);
        assert_int_equal(st.st_size, 3);
        e->ctx.views = store_views_free(e->ctx.views);
}

static void test_layout_index(void **state) {
        env *e = *state;
        const char *name = "containerd.io/checkpoint/web:11-25-2026-10:38:53";
        fs_node n = node(FS_CK_LAYOUT_INDEX, "ns1", name, NULL);
        char *s;
        size_t len;
        assert_int_equal(views_content_layout_index(&e->ctx, &n, &s, &len), 0);
        json_t *j = json_loadb(s, len, 0, NULL);
        assert_non_null(j);
        json_t *m = json_array_get(json_object_get(j, "manifests"), 0);
        assert_string_equal(json_string_value(json_object_get(m, "digest")), IDX);
        assert_int_equal(json_integer_value(json_object_get(m, "size")), 1000);
        json_t *a = json_object_get(m, "annotations");
        assert_string_equal(json_string_value(json_object_get(a, "io.containerd.image.name")), name);
        assert_string_equal(json_string_value(json_object_get(a, "org.opencontainers.image.ref.name")),
                            "11-25-2026-10:38:53");
        json_decref(j);
        free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_name_tree, setup, teardown),
                cmocka_unit_test_setup_teardown(test_by_digest, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ckpt_dir, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tar_dir, setup, teardown),
                cmocka_unit_test_setup_teardown(test_layout_index, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
