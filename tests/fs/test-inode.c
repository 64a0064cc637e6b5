/* The inode table: stable numbers, real lookup counts, forget. Pure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "inode.h"
#include "strv.h"

static fs_node *ref(inode_table *t, const fs_node *parent, fs_kind kind, const char *name) {
        fs_node *n = NULL;
        fs_node_spec spec = { .kind = kind, .name = name, .key = { name, NULL, NULL } };
        assert_int_equal(inode_table_ref(t, parent, &spec, &n), 0);
        assert_non_null(n);
        return n;
}

static void test_root(void **state) {
        inode_table *t;
        assert_int_equal(inode_table_new(&t), 0);
        fs_node *root = inode_table_get(t, FS_ROOT_INO);
        assert_int_equal(root->ino, FS_ROOT_INO);
        assert_ptr_equal(inode_table_get(t, FS_ROOT_INO), root);
        assert_string_equal(root->path, "");
        /* Forgetting the root never frees it. */
        inode_table_forget(t, FS_ROOT_INO, 100);
        assert_ptr_equal(inode_table_get(t, FS_ROOT_INO), root);
        inode_table_free(t);
}

static void test_paths_and_numbers(void **state) {
        inode_table *t;
        assert_int_equal(inode_table_new(&t), 0);
        fs_node *ns = ref(t, inode_table_get(t, FS_ROOT_INO), FS_NAMESPACE, "default");
        fs_node *cs = ref(t, ns, FS_CONTAINERS, "containers");
        assert_string_equal(ns->path, "default");
        assert_string_equal(cs->path, "default/containers");
        assert_true(ns->ino > FS_ROOT_INO);
        /* The number is a function of the path: the same in another table
         * (a remount), and what readdir announces. */
        assert_int_equal(cs->ino, inode_number_for("default/containers", NULL));
        inode_table *t2;
        assert_int_equal(inode_table_new(&t2), 0);
        fs_node *ns2 = ref(t2, inode_table_get(t2, FS_ROOT_INO), FS_NAMESPACE, "default");
        fs_node *cs2 = ref(t2, ns2, FS_CONTAINERS, "containers");
        assert_int_equal(cs2->ino, cs->ino);
        assert_string_equal(NODE_NS(ns), "default");
        inode_table_free(t2);
        inode_table_free(t);
}

static fs_node *ref_salted(inode_table *t, const fs_node *parent, fs_kind kind, const char *name, const char *salt) {
        fs_node *n = NULL;
        fs_node_spec spec = { .kind = kind, .name = name, .key = { name, NULL, NULL }, .salt = salt };
        assert_int_equal(inode_table_ref(t, parent, &spec, &n), 0);
        return n;
}

/* A checkpoint dir's numbers depend on its target too: a re-pointed name
 * gets new ones (the whole subtree), still stable across remounts. */
static void test_salted(void **state) {
        inode_table *t, *t2;
        assert_int_equal(inode_table_new(&t), 0);
        assert_int_equal(inode_table_new(&t2), 0);
        fs_node *cks = ref(t, inode_table_get(t, FS_ROOT_INO), FS_NS_CKPTS, "checkpoints");
        fs_node *a = ref_salted(t, cks, FS_CKPT, "web:v1", "sha256:aaa");
        fs_node *a_idx = ref(t, a, FS_CK_BLOB, "index.json");
        assert_string_equal(a_idx->salt, "sha256:aaa");
        assert_int_equal(a->ino, inode_number_for("checkpoints/web:v1", "sha256:aaa"));
        assert_int_equal(a_idx->ino, inode_number_for("checkpoints/web:v1/index.json", "sha256:aaa"));
        assert_true(a->ino != inode_number_for("checkpoints/web:v1", NULL));
        /* The same name re-pointed: other nodes, other numbers. */
        fs_node *b = ref_salted(t, cks, FS_CKPT, "web:v1", "sha256:bbb");
        fs_node *b_idx = ref(t, b, FS_CK_BLOB, "index.json");
        assert_ptr_not_equal(b, a);
        assert_true(b->ino != a->ino && b_idx->ino != a_idx->ino);
        assert_ptr_equal(ref_salted(t, cks, FS_CKPT, "web:v1", "sha256:aaa"), a);
        assert_int_equal(a->nlookup, 2);
        /* A remount: the same numbers. */
        fs_node *cks2 = ref(t2, inode_table_get(t2, FS_ROOT_INO), FS_NS_CKPTS, "checkpoints");
        fs_node *b2 = ref_salted(t2, cks2, FS_CKPT, "web:v1", "sha256:bbb");
        assert_int_equal(ref(t2, b2, FS_CK_BLOB, "index.json")->ino, b_idx->ino);
        /* Unsalted nodes keep the plain path hash. */
        assert_null(cks->salt);
        assert_int_equal(cks->ino, inode_number_for("checkpoints", NULL));
        inode_table_free(t2);
        inode_table_free(t);
}

/* by-digest/<hex>/ (aliased to the canonical name's path): its files are
 * the named dir's nodes, its directories nodes of their own. */
