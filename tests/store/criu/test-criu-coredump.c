/* store/criu: the core file of a dumped process (criu-coredump.h) from a
 * dump made by hand: pstree, core-<tid>, mm, pagemap, pages, files. Checks
 * the thread order and registers, the psargs, the split of a private file
 * mapping into dumped runs and file-backed holes, zeros in anonymous
 * holes, and -ENOENT / -EBADMSG for a zombie and damaged images. gdb on
 * real dumps: tests/integration/test-proc-core.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/procfs.h>
#include <sys/user.h>

#include "criu-coredump.h"
#include "criu_core.pb-c.h"
#include "criu_fdinfo.pb-c.h"
#include "criu_magic.h"
#include "criu_mm.pb-c.h"
#include "criu_pagemap.pb-c.h"
#include "criu_pstree.pb-c.h"
#include "helpers.h"
#include "pbmsg.h"

#define VMA_REGULAR (1u << 0)
#define VMA_FILE_PRIVATE (1u << 6)
#define VMA_ANON_PRIVATE (1u << 9)
#define VMA_VVAR (1u << 12)

struct member {
        char name[32];
        uint8_t *buf;
        size_t len;
};

static struct member dump[16];
static size_t n_dump;

static struct member *add_member(const char *name) {
        assert_true(n_dump < 16);
        struct member *m = &dump[n_dump++];
        strcpy(m->name, name);
        m->buf = NULL, m->len = 0;
        return m;
}

static void put(struct member *m, const void *p, size_t n) {
        m->buf = realloc(m->buf, m->len + n);
        assert_non_null(m->buf);
        memcpy(m->buf + m->len, p, n);
        m->len += n;
}

static void put_u32(struct member *m, uint32_t v) {
        put(m, &v, sizeof(v));
}

static struct member *image(const char *name, uint32_t magic) {
        struct member *m = add_member(name);
        put_u32(m, IMG_COMMON_MAGIC);
        put_u32(m, magic);
        return m;
}

static void record(struct member *m, const ProtobufCMessage *msg) {
        uint8_t *b = NULL;
        size_t n = 0;
        assert_int_equal(pb_msg_pack(msg, &b, &n), 0);
        put_u32(m, (uint32_t) n);
        put(m, b, n);
        free(b);
}

static int open_member(void *ctx, const char *name, struct store_reader **ret) {
        (void) ctx;
        for (size_t i = 0; i < n_dump; i++)
                if (!strcmp(dump[i].name, name))
                        return th_reader_from_memory(dump[i].buf, dump[i].len, NULL, ret);
        return -ENOENT;
}

static void add_core(uint32_t tid, uint32_t state, const char *comm) {
        char name[32];
        snprintf(name, sizeof(name), "core-%u.img", tid);
        UserX86RegsEntry g = USER_X86_REGS_ENTRY__INIT;
        g.ip = 0x401000 + tid, g.sp = 0x601f00 - tid, g.r15 = tid;
        UserX86FpregsEntry fp = USER_X86_FPREGS_ENTRY__INIT;
        uint32_t st[32] = { 0 }, xmm[64] = { 0 };
        xmm[0] = 0x1234 + tid;
        fp.mxcsr = 0x1f80;
        if (tid == 5) /* thread 6 has an incomplete area: no NT_FPREGSET */
                fp.n_st_space = 32, fp.st_space = st, fp.n_xmm_space = 64, fp.xmm_space = xmm;
        ThreadInfoX86 ti = THREAD_INFO_X86__INIT;
        ti.gpregs = &g, ti.fpregs = &fp;
        TaskCoreEntry tc = TASK_CORE_ENTRY__INIT;
        tc.task_state = state, tc.comm = (char *) comm;
        CoreEntry c = CORE_ENTRY__INIT;
        c.mtype = CORE_ENTRY__MARCH__X86_64;
        c.thread_info = state == 2 ? NULL : &ti;
        c.tc = comm ? &tc : NULL;
        record(image(name, CORE_MAGIC), &c.base);
}

static void add_pstree(void) {
        struct member *m = image("pstree.img", PSTREE_MAGIC);
        uint32_t threads[] = { 6, 5 }; /* the leader second: the core puts it first */
        PstreeEntry e = PSTREE_ENTRY__INIT;
        e.pid = 5, e.ppid = 1, e.pgid = 5, e.sid = 1, e.n_threads = 2, e.threads = threads;
        record(m, &e.base);
        PstreeEntry z = PSTREE_ENTRY__INIT;
        z.pid = 7, z.ppid = 5, z.pgid = 5, z.sid = 1; /* a zombie: no threads, no mm */
        record(m, &z.base);
}

