/* store/criu: criu-mem, the memory of a dumped process, over synthetic
 * mm/pagemap/pages images (criu-format.md §4): holes read as zeros, ranges
 * spanning VMAs, entries without data (PE_LAZY alone, PE_PARENT) taking no
 * room in pages-N.img, SEEK_DATA/SEEK_HOLE answers, argv/env, and corrupt
 * images (-EBADMSG, never a crash). Real dumps: tests/integration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "criu-mem.h"
#include "criu_magic.h"
#include "criu_mm.pb-c.h"
#include "criu_pagemap.pb-c.h"
#include "helpers.h"
#include "pbmsg.h"

#define PG 4096u
#define PE_PARENT 1u
#define PE_LAZY 2u
#define PE_PRESENT 4u

/* One member of the fake dump, grown as it is built. */
struct file {
        const char *name;
        uint8_t *buf;
        size_t len;
};

struct dump {
        struct file f[3]; /* mm-7.img, pagemap-7.img, pages-2.img */
};

static void put(struct file *f, const void *p, size_t n) {
        f->buf = realloc(f->buf, f->len + n);
        assert_non_null(f->buf);
        memcpy(f->buf + f->len, p, n);
        f->len += n;
}

static void put_u32(struct file *f, uint32_t v) {
        put(f, &v, sizeof(v));
}

static void put_record(struct file *f, const ProtobufCMessage *m) {
        uint8_t *b = NULL;
        size_t n = 0;
        assert_int_equal(pb_msg_pack(m, &b, &n), 0);
        put_u32(f, (uint32_t) n);
        put(f, b, n);
        free(b);
}

static void start(struct file *f, const char *name, uint32_t magic) {
        free(f->buf);
        *f = (struct file){ .name = name };
        put_u32(f, IMG_COMMON_MAGIC);
        put_u32(f, magic);
}

static int open_member(void *ctx, const char *name, struct store_reader **ret) {
        struct dump *d = ctx;
        for (size_t i = 0; i < 3; i++)
                if (d->f[i].name && !strcmp(d->f[i].name, name))
                        return th_reader_from_memory(d->f[i].buf, d->f[i].len, NULL, ret);
        return -ENOENT;
}

static void dump_free(struct dump *d) {
        for (size_t i = 0; i < 3; i++)
                free(d->f[i].buf);
}

static void put_mm(struct dump *d, uint64_t arg_start, uint64_t arg_end, uint64_t env_end) {
        VmaEntry v[2] = { VMA_ENTRY__INIT, VMA_ENTRY__INIT }, *vp[2] = { &v[0], &v[1] };
        v[0].start = 0x10000, v[0].end = 0x14000, v[0].prot = 3, v[0].flags = 0x22, v[0].status = 0x201;
        v[1].start = 0x14000, v[1].end = 0x18000, v[1].prot = 3, v[1].flags = 0x22, v[1].status = 0x201;
        v[0].fd = v[1].fd = -1;
        MmEntry m = MM_ENTRY__INIT;
        m.n_vmas = 2, m.vmas = vp;
        m.mm_arg_start = arg_start, m.mm_arg_end = arg_end;
        m.mm_env_start = arg_end, m.mm_env_end = env_end;
        start(&d->f[0], "mm-7.img", MM_MAGIC);
        put_record(&d->f[0], &m.base);
}

static void put_entry(struct file *f, uint64_t vaddr, uint32_t nr, int flags) {
        PagemapEntry e = PAGEMAP_ENTRY__INIT;
        e.vaddr = vaddr, e.compat_nr_pages = nr;
        if (flags >= 0)
                e.has_flags = 1, e.flags = (uint32_t) flags;
        put_record(f, &e.base);
}

static void put_page(struct file *f, char c) {
        uint8_t p[PG];
        memset(p, c, PG);
        put(f, p, PG);
}

/* VMAs [0x10000,0x14000) [0x14000,0x18000); present pages A at 0x10000, B C
 * at 0x13000 (across the VMA border), D at 0x17000 (an entry without flags,
 * as older CRIU wrote); no data for 0x12000 (lazy) and 0x16000 (parent).
 * argv "wl\0-x\0" and env "K=V\0" at 0x10010 in page A. */
