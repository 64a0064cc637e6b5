/* store/core/tarlink.c: what a tar member shows (hard links followed,
 * bounded), its file type and size. Pure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <sys/stat.h>

#include "tarindex-internal.h"
#include "tarlink.h"

static struct tar_index *index_of(const struct tar_member *m, size_t n) {
        struct tar_index *idx = calloc(1, sizeof(*idx));
        assert_non_null(idx);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(tar_index_append(idx, &m[i]), 0);
        assert_int_equal(tar_index_finish(idx), 0);
        return idx;
}

static void test_links(void **state) {
        const struct tar_member members[] = {
                { .path = (char *) "data", .type = TAR_TYPE_REG, .size = 5 },
                { .path = (char *) "h1", .type = TAR_TYPE_HARDLINK, .link_target = (char *) "data" },
                { .path = (char *) "h2", .type = TAR_TYPE_HARDLINK, .link_target = (char *) "h1" },
                { .path = (char *) "gone", .type = TAR_TYPE_HARDLINK, .link_target = (char *) "nothing" },
                { .path = (char *) "l1", .type = TAR_TYPE_HARDLINK, .link_target = (char *) "l2" },
                { .path = (char *) "l2", .type = TAR_TYPE_HARDLINK, .link_target = (char *) "l1" },
                { .path = (char *) "s", .type = TAR_TYPE_SYMLINK, .link_target = (char *) "../x" },
                { .path = (char *) "d", .type = TAR_TYPE_DIR },
                { .path = (char *) "c", .type = TAR_TYPE_CHAR },
        };
        struct tar_index *idx = index_of(members, sizeof(members) / sizeof(members[0]));
        const struct tar_member *data = tar_index_find(idx, "data");
        assert_ptr_equal(tar_link_resolve(idx, data), data);
        assert_ptr_equal(tar_link_resolve(idx, tar_index_find(idx, "h1")), data);
        assert_ptr_equal(tar_link_resolve(idx, tar_index_find(idx, "h2")), data);   /* a chain */
        assert_null(tar_link_resolve(idx, tar_index_find(idx, "gone")));
        assert_null(tar_link_resolve(idx, NULL));
        /* A loop ends at the bound, on a link (which has no data). */
        const struct tar_member *end = tar_link_resolve(idx, tar_index_find(idx, "l1"));
        assert_non_null(end);
        assert_int_equal(end->type, TAR_TYPE_HARDLINK);

        assert_int_equal(tar_member_shown_size(idx, tar_index_find(idx, "h2")), 5);
        assert_int_equal(tar_member_shown_size(idx, tar_index_find(idx, "gone")), 0);
        assert_int_equal(tar_member_shown_size(idx, tar_index_find(idx, "l1")), 0);
        assert_int_equal(tar_member_shown_size(idx, tar_index_find(idx, "s")), 4);
        assert_int_equal(tar_member_shown_size(idx, tar_index_find(idx, "d")), 0);

        assert_int_equal(tar_member_file_type(tar_index_find(idx, "h1")), S_IFREG);
        assert_int_equal(tar_member_file_type(tar_index_find(idx, "s")), S_IFLNK);
        assert_int_equal(tar_member_file_type(tar_index_find(idx, "d")), S_IFDIR);
        assert_int_equal(tar_member_file_type(tar_index_find(idx, "c")), S_IFCHR);
        tar_index_free(idx);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_links),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
