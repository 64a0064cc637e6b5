/* store/criu/criu-stats: stats-dump images made by hand (IMG_SERVICE magic,
 * one stats_entry), their text and JSON, and images that are not one or
 * are damaged (-EBADMSG, -ENODATA; never a crash). A real stats-dump of a
 * ckptfs checkpoint: tests/integration/test-proc.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "criu-stats.h"
#include "criu_magic.h"
#include "criu_pstree.pb-c.h"
#include "criu_stats.pb-c.h"
#include "helpers.h"
#include "image-builder.h"
#include "json.h"
#include "pbmsg.h"

static int load(const struct th_img *i, struct criu_dump_stats *ret) {
        struct store_reader *r = NULL;
        assert_int_equal(th_reader_from_memory(i->buf, i->len, NULL, &r), 0);
        int k = criu_stats_load(r, ret);
        store_reader_free(r);
        return k;
}

/* A dump's statistics as CRIU 4.2.1 writes them (no irmap, no shpages). */
static void dump_stats(struct th_img *i) {
        DumpStatsEntry d = DUMP_STATS_ENTRY__INIT;
        StatsEntry s = STATS_ENTRY__INIT;
        d.freezing_time = 1200, d.frozen_time = 54321, d.memdump_time = 800, d.memwrite_time = 700;
        d.pages_scanned = 4096, d.pages_skipped_parent = 0, d.pages_written = 35, d.pages_lazy = 0;
        d.has_page_pipes = true, d.page_pipes = 2, d.has_page_pipe_bufs = true, d.page_pipe_bufs = 3;
        s.dump = &d;
        th_start2(i, IMG_SERVICE_MAGIC, STATS_MAGIC);
        th_put_record(i, &s.base);
}

static void test_dump(void **state) {
        (void) state;
        struct th_img i;
        dump_stats(&i);
        struct criu_dump_stats s;
        assert_int_equal(load(&i, &s), 0);
        assert_int_equal(s.v[CRIU_STAT_FROZEN_TIME], 54321);
        assert_int_equal(s.v[CRIU_STAT_PAGES_WRITTEN], 35);
        assert_false(s.present & (1u << CRIU_STAT_IRMAP_RESOLVE));

        char *t = NULL;
        size_t n = 0;
        assert_int_equal(criu_stats_text(&s, &t, &n), 0);
        assert_string_equal(t, "freezing_time: 1200 us\nfrozen_time: 54321 us\nmemdump_time: 800 us\n"
                               "memwrite_time: 700 us\npages_scanned: 4096\npages_skipped_parent: 0\n"
                               "pages_written: 35\npages_lazy: 0\npage_pipes: 2\npage_pipe_bufs: 3\n");
        assert_int_equal(n, strlen(t));
        free(t);

        json_t *j = NULL;
        assert_int_equal(criu_stats_json(&s, &j), 0);
        t = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        assert_string_equal(t, "{\"freezing_time\":1200,\"frozen_time\":54321,\"memdump_time\":800,"
                               "\"memwrite_time\":700,\"page_pipe_bufs\":3,\"page_pipes\":2,\"pages_lazy\":0,"
                               "\"pages_scanned\":4096,\"pages_skipped_parent\":0,\"pages_written\":35}");
        free(t);
        json_decref(j);
        assert_string_equal(criu_stat_name(CRIU_STAT_SHPAGES_WRITTEN), "shpages_written");
        assert_null(criu_stat_name(CRIU_STAT_N));
}

static void test_not_stats(void **state) {
        (void) state;
        struct th_img i;
        struct criu_dump_stats s;
        /* a restore's statistics: no dump part */
        StatsEntry e = STATS_ENTRY__INIT;
        th_start2(&i, IMG_SERVICE_MAGIC, STATS_MAGIC);
        th_put_record(&i, &e.base);
        assert_int_equal(load(&i, &s), -ENODATA);
        /* no record at all */
        th_start2(&i, IMG_SERVICE_MAGIC, STATS_MAGIC);
        assert_int_equal(load(&i, &s), -EBADMSG);
        /* another image */
        PstreeEntry p = PSTREE_ENTRY__INIT;
        i.len = 0;
        th_put_u32(&i, IMG_COMMON_MAGIC);
        th_put_u32(&i, PSTREE_MAGIC);
        th_put_record(&i, &p.base);
        assert_int_equal(load(&i, &s), -EBADMSG);
        /* no magic */
        i.len = 0;
        th_put(&i, "hello, world", 12);
        assert_int_equal(load(&i, &s), -EBADMSG);

        char *t = NULL;
        size_t n = 0;
        assert_int_equal(criu_stats_none_text(&t, &n), 0);
        assert_int_equal(strncmp(t, "no statistics", 13), 0);
        assert_int_equal(n, strlen(t));
        free(t);
}

/* Every truncation and every single-byte change of a real record: an
 * answer or -EBADMSG/-ENODATA, never a crash (ASan builds check the rest). */
static void test_damaged(void **state) {
        (void) state;
        struct th_img good, i;
        struct criu_dump_stats s;
        dump_stats(&good);
        for (size_t n = 0; n < good.len; n++) {
                i = good;
                i.len = n;
                int k = load(&i, &s);
                assert_true(k == -EBADMSG || k == -ENODATA);
        }
        for (size_t at = 0; at < good.len; at++)
                for (unsigned v = 0; v < 256; v += 17) {
                        i = good;
                        i.buf[at] = (uint8_t) v;
                        int k = load(&i, &s);
                        assert_true(k == 0 || k == -EBADMSG || k == -ENODATA);
                }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_dump),
                cmocka_unit_test(test_not_stats),
                cmocka_unit_test(test_damaged),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