static void build(struct dump *d) {
        memset(d, 0, sizeof(*d));
        put_mm(d, 0x10010, 0x10016, 0x1001a);
        struct file *pm = &d->f[1], *pg = &d->f[2];
        start(pm, "pagemap-7.img", PAGEMAP_MAGIC);
        PagemapHead h = PAGEMAP_HEAD__INIT;
        h.pages_id = 2;
        put_record(pm, &h.base);
        put_entry(pm, 0x10000, 1, PE_PRESENT);
        put_entry(pm, 0x12000, 1, PE_LAZY);
        put_entry(pm, 0x13000, 2, PE_PRESENT | PE_LAZY);
        put_entry(pm, 0x16000, 1, PE_PARENT);
        put_entry(pm, 0x17000, 1, -1);
        *pg = (struct file){ .name = "pages-2.img" };
        put_page(pg, 'A');
        memcpy(pg->buf + 0x10, "wl\0-x\0K=V\0", 10);
        put_page(pg, 'B');
        put_page(pg, 'C');
        put_page(pg, 'D');
}

static struct criu_mem *open_ok(struct dump *d) {
        struct criu_mem *m = NULL;
        assert_int_equal(criu_mem_open(open_member, d, 7, &m), 0);
        assert_non_null(m);
        return m;
}

static void expect_bytes(struct criu_mem *m, uint64_t vaddr, const char *want, size_t len) {
        char buf[64];
        size_t n = 0;
        assert_true(len <= sizeof(buf));
        assert_int_equal(criu_mem_read(m, vaddr, buf, len, &n), 0);
        assert_int_equal(n, len);
        assert_memory_equal(buf, want, len);
}

static void test_index(void **state) {
        (void) state;
        struct dump d;
        build(&d);
        struct criu_mem *m = open_ok(&d);
        size_t n;
        const struct criu_mem_range *r = criu_mem_ranges(m, &n);
        /* Only the present entries; their offsets skip lazy and parent pages. */
        assert_int_equal(n, 3);
        assert_int_equal(r[0].vaddr, 0x10000), assert_int_equal(r[0].nr_pages, 1);
        assert_int_equal(r[0].pages_off, 0);
        assert_int_equal(r[1].vaddr, 0x13000), assert_int_equal(r[1].nr_pages, 2);
        assert_int_equal(r[1].pages_off, PG);
        assert_int_equal(r[2].vaddr, 0x17000), assert_int_equal(r[2].pages_off, 3 * PG);
        criu_mem_free(m);
        dump_free(&d);
}

static void test_read(void **state) {
        (void) state;
        struct dump d;
        build(&d);
        struct criu_mem *m = open_ok(&d);
        static const char zeros[16];
        expect_bytes(m, 0x10000, "AAAA", 4);
        expect_bytes(m, 0x11000, zeros, 16);                       /* hole inside a VMA */
        expect_bytes(m, 0x10ffc, "AAAA\0\0\0\0", 8);               /* data then hole */
        expect_bytes(m, 0x12ffc, "\0\0\0\0BBBB", 8);               /* lazy page is a hole */
        expect_bytes(m, 0x13ffc, "BBBBCCCC", 8);                   /* pages in order */
        expect_bytes(m, 0x14ffc, "CCCC\0\0\0\0", 8);               /* across the VMA border */
        expect_bytes(m, 0x16000, zeros, 16);                       /* parent's page: not here */
        expect_bytes(m, 0x17ffc, "DDDD\0\0\0\0", 8);               /* flags absent: present */
        expect_bytes(m, 0, zeros, 16);                             /* below everything */
        /* One read over everything: A, hole, B C, hole, D. */
        size_t len = 0x8000, got = 0;
        char *all = malloc(len);
        assert_int_equal(criu_mem_read(m, 0x10000, all, len, &got), 0);
        assert_int_equal(got, len);
        assert_int_equal(all[0x20], 'A'), assert_int_equal(all[0x1000], 0);
        assert_int_equal(all[0x3000], 'B'), assert_int_equal(all[0x4fff], 'C');
        assert_int_equal(all[0x5000], 0), assert_int_equal(all[0x7000], 'D');
        free(all);
        /* The end of the address space bounds a read. */
        char b[8];
        assert_int_equal(criu_mem_read(m, UINT64_MAX - 3, b, 8, &got), 0);
        assert_int_equal(got, 3);
        criu_mem_free(m);
        dump_free(&d);
}