static void test_alias(void **state) {
        inode_table *t;
        assert_int_equal(inode_table_new(&t), 0);
        fs_node *root = inode_table_get(t, FS_ROOT_INO);
        fs_node *cks = ref(t, root, FS_NS_CKPTS, "checkpoints");
        fs_node *named = ref_salted(t, cks, FS_CKPT, "web:v1", "sha256:aaa");
        fs_node *idx = ref(t, named, FS_CK_BLOB, "index.json");
        fs_node *layout = ref(t, named, FS_CK_LAYOUT, "layout");
        fs_node *li = ref(t, layout, FS_CK_LAYOUT_INDEX, "index.json");

        fs_node *byd = ref(t, root, FS_BY_DIGEST, "by-digest");
        fs_node *d = NULL;
        fs_node_spec spec = { .kind = FS_CKPT, .name = "aaa", .key = { "aaa", NULL, NULL }, .salt = "sha256:aaa",
                              .alias = "checkpoints/web:v1" };
        assert_int_equal(inode_table_ref(t, byd, &spec, &d), 0);
        assert_string_equal(d->path, "by-digest/aaa");
        assert_string_equal(d->alias, "checkpoints/web:v1");
        assert_true(d->ino != named->ino);
        uint64_t announced;
        assert_int_equal(inode_number_of_child(byd, &spec, &announced), 0);
        assert_int_equal(announced, d->ino);

        /* Files: the very nodes of the name. */
        assert_ptr_equal(ref(t, d, FS_CK_BLOB, "index.json"), idx);
        assert_int_equal(idx->nlookup, 2);
        /* Directories: their own, aliased in turn; their files shared. */
        fs_node *dl = ref(t, d, FS_CK_LAYOUT, "layout");
        assert_ptr_not_equal(dl, layout);
        assert_string_equal(dl->path, "by-digest/aaa/layout");
        assert_string_equal(dl->alias, "checkpoints/web:v1/layout");
        assert_ptr_equal(ref(t, dl, FS_CK_LAYOUT_INDEX, "index.json"), li);
        fs_node_spec file = { .kind = FS_CK_LAYOUT_INDEX, .name = "index.json" };
        assert_int_equal(inode_number_of_child(dl, &file, &announced), 0);
        assert_int_equal(announced, li->ino);

        /* Another canonical name: another by-digest node. */
        spec.alias = "checkpoints/web:a0";
        fs_node *d2 = NULL;
        assert_int_equal(inode_table_ref(t, byd, &spec, &d2), 0);
        assert_ptr_not_equal(d2, d);
        assert_true(d2->ino != d->ino);

        /* The entries of by-digest/ the kernel holds. */
        char **names, **k1;
        assert_int_equal(inode_table_children(t, "by-digest", FS_CKPT, &names, &k1), 0);
        assert_int_equal(strv_length(names), 2);
        assert_string_equal(names[0], "aaa");
        strv_free(names);
        strv_free(k1);
        assert_int_equal(inode_table_children(t, "checkpoints", FS_BY_DIGEST, &names, &k1), 0);
        assert_null(names[0]);
        strv_free(names);
        strv_free(k1);
        inode_table_free(t);
}

static void test_lookup_counts(void **state) {
        inode_table *t;
        assert_int_equal(inode_table_new(&t), 0);
        fs_node *a = ref(t, inode_table_get(t, FS_ROOT_INO), FS_NAMESPACE, "a");
        fs_node *again = ref(t, inode_table_get(t, FS_ROOT_INO), FS_NAMESPACE, "a");
        assert_ptr_equal(a, again);
        assert_int_equal(a->nlookup, 2);
        uint64_t ino = a->ino;
        assert_ptr_equal(inode_table_get(t, ino), a);
        inode_table_forget(t, ino, 1);
        assert_ptr_equal(inode_table_get(t, ino), a);
        inode_table_forget(t, ino, 1);
        assert_null(inode_table_get(t, ino));
        assert_non_null(inode_table_get(t, FS_ROOT_INO));
        /* Forgetting an unknown number is harmless (a stale forget). */
        inode_table_forget(t, ino, 1);
        /* Looked up again: the same number. */
        fs_node *b = ref(t, inode_table_get(t, FS_ROOT_INO), FS_NAMESPACE, "a");
        assert_int_equal(b->ino, ino);
        inode_table_free(t);
}

/* Many nodes in and out: growth and deletion keep every live node findable. */
static void test_churn(void **state) {
        inode_table *t;
        assert_int_equal(inode_table_new(&t), 0);
        enum { N = 5000 };
        static uint64_t inos[N];
        char name[32];
        for (int i = 0; i < N; i++) {
                snprintf(name, sizeof(name), "c%d", i);
                inos[i] = ref(t, inode_table_get(t, FS_ROOT_INO), FS_CONTAINER, name)->ino;
        }
        for (int i = 0; i < N; i++)
                assert_int_equal(inode_table_get(t, inos[i])->ino, inos[i]);
        for (int i = 0; i < N; i += 2)
                inode_table_forget(t, inos[i], 1);
        for (int i = 0; i < N; i++) {
                fs_node *n = inode_table_get(t, inos[i]);
                if (i % 2 == 0) {
                        assert_null(n);
                } else {
                        assert_non_null(n);
                        snprintf(name, sizeof(name), "c%d", i);
                        assert_string_equal(n->name, name);
                }
        }
        assert_non_null(inode_table_get(t, FS_ROOT_INO));
        inode_table_free(t);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_root),
                cmocka_unit_test(test_paths_and_numbers),
                cmocka_unit_test(test_lookup_counts),
                cmocka_unit_test(test_salted),
                cmocka_unit_test(test_alias),
                cmocka_unit_test(test_churn),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
