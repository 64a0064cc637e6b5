/* fs/paths.c: the entry names and paths of the fixed part of the tree, and
 * that a path too long is refused, never cut. Pure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>

#include "fs.h"
#include "paths.h"

static void assert_path(fs_kind kind, const char *ns, const char *k1, const char *k2, const char *want) {
        char buf[256];
        assert_int_equal(fs_path_of(buf, sizeof(buf), kind, ns, k1, k2), (int) strlen(want));
        assert_string_equal(buf, want);
}

static void test_paths(void **state) {
        assert_path(FS_ROOT, NULL, NULL, NULL, "");
        assert_path(FS_NAMESPACE, "default", NULL, NULL, "default");
        assert_path(FS_CONTAINERS, "default", NULL, NULL, "default/containers");
        assert_path(FS_CONTAINER, "default", "web", NULL, "default/containers/web");
        assert_path(FS_STATUS, "default", "web", NULL, "default/containers/web/status");
        assert_path(FS_CONTAINER_JSON, "default", "web", NULL, "default/containers/web/container.json");
        assert_path(FS_PIDS, "default", "web", NULL, "default/containers/web/pids");
        assert_path(FS_METRICS_JSON, "default", "web", NULL, "default/containers/web/metrics.json");
        assert_path(FS_CTL_CHECKPOINT, "default", "web", NULL, "default/containers/web/checkpoint");
        assert_path(FS_CONTAINER_CKPTS, "default", "web", NULL, "default/containers/web/checkpoints");
        assert_path(FS_CONTAINER_CKPT, "default", "web", "v1", "default/containers/web/checkpoints/v1");
        assert_path(FS_NS_CKPTS, "default", NULL, NULL, "default/checkpoints");
        assert_path(FS_CKPT_PREFIX, "default", "containerd.io/checkpoint", NULL,
                    "default/checkpoints/containerd.io/checkpoint");
        assert_path(FS_CKPT, "default", "a/b:c", NULL, "default/checkpoints/a/b:c");
        assert_path(FS_BY_DIGEST, "default", NULL, NULL, "default/by-digest");
        assert_path(FS_CTL_IMPORT, "default", NULL, NULL, "default/import");
}

/* Below by-digest/<hex>/ the files take the canonical name's path, the
 * directories keep their own and carry the alias down; and what is shared
 * is exactly what is not a directory. */
static void test_child_paths(void **state) {
        char *path, *alias;
        fs_node_spec dir = { .kind = FS_CKPT, .name = "abc", .alias = "n/checkpoints/web:v1" };
        assert_int_equal(fs_child_path("n/by-digest", NULL, &dir, &path, &alias), 0);
        assert_string_equal(path, "n/by-digest/abc");
        assert_string_equal(alias, "n/checkpoints/web:v1");
        free(path);
        free(alias);
        fs_node_spec file = { .kind = FS_CK_BLOB, .name = "index.json" };
        assert_int_equal(fs_child_path("n/by-digest/abc", "n/checkpoints/web:v1", &file, &path, &alias), 0);
        assert_string_equal(path, "n/checkpoints/web:v1/index.json");
        assert_null(alias);
        free(path);
        fs_node_spec sub = { .kind = FS_CK_TAR_DIR, .name = "rw" };
        assert_int_equal(fs_child_path("n/by-digest/abc", "n/checkpoints/web:v1", &sub, &path, &alias), 0);
        assert_string_equal(path, "n/by-digest/abc/rw");
        assert_string_equal(alias, "n/checkpoints/web:v1/rw");
        free(path);
        free(alias);
        assert_int_equal(fs_child_path("n/checkpoints/web:v1", NULL, &file, &path, &alias), 0);
        assert_string_equal(path, "n/checkpoints/web:v1/index.json");
        assert_null(alias);
        free(path);
        fs_node_spec root = { .kind = FS_ROOT, .name = "" };
        assert_int_equal(fs_child_path(NULL, NULL, &root, &path, &alias), 0);
        assert_string_equal(path, "");
        free(path);
        for (fs_kind k = FS_CKPT; k < FS_KIND_MAX; k++)
                assert_int_equal(fs_kind_shared(k), !S_ISDIR(fs_kinds[k].mode));
}

static void test_names(void **state) {
        assert_string_equal(fs_kind_entry_name(FS_CONTAINERS), "containers");
        assert_string_equal(fs_kind_entry_name(FS_NS_CKPTS), "checkpoints");
        assert_string_equal(fs_kind_entry_name(FS_CONTAINER_CKPTS), "checkpoints");
        assert_string_equal(fs_kind_entry_name(FS_STATUS), "status");
        assert_null(fs_kind_entry_name(FS_CONTAINER));
        assert_null(fs_kind_entry_name(FS_KIND_MAX));
}

static void test_errors(void **state) {
        char buf[24];
        /* "default/containers/web/status" does not fit in 24 bytes. */
        assert_int_equal(fs_path_of(buf, sizeof(buf), FS_STATUS, "default", "web", NULL), -ENAMETOOLONG);
        assert_string_equal(buf, "");
        assert_int_equal(fs_path_of(buf, sizeof(buf), FS_CONTAINER, "default", NULL, NULL), -EINVAL);
        assert_int_equal(fs_path_of(buf, sizeof(buf), FS_CONTAINER_CKPT, "n", "c", NULL), -EINVAL);
        assert_int_equal(fs_path_of(buf, sizeof(buf), FS_CK_BLOB, "n", "c", NULL), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_paths),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_child_paths),
                cmocka_unit_test(test_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