static void test_seek(void **state) {
        (void) state;
        struct dump d;
        build(&d);
        struct criu_mem *m = open_ok(&d);
        uint64_t s = 0, e = 0, h = 0;
        assert_int_equal(criu_mem_next_data(m, 0, &s, &e), 0);
        assert_int_equal(s, 0x10000), assert_int_equal(e, 0x11000);
        assert_int_equal(criu_mem_next_data(m, 0x10800, &s, &e), 0);
        assert_int_equal(s, 0x10000);                              /* inside: the same range */
        assert_int_equal(criu_mem_next_data(m, 0x11000, &s, &e), 0);
        assert_int_equal(s, 0x13000), assert_int_equal(e, 0x15000);
        assert_int_equal(criu_mem_next_data(m, 0x15000, &s, &e), 0);
        assert_int_equal(s, 0x17000);
        assert_int_equal(criu_mem_next_data(m, 0x18000, &s, &e), -ENXIO);
        assert_true(criu_mem_has_data(m, 0x10fff, 0x11000));
        assert_false(criu_mem_has_data(m, 0x11000, 0x13000));      /* lazy page only */
        assert_true(criu_mem_has_data(m, 0x14000, 0x18000));       /* the tail of B C */
        assert_false(criu_mem_has_data(m, 0x18000, UINT64_MAX));
        assert_int_equal(criu_mem_data_bytes(m, 0, UINT64_MAX), 4 * PG);
        assert_int_equal(criu_mem_data_bytes(m, 0x14000, 0x18000), 2 * PG);   /* C and D */
        assert_int_equal(criu_mem_data_bytes(m, 0x10800, 0x13800), 0x800 + 0x800);
        assert_int_equal(criu_mem_data_bytes(m, 0x11000, 0x13000), 0);
        assert_int_equal(criu_mem_next_hole(m, 0x10000, &h), 0);
        assert_int_equal(h, 0x11000);
        assert_int_equal(criu_mem_next_hole(m, 0x11000, &h), 0);
        assert_int_equal(h, 0x11000);
        assert_int_equal(criu_mem_next_hole(m, 0x13100, &h), 0);
        assert_int_equal(h, 0x15000);
        assert_int_equal(criu_mem_next_hole(m, 0x20000, &h), 0);
        assert_int_equal(h, 0x20000);
        criu_mem_free(m);
        dump_free(&d);
}

