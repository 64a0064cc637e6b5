/* store/criu: CRIU images made by hand (framing, magics, payloads, crit's
 * value formats) and corrupt ones (-EBADMSG, never a crash). Real dumps
 * against crit: tests/integration/test-criu-images.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "criu-image.h"
#include "criu_magic.h"
#include "criu_pagemap.pb-c.h"
#include "criu_pipe_data.pb-c.h"
#include "criu_pstree.pb-c.h"
#include "criu_vma.pb-c.h"
#include "criu_mm.pb-c.h"
#include "helpers.h"
#include "image-builder.h"
#include "json.h"
#include "pbmsg.h"

/* The image as compact JSON text with sorted keys, or NULL with *ret_err. */
static char *decode(const struct th_img *i, int *ret_err) {
        struct store_reader *r = NULL;
        json_t *j = NULL;
        assert_int_equal(th_reader_from_memory(i->buf, i->len, NULL, &r), 0);
        *ret_err = criu_image_json(r, &j);
        store_reader_free(r);
        if (*ret_err < 0)
                return NULL;
        char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(j);
        return s;
}

static void expect(const struct th_img *i, const char *json) {
        int err;
        char *s = decode(i, &err);
        assert_int_equal(err, 0);
        assert_string_equal(s, json);
        free(s);
}

static void expect_error(const struct th_img *i, int error) {
        int err;
        char *s = decode(i, &err);
        assert_null(s);
        assert_int_equal(err, error);
}

static void pstree(struct th_img *i) {
        uint32_t threads[] = { 7, 8 };
        PstreeEntry a = PSTREE_ENTRY__INIT, b = PSTREE_ENTRY__INIT;
        a.pid = 7, a.pgid = 7, a.sid = 1, a.n_threads = 2, a.threads = threads;
        b.pid = 9, b.ppid = 7, b.pgid = 7, b.sid = 1;
        th_start(i, PSTREE_MAGIC);
        th_put_record(i, &a.base);
        th_put_record(i, &b.base);
}

static void test_pstree(void **state) {
        (void) state;
        struct th_img i;
        pstree(&i);
        /* b has no threads: crit leaves empty repeated fields out. */
        expect(&i, "{\"entries\":[{\"pgid\":7,\"pid\":7,\"ppid\":0,\"sid\":1,\"threads\":[7,8]},"
                   "{\"pgid\":7,\"pid\":9,\"ppid\":7,\"sid\":1}],\"magic\":\"PSTREE\"}");
        th_start(&i, PSTREE_MAGIC);
        expect(&i, "{\"entries\":[],\"magic\":\"PSTREE\"}");
}

static void test_corrupt(void **state) {
        (void) state;
        struct th_img i;
        pstree(&i);
        size_t full = i.len;
        /* Every cut inside the records: truncated length or message. */
        for (i.len = 9; i.len < full; i.len++) {
                int err;
                char *s = decode(&i, &err);
                if (!s)
                        assert_int_equal(err, -EBADMSG);
                free(s);
        }
        i.len = full - 1;
        expect_error(&i, -EBADMSG);
        i.len = 6;
        expect_error(&i, -EBADMSG);
        /* A bad magic, and a raw image (page data: no magic at all). */
        th_start(&i, 0x12345678);
        expect_error(&i, -EBADMSG);
        memset(i.buf, 0, 64);
        i.len = 64;
        expect_error(&i, -EBADMSG);
        /* Oversized length, and a length just past the end. */
        th_start(&i, PSTREE_MAGIC);
        th_put_u32(&i, 0xffffffffu);
        th_put(&i, "xxxx", 4);
        expect_error(&i, -EBADMSG);
        th_start(&i, PSTREE_MAGIC);
        th_put_u32(&i, 5);
        th_put(&i, "\x08\x01\x10", 3);
        expect_error(&i, -EBADMSG);
        /* Bytes that are no pstree_entry (required fields missing). */
        th_start(&i, PSTREE_MAGIC);
        th_put_u32(&i, 2);
        th_put(&i, "\x08\x01", 2);
        expect_error(&i, -EBADMSG);
        th_start(&i, PSTREE_MAGIC);
        th_put_u32(&i, 3);
        th_put(&i, "\xff\xff\xff", 3);
        expect_error(&i, -EBADMSG);
}

