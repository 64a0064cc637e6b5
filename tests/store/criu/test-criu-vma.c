/* store/criu: criu-vma, the VMAs of a dumped process and its maps text,
 * over synthetic mm-<pid>.img and files.img: paths of file mappings by
 * vma.shmid, [heap]/[stack]/[vdso]/[vvar]/[vsyscall] by status, the
 * kernel's column layout, and corrupt images. Real dumps against
 * `crit x DIR mems`: tests/integration/test-proc-mem.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "criu-vma.h"
#include "criu_fdinfo.pb-c.h"
#include "criu_magic.h"
#include "criu_mm.pb-c.h"
#include "criu_regfile.pb-c.h"
#include "helpers.h"
#include "image-builder.h"
#include "pbmsg.h"

struct dump {
        struct th_img mm, files;
};

static int open_member(void *ctx, const char *name, struct store_reader **ret) {
        struct dump *d = ctx;
        struct th_img *f[] = { &d->mm, &d->files };
        for (size_t i = 0; i < 2; i++)
                if (f[i]->name && !strcmp(f[i]->name, name))
                        return th_reader_from_memory(f[i]->buf, f[i]->len, NULL, ret);
        return -ENOENT;
}

struct v {
        uint64_t start, end, pgoff, shmid;
        uint32_t prot, flags, status;
};

static void put_mm(struct dump *d, const struct v *vs, size_t n) {
        VmaEntry e[16], *ep[16];
        assert_true(n <= 16);
        for (size_t i = 0; i < n; i++) {
                e[i] = (VmaEntry) VMA_ENTRY__INIT;
                e[i].start = vs[i].start, e[i].end = vs[i].end, e[i].pgoff = vs[i].pgoff;
                e[i].shmid = vs[i].shmid, e[i].prot = vs[i].prot, e[i].flags = vs[i].flags;
                e[i].status = vs[i].status, e[i].fd = -1;
                ep[i] = &e[i];
        }
        MmEntry m = MM_ENTRY__INIT;
        m.n_vmas = n, m.vmas = ep;
        m.mm_start_stack = 0x7ffd00020f00;
        th_start_named(&d->mm, "mm-5.img", MM_MAGIC);
        th_put_record(&d->mm, &m.base);
}

static void put_reg(struct th_img *f, uint32_t id, const char *name) {
        RegFileEntry r = REG_FILE_ENTRY__INIT;
        FownEntry o = FOWN_ENTRY__INIT;
        r.id = id, r.name = (char *) name, r.fown = &o;
        FileEntry e = FILE_ENTRY__INIT;
        e.type = FD_TYPES__REG, e.id = id, e.reg = &r;
        th_put_record(f, &e.base);
}

/* PROT_ and MAP_ values as on x86-64. */
static const struct v vmas[] = {
        { 0x400000, 0x401000, 0, 3, 0x1 | 0x4, 0x02, 0x1 | 0x40 },          /* r-xp /bin/wl */
        { 0x401000, 0x403000, 0x1000, 3, 0x1 | 0x2, 0x02, 0x1 | 0x40 },     /* rw-p /bin/wl + 0x1000 */
        { 0x403000, 0x424000, 0, 0, 0x3, 0x22, 0x1 | 0x20 | 0x200 },        /* [heap] */
        { 0x7f0000000000, 0x7f0000002000, 0, 9, 0x1, 0x01, 0x1 | 0x80 },    /* r--s /data shared */
        { 0x7f0000002000, 0x7f0000003000, 0, 0, 0x3, 0x21, 0x1 | 0x100 },   /* shared anon */
        { 0x7f0000003000, 0x7f0000004000, 0, 0, 0x3, 0x22, 0x1 | 0x200 },   /* anon */
        { 0x7ffd00000000, 0x7ffd00021000, 0, 0, 0x3, 0x122, 0x1 | 0x200 }, /* [stack] by start_stack */
        { 0x7ffd00100000, 0x7ffd00104000, 0, 0, 0x1, 0x22, 0x1 | 0x1000 },  /* [vvar] */
        { 0x7ffd00104000, 0x7ffd00106000, 0, 0, 0x5, 0x22, 0x1 | 0x8 },     /* [vdso] */
        { 0x7ffd00106000, 0x7ffd00107000, 0, 0, 0x3, 0x122, 0x1 | 0x2 }, /* [stack] by status */
        { 0xffffffffff600000, 0xffffffffff601000, 0, 0, 0x4, 0x22, 0x4 },  /* [vsyscall] */
};
#define N_VMAS (sizeof(vmas) / sizeof(vmas[0]))