/* A window over one VMA's range, and the whole memory. */
static void test_reader(void **state) {
        (void) state;
        struct dump d;
        build(&d);
        struct store_reader *r = NULL;
        assert_int_equal(criu_mem_reader(open_ok(&d), 0x13000, 0x5000, &r), 0);
        assert_int_equal(r->size, 0x5000);
        char b[8];
        assert_int_equal(store_reader_pread(r, b, 8, 0xffc), 8);
        assert_memory_equal(b, "BBBBCCCC", 8);
        assert_int_equal(store_reader_pread(r, b, 8, 0x4ffc), 4);   /* clamped to the window */
        assert_memory_equal(b, "DDDD", 4);
        uint64_t o = 1;
        assert_int_equal(criu_mem_reader_seek(r, 0, false, &o), 0);
        assert_int_equal(o, 0);
        assert_int_equal(criu_mem_reader_seek(r, 0, true, &o), 0);
        assert_int_equal(o, 0x2000);
        assert_int_equal(criu_mem_reader_seek(r, 0x2000, false, &o), 0);
        assert_int_equal(o, 0x4000);
        assert_int_equal(criu_mem_reader_seek(r, 0x4800, false, &o), 0);
        assert_int_equal(o, 0x4800);
        assert_int_equal(criu_mem_reader_seek(r, 0x4000, true, &o), 0);
        assert_int_equal(o, 0x5000);                                /* the end is a hole */
        assert_int_equal(criu_mem_reader_seek(r, 0x5000, false, &o), -ENXIO);
        assert_int_equal(criu_mem_reader_seek(r, 0x5000, true, &o), -ENXIO);
        store_reader_free(r);
        assert_int_equal(criu_mem_reader(open_ok(&d), 0, 0x20000, &r), 0);
        assert_int_equal(criu_mem_reader_seek(r, 0, false, &o), 0);
        assert_int_equal(o, 0x10000);
        assert_int_equal(criu_mem_reader_seek(r, 0x18000, false, &o), -ENXIO);
        assert_int_equal(criu_mem_reader_seek(r, 0x1ffff, true, &o), 0);
        assert_int_equal(o, 0x1ffff);
        struct store_reader *other = NULL;
        assert_int_equal(th_reader_from_memory("x", 1, NULL, &other), 0);
        assert_int_equal(criu_mem_reader_seek(other, 0, false, &o), -EINVAL);
        store_reader_free(other);
        store_reader_free(r);
        dump_free(&d);
}

/* The index through its bytes (the sqlite cache's copy) reads the same. */
static void test_index_bytes(void **state) {
        (void) state;
        struct dump d;
        build(&d);
        struct criu_mem *m = open_ok(&d);
        void *b = NULL;
        size_t len = 0;
        assert_int_equal(criu_mem_index_bytes(m, &b, &len), 0);
        criu_mem_free(m);
        /* No mm or pagemap needed any more: only pages-2.img. */
        d.f[0].name = d.f[1].name = NULL;
        assert_int_equal(criu_mem_open_index(b, len, open_member, &d, &m), 0);
        size_t n;
        const struct criu_mem_range *r = criu_mem_ranges(m, &n);
        assert_int_equal(n, 3);
        assert_int_equal(r[2].vaddr, 0x17000), assert_int_equal(r[2].pages_off, 3 * PG);
        expect_bytes(m, 0x13ffc, "BBBBCCCC", 8);
        expect_bytes(m, 0x17ffc, "DDDD\0\0\0\0", 8);
        char *a = NULL;
        assert_int_equal(criu_mem_environ(m, &a, &n), 0);
        assert_memory_equal(a, "K=V\0", 4);
        free(a);
        criu_mem_free(m);
        /* Cut, grown, or with a range moved: not an index. */
        for (size_t k = 0; k < len; k += 8)
                assert_int_equal(criu_mem_open_index(b, k, open_member, &d, &m), -EBADMSG);
        uint64_t *w = b;
        w[7 + 3] += PG;                                            /* 2nd range's vaddr: offsets still fit */
        assert_int_equal(criu_mem_open_index(b, len, open_member, &d, &m), 0);
        criu_mem_free(m);
        w[7 + 5] += PG;                                            /* its offset no longer the running sum */
        assert_int_equal(criu_mem_open_index(b, len, open_member, &d, &m), -EBADMSG);
        w[7 + 5] -= PG, w[7 + 3] = 0x10000;                        /* overlaps the first */
        assert_int_equal(criu_mem_open_index(b, len, open_member, &d, &m), -EBADMSG);
        w[7 + 3] = 0x13000, w[0] ^= 1;                             /* magic */
        assert_int_equal(criu_mem_open_index(b, len, open_member, &d, &m), -EBADMSG);
        w[0] ^= 1, w[6] = UINT64_MAX;                              /* count */
        assert_int_equal(criu_mem_open_index(b, len, open_member, &d, &m), -EBADMSG);
        free(b);
        dump_free(&d);
}