static void test_pipe_data_extra(void **state) {
        (void) state;
        struct th_img i;
        PipeDataEntry p = PIPE_DATA_ENTRY__INIT;
        p.pipe_id = 42, p.bytes = 4;
        th_start(&i, PIPES_DATA_MAGIC);
        th_put_record(&i, &p.base);
        th_put(&i, "DATA", 4);
        p.bytes = 0;
        th_put_record(&i, &p.base);
        /* base64 as Python's encodebytes: with the newline. */
        expect(&i, "{\"entries\":[{\"bytes\":4,\"extra\":\"REFUQQ==\\n\",\"pipe_id\":42},"
                   "{\"bytes\":0,\"extra\":\"\",\"pipe_id\":42}],\"magic\":\"PIPES_DATA\"}");
        /* A payload past the end. */
        th_start(&i, PIPES_DATA_MAGIC);
        p.bytes = 5;
        th_put_record(&i, &p.base);
        th_put(&i, "DATA", 4);
        expect_error(&i, -EBADMSG);
}

static void test_pagemap_and_formats(void **state) {
        (void) state;
        struct th_img i;
        PagemapHead h = PAGEMAP_HEAD__INIT;
        PagemapEntry e = PAGEMAP_ENTRY__INIT;
        h.pages_id = 3;
        e.vaddr = 0x7f0000001000, e.compat_nr_pages = 2, e.has_flags = 1, e.flags = 4 | 8;
        th_start(&i, PAGEMAP_MAGIC);
        th_put_record(&i, &h.base);
        th_put_record(&i, &e.base);
        expect(&i, "{\"entries\":[{\"pages_id\":3},{\"compat_nr_pages\":2,\"flags\":\"PE_PRESENT | 0x8\","
                   "\"vaddr\":\"0x7f0000001000\"}],\"magic\":\"PAGEMAP\"}");

        VmaEntry v = VMA_ENTRY__INIT, *vp = &v;
        MmEntry m = MM_ENTRY__INIT;
        v.start = 0x1000, v.end = 0x3000, v.prot = 3, v.flags = 0x22, v.status = 0x201, v.fd = -1;
        m.n_vmas = 1, m.vmas = &vp, m.exe_file_id = 1;
        m.has_dumpable = 1, m.dumpable = -1;
        th_start(&i, MM_MAGIC);
        th_put_record(&i, &m.base);
        int err;
        char *s = decode(&i, &err);
        assert_non_null(s);
        assert_non_null(strstr(s, "\"prot\":\"PROT_READ | PROT_WRITE\""));
        assert_non_null(strstr(s, "\"flags\":\"MAP_PRIVATE | MAP_ANON\""));
        assert_non_null(strstr(s, "\"status\":\"VMA_AREA_REGULAR | VMA_ANON_PRIVATE\""));
        assert_non_null(strstr(s, "\"start\":\"0x1000\""));
        assert_non_null(strstr(s, "\"fd\":-1"));
        assert_non_null(strstr(s, "\"dumpable\":-1"));
        free(s);
}

static void test_inventory_single_magic(void **state) {
        (void) state;
        struct th_img i = { .len = 0 };
        th_put_u32(&i, INVENTORY_MAGIC);
        expect(&i, "{\"entries\":[],\"magic\":\"INVENTORY\"}");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pstree),
                cmocka_unit_test(test_corrupt),
                cmocka_unit_test(test_pipe_data_extra),
                cmocka_unit_test(test_pagemap_and_formats),
                cmocka_unit_test(test_inventory_single_magic),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