static void build(struct dump *d) {
        memset(d, 0, sizeof(*d));
        put_mm(d, vmas, N_VMAS);
        th_start_named(&d->files, "files.img", FILES_MAGIC);
        put_reg(&d->files, 1, "/dev/null");
        put_reg(&d->files, 3, "/bin/wl");
        put_reg(&d->files, 9, "/data");
}

static const char maps[] =
        "00400000-00401000 r-xp 00000000 00:00 0                                  /bin/wl\n"
        "00401000-00403000 rw-p 00001000 00:00 0                                  /bin/wl\n"
        "00403000-00424000 rw-p 00000000 00:00 0                                  [heap]\n"
        "7f0000000000-7f0000002000 r--s 00000000 00:00 0                          /data\n"
        "7f0000002000-7f0000003000 rw-s 00000000 00:00 0                          /dev/zero (deleted)\n"
        "7f0000003000-7f0000004000 rw-p 00000000 00:00 0\n"
        "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n"
        "7ffd00100000-7ffd00104000 r--p 00000000 00:00 0                          [vvar]\n"
        "7ffd00104000-7ffd00106000 r-xp 00000000 00:00 0                          [vdso]\n"
        "7ffd00106000-7ffd00107000 rw-p 00000000 00:00 0                          [stack]\n"
        "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";

static void test_load_and_maps(void **state) {
        (void) state;
        struct dump d;
        build(&d);
        struct criu_vmas v;
        assert_int_equal(criu_vmas_load(open_member, &d, 5, &v), 0);
        assert_int_equal(v.n, N_VMAS);
        assert_int_equal(v.v[1].pgoff, 0x1000);
        assert_int_equal(v.v[1].shmid, 3);
        assert_int_equal(v.v[2].status & CRIU_VMA_HEAP, CRIU_VMA_HEAP);
        assert_string_equal(v.v[3].path, "/data");
        assert_null(v.v[5].path);
        char *s = NULL;
        size_t n = 0;
        assert_int_equal(criu_vmas_maps_text(&v, &s, &n), 0);
        assert_string_equal(s, maps);
        assert_int_equal(n, strlen(maps));
        free(s);
        criu_vmas_clear(&v);
        /* No files.img: file mappings are left unnamed. */
        d.files.name = NULL;
        assert_int_equal(criu_vmas_load(open_member, &d, 5, &v), 0);
        assert_null(v.v[0].path);
        assert_string_equal(v.v[2].path, "[heap]");
        criu_vmas_clear(&v);
}

static void test_corrupt(void **state) {
        (void) state;
        struct dump d;
        build(&d);
        struct criu_vmas v;
        assert_int_equal(criu_vmas_load(open_member, &d, 6, &v), -ENOENT);  /* no mm-6.img */
        struct v bad[] = { { 0x2000, 0x1000, 0, 0, 3, 0x22, 0x201 } };
        put_mm(&d, bad, 1);                                                  /* end below start */
        assert_int_equal(criu_vmas_load(open_member, &d, 5, &v), -EBADMSG);
        struct v overlap[] = { { 0x1000, 0x3000, 0, 0, 3, 0x22, 0x201 }, { 0x2000, 0x4000, 0, 0, 3, 0x22, 0x201 } };
        put_mm(&d, overlap, 2);
        assert_int_equal(criu_vmas_load(open_member, &d, 5, &v), -EBADMSG);
        th_start_named(&d.mm, "mm-5.img", MM_MAGIC);                                  /* no record */
        assert_int_equal(criu_vmas_load(open_member, &d, 5, &v), -EBADMSG);
        /* Every cut of files.img: an error or fewer names, no crash. */
        put_mm(&d, vmas, N_VMAS);
        size_t full = d.files.len;
        for (d.files.len = 0; d.files.len < full; d.files.len++) {
                int r = criu_vmas_load(open_member, &d, 5, &v);
                assert_true(r == 0 || r == -EBADMSG);
                if (r == 0)
                        criu_vmas_clear(&v);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_load_and_maps),
                cmocka_unit_test(test_corrupt),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