static void test_argv_env(void **state) {
        (void) state;
        struct dump d;
        build(&d);
        struct criu_mem *m = open_ok(&d);
        char *b = NULL;
        size_t n = 0;
        assert_int_equal(criu_mem_cmdline(m, &b, &n), 0);
        assert_int_equal(n, 6);
        assert_memory_equal(b, "wl\0-x\0", 6);
        free(b);
        assert_int_equal(criu_mem_environ(m, &b, &n), 0);
        assert_int_equal(n, 4);
        assert_memory_equal(b, "K=V\0", 4);
        free(b);
        criu_mem_free(m);
        /* Bounds that run backwards are corruption. */
        put_mm(&d, 0x10010, 0x10016, 0x10000);
        m = open_ok(&d);
        assert_int_equal(criu_mem_environ(m, &b, &n), -EBADMSG);
        criu_mem_free(m);
        dump_free(&d);
}

static int open_err(struct dump *d) {
        struct criu_mem *m = NULL;
        int r = criu_mem_open(open_member, d, 7, &m);
        if (r == 0)
                criu_mem_free(m);
        else
                assert_null(m);
        return r;
}

/* A pagemap of the head and one entry. */
static void pagemap_of(struct dump *d, uint64_t vaddr, uint32_t nr, uint64_t vaddr2, uint32_t nr2) {
        struct file *pm = &d->f[1];
        start(pm, "pagemap-7.img", PAGEMAP_MAGIC);
        PagemapHead h = PAGEMAP_HEAD__INIT;
        h.pages_id = 2;
        put_record(pm, &h.base);
        put_entry(pm, vaddr, nr, PE_PRESENT);
        if (nr2)
                put_entry(pm, vaddr2, nr2, PE_LAZY);
}

static void test_corrupt(void **state) {
        (void) state;
        struct dump d;
        build(&d);
        /* Every cut of the pagemap: an error or a shorter index, no crash. */
        size_t full = d.f[1].len;
        for (d.f[1].len = 0; d.f[1].len < full; d.f[1].len++) {
                int r = open_err(&d);
                assert_true(r == 0 || r == -EBADMSG);
        }
        d.f[1].len = full - 1;
        assert_int_equal(open_err(&d), -EBADMSG);
        d.f[1].len = full;
        /* The pages image shorter than its pagemap: the read fails. */
        d.f[2].len -= PG / 2;
        struct criu_mem *m = open_ok(&d);
        char b[8];
        size_t n;
        assert_int_equal(criu_mem_read(m, 0x17ffc, b, 8, &n), -EBADMSG);
        assert_int_equal(criu_mem_read(m, 0x10000, b, 8, &n), 0);
        struct store_reader *r = NULL;
        assert_int_equal(criu_mem_reader(m, 0, 0x20000, &r), 0);
        assert_int_equal(store_reader_pread(r, b, 8, 0x17ffc), -EIO);   /* a file's reader: EIO */
        store_reader_free(r);
        pagemap_of(&d, 0x10001, 1, 0, 0);                          /* not page-aligned */
        assert_int_equal(open_err(&d), -EBADMSG);
        pagemap_of(&d, 0x10000, 0, 0, 0);                          /* no pages */
        assert_int_equal(open_err(&d), -EBADMSG);
        pagemap_of(&d, 0x13000, 1, 0x12000, 1);                    /* unsorted */
        assert_int_equal(open_err(&d), -EBADMSG);
        pagemap_of(&d, 0x13000, 2, 0x14000, 1);                    /* overlap, even without data */
        assert_int_equal(open_err(&d), -EBADMSG);
        pagemap_of(&d, UINT64_MAX & ~0xfffull, 2, 0, 0);           /* past the address space */
        assert_int_equal(open_err(&d), -EBADMSG);
        /* An mm image without its record, or absent. */
        start(&d.f[0], "mm-7.img", MM_MAGIC);
        assert_int_equal(open_err(&d), -EBADMSG);
        d.f[0].name = "mm-8.img";
        assert_int_equal(open_err(&d), -ENOENT);
        dump_free(&d);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_index),
                cmocka_unit_test(test_read),
                cmocka_unit_test(test_seek),
                cmocka_unit_test(test_reader),
                cmocka_unit_test(test_index_bytes),
                cmocka_unit_test(test_argv_env),
                cmocka_unit_test(test_corrupt),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