static void add_mm(void) {
        VmaEntry v[4];
        VmaEntry *pv[4];
        const struct { uint64_t s, e, pgoff, shmid; uint32_t prot, status; } t[4] = {
                { 0x400000, 0x403000, 0, 9, PROT_READ | PROT_EXEC, VMA_REGULAR | VMA_FILE_PRIVATE },
                { 0x600000, 0x602000, 0, 0, PROT_READ | PROT_WRITE, VMA_REGULAR | VMA_ANON_PRIVATE },
                { 0x700000, 0x701000, 0, 0, PROT_NONE, VMA_REGULAR | VMA_ANON_PRIVATE },
                { 0x7ff000000000, 0x7ff000001000, 0, 0, PROT_READ, VMA_REGULAR | VMA_VVAR },
        };
        for (int i = 0; i < 4; i++) {
                v[i] = (VmaEntry) VMA_ENTRY__INIT;
                v[i].start = t[i].s, v[i].end = t[i].e, v[i].pgoff = t[i].pgoff, v[i].shmid = t[i].shmid;
                v[i].prot = t[i].prot, v[i].status = t[i].status, v[i].fd = -1;
                pv[i] = &v[i];
        }
        uint64_t auxv[] = { AT_PAGESZ, 4096, AT_NULL, 0, 0, 0 };
        MmEntry mm = MM_ENTRY__INIT;
        mm.mm_arg_start = 0x600010, mm.mm_arg_end = 0x600018;
        mm.n_mm_saved_auxv = 6, mm.mm_saved_auxv = auxv;
        mm.n_vmas = 4, mm.vmas = pv;
        record(image("mm-5.img", MM_MAGIC), &mm.base);
}

static void add_pages(void) {
        struct member *m = image("pagemap-5.img", PAGEMAP_MAGIC);
        PagemapHead h = PAGEMAP_HEAD__INIT;
        h.pages_id = 1;
        record(m, &h.base);
        PagemapEntry e = PAGEMAP_ENTRY__INIT;
        e.vaddr = 0x401000, e.compat_nr_pages = 1, e.has_flags = 1, e.flags = 4;
        record(m, &e.base);
        e.vaddr = 0x600000;
        record(m, &e.base);
        struct member *p = add_member("pages-1.img");
        static uint8_t page[4096];
        memset(page, 'T', sizeof(page));
        put(p, page, sizeof(page));
        memset(page, 'H', sizeof(page));
        memcpy(page + 0x10, "prog\0-x", 8);
        put(p, page, sizeof(page));
}

static void add_files(void) {
        FownEntry fown = FOWN_ENTRY__INIT;
        RegFileEntry reg = REG_FILE_ENTRY__INIT;
        reg.id = 9, reg.fown = &fown, reg.name = "/bin/prog";
        FileEntry f = FILE_ENTRY__INIT;
        f.type = FD_TYPES__REG, f.id = 9, f.reg = &reg;
        record(image("files.img", FILES_MAGIC), &f.base);
}

static int setup(void **state) {
        (void) state;
        n_dump = 0;
        add_pstree();
        add_core(5, 1, "prog");
        add_core(6, 1, NULL);
        add_core(7, 2, "prog");
        add_mm();
        add_pages();
        add_files();
        return 0;
}

static int teardown(void **state) {
        (void) state;
        for (size_t i = 0; i < n_dump; i++)
                free(dump[i].buf);
        n_dump = 0;
        return 0;
}

static struct member *find_member(const char *name) {
        for (size_t i = 0; i < n_dump; i++)
                if (!strcmp(dump[i].name, name))
                        return &dump[i];
        fail();
        return NULL;
}

static uint8_t *read_core(size_t *ret_len) {
        struct store_reader *r = NULL;
        assert_int_equal(criu_coredump_open(open_member, NULL, 5, &r), 0);
        uint8_t *b = malloc(r->size);
        assert_non_null(b);
        assert_int_equal(store_reader_pread(r, b, r->size, 0), (ssize_t) r->size);
        *ret_len = r->size;
        store_reader_free(r);
        return b;
}

/* The note of type `type` number `nth`, its desc and size. */
static const uint8_t *note(const uint8_t *f, const Elf64_Phdr *ph, uint32_t type, int nth, size_t *ret_size) {
        for (size_t at = ph->p_offset; at < ph->p_offset + ph->p_filesz;) {
                const Elf64_Nhdr *h = (const Elf64_Nhdr *) (f + at);
                if (h->n_type == type && nth-- == 0) {
                        *ret_size = h->n_descsz;
                        return f + at + sizeof(*h) + 8;
                }
                at += sizeof(*h) + 8 + ((h->n_descsz + 3) & ~3u);
        }
        return NULL;
}

static void check_notes(const uint8_t *f, const Elf64_Phdr *ph) {
        size_t sz;
        struct elf_prstatus s;
        memcpy(&s, note(f, ph, NT_PRSTATUS, 0, &sz), sizeof(s));
        assert_int_equal(s.pr_pid, 5);
        assert_int_equal(s.pr_ppid, 1);
        assert_int_equal(s.pr_reg[16], 0x401005); /* rip */
        assert_int_equal(s.pr_reg[19], 0x601f00 - 5); /* rsp */
        memcpy(&s, note(f, ph, NT_PRSTATUS, 1, &sz), sizeof(s));
        assert_int_equal(s.pr_pid, 6);
        assert_int_equal(s.pr_reg[0], 6); /* r15 */
        assert_null(note(f, ph, NT_PRSTATUS, 2, &sz));
        struct user_fpregs_struct fp;
        memcpy(&fp, note(f, ph, NT_FPREGSET, 0, &sz), sizeof(fp));
        assert_int_equal(sz, 512);
        assert_int_equal(fp.mxcsr, 0x1f80);
        assert_int_equal(fp.xmm_space[0], 0x1234 + 5);
        assert_null(note(f, ph, NT_FPREGSET, 1, &sz));
        struct elf_prpsinfo p;
        memcpy(&p, note(f, ph, NT_PRPSINFO, 0, &sz), sizeof(p));
        assert_string_equal(p.pr_fname, "prog");
        assert_string_equal(p.pr_psargs, "prog -x");
        assert_non_null(note(f, ph, NT_AUXV, 0, &sz));
        assert_int_equal(sz, 4 * 8);
        const uint64_t *fn = (const uint64_t *) note(f, ph, NT_FILE, 0, &sz);
        assert_int_equal(fn[0], 3); /* the three pieces of the file mapping */
        assert_int_equal(fn[2], 0x400000), assert_int_equal(fn[3], 0x401000), assert_int_equal(fn[4], 0);
        assert_int_equal(fn[5], 0x401000), assert_int_equal(fn[7], 1);
        assert_int_equal(fn[8], 0x402000), assert_int_equal(fn[10], 2);
        assert_string_equal((const char *) &fn[11], "/bin/prog");
}

static void test_core(void **state) {
        (void) state;
        size_t n;
        uint8_t *f = read_core(&n);
        const Elf64_Ehdr *e = (const Elf64_Ehdr *) f;
        assert_int_equal(e->e_type, ET_CORE);
        assert_int_equal(e->e_phnum, 1 + 3 + 1 + 1 + 1);
        const Elf64_Phdr *ph = (const Elf64_Phdr *) (f + e->e_phoff);
        check_notes(f, &ph[0]);
        /* file mapping: only the dumped page has data */
        assert_int_equal(ph[1].p_filesz, 0);
        assert_int_equal(ph[2].p_vaddr, 0x401000);
        assert_int_equal(ph[2].p_filesz, 4096);
        assert_int_equal(f[ph[2].p_offset + 100], 'T');
        assert_int_equal(ph[3].p_filesz, 0);
        /* anonymous: all of it, zeros where nothing was dumped */
        assert_int_equal(ph[4].p_vaddr, 0x600000);
        assert_int_equal(ph[4].p_filesz, 0x2000);
        assert_memory_equal(f + ph[4].p_offset + 0x10, "prog", 5);
        assert_int_equal(f[ph[4].p_offset + 0x5], 'H');
        assert_int_equal(f[ph[4].p_offset + 0x1000], 0);
        assert_int_equal(f[ph[4].p_offset + 0x1fff], 0);
        /* PROT_NONE and vvar: no data */
        assert_int_equal(ph[5].p_filesz, 0);
        assert_int_equal(ph[6].p_filesz, 0);
        assert_int_equal(ph[6].p_memsz, 0x1000);
        assert_int_equal(n, ph[4].p_offset + 0x2000);
        free(f);
}

static void test_zombie_and_absent(void **state) {
        (void) state;
        struct store_reader *r = NULL;
        assert_int_equal(criu_coredump_open(open_member, NULL, 7, &r), -ENOENT);
        assert_int_equal(criu_coredump_open(open_member, NULL, 99, &r), -ENOENT);
}

static void test_damaged(void **state) {
        (void) state;
        struct store_reader *r = NULL;
        struct member *mm = find_member("mm-5.img");
        size_t len = mm->len;
        mm->len = len - 3; /* a record cut short */
        assert_int_equal(criu_coredump_open(open_member, NULL, 5, &r), -EBADMSG);
        mm->len = len;
        strcpy(find_member("core-6.img")->name, "gone");
        assert_int_equal(criu_coredump_open(open_member, NULL, 5, &r), -EBADMSG);
        strcpy(find_member("gone")->name, "core-6.img");
        /* pages shorter than the pagemap: the argv page (read at open) is gone */
        find_member("pages-1.img")->len -= 4096;
        assert_int_equal(criu_coredump_open(open_member, NULL, 5, &r), -EBADMSG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_core, setup, teardown),
                cmocka_unit_test_setup_teardown(test_zombie_and_absent, setup, teardown),
                cmocka_unit_test_setup_teardown(test_damaged, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
