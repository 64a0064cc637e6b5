/* store/criu: the ELF core writer (criu-elfcore.h). The produced bytes are
 * parsed back with <elf.h>'s structures: header, program headers, notes,
 * data offsets, a byte at a virtual address. gdb on real dumps:
 * tests/integration/test-proc-core.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/procfs.h>
#include <sys/user.h>

#include "criu-elfcore.h"

/* Memory where the byte at vaddr is a function of vaddr. */
static uint8_t mem_byte(uint64_t vaddr) {
        return (uint8_t) ((vaddr >> 12) * 7 + vaddr);
}

static int reads;

static int read_mem(void *ctx, uint64_t vaddr, void *buf, size_t len) {
        (void) ctx;
        reads++;
        for (size_t i = 0; i < len; i++)
                ((uint8_t *) buf)[i] = mem_byte(vaddr + i);
        return 0;
}

static int read_fail(void *ctx, uint64_t vaddr, void *buf, size_t len) {
        (void) ctx, (void) vaddr, (void) buf, (void) len;
        return -EIO;
}

static const uint64_t auxv[] = { AT_PAGESZ, 4096, AT_ENTRY, 0x401000, AT_NULL, 0, 0, 0, 0, 0 };
static const struct elfcore_seg segs[] = {
        { 0x400000, 0x402000, PROT_READ | PROT_EXEC, true, "/bin/x", 0 },
        { 0x402000, 0x403000, PROT_READ, false, "/bin/x", 0x2000 },
        { 0x600000, 0x601000, PROT_READ | PROT_WRITE, false, NULL, 0 },
        { 0x7f0000000000, 0x7f0000003000, PROT_READ | PROT_WRITE, true, NULL, 0 },
        { 0x7f0000010000, 0x7f0000011000, PROT_READ, true, "/lib/libz.so", 0x5000 },
};

static struct elfcore_input input(struct elfcore_thread t[2]) {
        memset(t, 0, 2 * sizeof(*t));
        t[0].tid = 100, t[1].tid = 101;
        t[0].has_fpregs = true, t[0].fpregs.mxcsr = 0x1f80, t[0].fpregs.xmm_space[3] = 0xabcd;
        for (int i = 0; i < ELFCORE_NREGS; i++)
                t[0].regs[i] = 1000 + i, t[1].regs[i] = 2000 + i;
        static const char args[] = "/bin/x\0-v\0arg";
        return (struct elfcore_input) { .pid = 100, .ppid = 1, .pgid = 100, .sid = 7, .uid = 0, .gid = 0,
                                        .state = 'T', .comm = "x", .args = args, .args_len = sizeof(args),
                                        .threads = t, .n_threads = 2, .auxv = auxv,
                                        .n_auxv = sizeof(auxv) / sizeof(auxv[0]), .segs = segs,
                                        .n_segs = sizeof(segs) / sizeof(segs[0]) };
}

static uint8_t *whole(struct elfcore *c, size_t *ret_len) {
        size_t n = elfcore_size(c);
        uint8_t *b = malloc(n);
        assert_non_null(b);
        assert_int_equal(elfcore_pread(c, b, n + 100, 0), (ssize_t) n);
        *ret_len = n;
        return b;
}

/* The notes of the PT_NOTE: their types in order; *ret_desc[i] each desc. */
static size_t notes(const uint8_t *f, const Elf64_Phdr *ph, uint32_t *types, const uint8_t **descs,
                    size_t *sizes, size_t max) {
        size_t n = 0, at = ph->p_offset, end = ph->p_offset + ph->p_filesz;
        while (at < end && n < max) {
                const Elf64_Nhdr *h = (const Elf64_Nhdr *) (f + at);
                assert_int_equal(h->n_namesz, 5);
                assert_string_equal((const char *) (h + 1), "CORE");
                types[n] = h->n_type;
                descs[n] = f + at + sizeof(*h) + 8;
                sizes[n] = h->n_descsz;
                at += sizeof(*h) + 8 + ((h->n_descsz + 3) & ~3u);
                n++;
        }
        assert_int_equal(at, end);
        return n;
}

static void check_notes(const uint8_t *f, const Elf64_Phdr *ph) {
        uint32_t t[8];
        const uint8_t *d[8];
        size_t sz[8];
        assert_int_equal(notes(f, ph, t, d, sz, 8), 6);
        assert_int_equal(t[0], NT_PRSTATUS);
        assert_int_equal(t[1], NT_PRPSINFO);
        assert_int_equal(t[2], NT_AUXV);
        assert_int_equal(t[3], NT_FILE);
        assert_int_equal(t[4], NT_FPREGSET); /* the main thread's: before the next NT_PRSTATUS */
        assert_int_equal(t[5], NT_PRSTATUS);
        struct user_fpregs_struct fp;
        assert_int_equal(sz[4], sizeof(fp));
        assert_int_equal(sz[4], 512);
        memcpy(&fp, d[4], sizeof(fp));
        assert_int_equal(fp.mxcsr, 0x1f80);
        assert_int_equal(fp.xmm_space[3], 0xabcd);
        d[4] = d[5], sz[4] = sz[5];
        struct elf_prstatus s;
        assert_int_equal(sz[0], sizeof(s));
        memcpy(&s, d[0], sizeof(s));
        assert_int_equal(s.pr_pid, 100);
        assert_int_equal(s.pr_ppid, 1);
        assert_int_equal(s.pr_sid, 7);
        assert_int_equal(s.pr_reg[0], 1000);  /* r15 */
        assert_int_equal(s.pr_reg[16], 1016); /* rip */
        memcpy(&s, d[4], sizeof(s));
        assert_int_equal(s.pr_pid, 101);
        assert_int_equal(s.pr_reg[26], 2026); /* gs */
        struct elf_prpsinfo p;
        memcpy(&p, d[1], sizeof(p));
        assert_string_equal(p.pr_fname, "x");
        assert_string_equal(p.pr_psargs, "/bin/x -v arg");
        assert_int_equal(p.pr_sname, 'T');
        assert_int_equal(sz[2], 6 * sizeof(uint64_t)); /* cut after AT_NULL */
        const uint64_t *fn = (const uint64_t *) d[3];
        assert_int_equal(fn[0], 3);
        assert_int_equal(fn[1], 4096);
        assert_int_equal(fn[2], 0x400000), assert_int_equal(fn[3], 0x402000), assert_int_equal(fn[4], 0);
        assert_int_equal(fn[5], 0x402000), assert_int_equal(fn[7], 2);
        assert_int_equal(fn[8], 0x7f0000010000), assert_int_equal(fn[10], 5);
        const char *names = (const char *) &fn[11];
        assert_string_equal(names, "/bin/x");
        assert_string_equal(names + 7, "/bin/x");
        assert_string_equal(names + 14, "/lib/libz.so");
        assert_int_equal(sz[3], 11 * 8 + 7 + 7 + 13);
}

static void test_layout(void **state) {
        (void) state;
        struct elfcore_thread t[2];
        struct elfcore_input in = input(t);
        struct elfcore *c = NULL;
        assert_int_equal(elfcore_new(&in, read_mem, NULL, NULL, &c), 0);
        size_t n;
        uint8_t *f = whole(c, &n);
        const Elf64_Ehdr *e = (const Elf64_Ehdr *) f;
        assert_memory_equal(e->e_ident, ELFMAG, SELFMAG);
        assert_int_equal(e->e_type, ET_CORE);
        assert_int_equal(e->e_machine, EM_X86_64);
        assert_int_equal(e->e_phnum, 6);
        const Elf64_Phdr *ph = (const Elf64_Phdr *) (f + e->e_phoff);
        assert_int_equal(ph[0].p_type, PT_NOTE);
        check_notes(f, &ph[0]);
        uint64_t data = 0;
        for (int i = 1; i < 6; i++) {
                const struct elfcore_seg *s = &segs[i - 1];
                assert_int_equal(ph[i].p_type, PT_LOAD);
                assert_int_equal(ph[i].p_vaddr, s->start);
                assert_int_equal(ph[i].p_memsz, s->end - s->start);
                assert_int_equal(ph[i].p_filesz, s->has_data ? s->end - s->start : 0);
                assert_int_equal(ph[i].p_offset % 4096, 0);
                assert_true(ph[i].p_offset >= ph[0].p_offset + ph[0].p_filesz);
                data += ph[i].p_filesz;
        }
        assert_int_equal(ph[1].p_flags, PF_R | PF_X);
        assert_int_equal(ph[4].p_flags, PF_R | PF_W);
        assert_int_equal(n, ph[1].p_offset + data);
        /* a byte at a virtual address, found through its segment */
        uint64_t va = 0x7f0000001234;
        assert_int_equal(f[ph[4].p_offset + (va - ph[4].p_vaddr)], mem_byte(va));
        assert_int_equal(f[ph[5].p_offset + 17], mem_byte(0x7f0000010000 + 17));
        assert_int_equal(ph[5].p_offset + ph[5].p_filesz, n);
        free(f);
        elfcore_free(c);
}

/* Reads in odd pieces give the same bytes as one read, past the end none. */
static void test_pieces(void **state) {
        (void) state;
        struct elfcore_thread t[2];
        struct elfcore_input in = input(t);
        struct elfcore *c = NULL;
        assert_int_equal(elfcore_new(&in, read_mem, NULL, NULL, &c), 0);
        size_t n;
        uint8_t *f = whole(c, &n);
        uint8_t *g = malloc(n);
        assert_non_null(g);
        for (size_t at = 0; at < n;) {
                size_t want = 1 + (at * 31) % 5000;
                ssize_t k = elfcore_pread(c, g + at, want, at);
                assert_true(k > 0);
                at += (size_t) k;
        }
        assert_memory_equal(f, g, n);
        char x;
        assert_int_equal(elfcore_pread(c, &x, 1, n), 0);
        free(f);
        free(g);
        elfcore_free(c);
}

static int freed;
static void free_ctx(void *ctx) {
        freed += ctx == &freed;
}

static void test_errors(void **state) {
        (void) state;
        struct elfcore_thread t[2];
        struct elfcore_input in = input(t);
        struct elfcore *c = NULL;
        struct elfcore_input bad = in;
        bad.n_threads = 0;
        assert_int_equal(elfcore_new(&bad, read_mem, NULL, NULL, &c), -EINVAL);
        struct elfcore_seg unsorted[2] = { segs[3], segs[0] };
        bad = in, bad.segs = unsorted, bad.n_segs = 2;
        assert_int_equal(elfcore_new(&bad, read_mem, NULL, NULL, &c), -EINVAL);
        struct elfcore_seg odd = { 0x1000, 0x1800, PROT_READ, true, NULL, 0 };
        bad = in, bad.segs = &odd, bad.n_segs = 1;
        assert_int_equal(elfcore_new(&bad, read_mem, NULL, NULL, &c), -EINVAL);
        /* the callback's error passes; the context is freed with the core */
        assert_int_equal(elfcore_new(&in, read_fail, free_ctx, &freed, &c), 0);
        uint8_t b[64];
        assert_int_equal(elfcore_pread(c, b, sizeof(b), 0), sizeof(b));
        assert_int_equal(elfcore_pread(c, b, sizeof(b), elfcore_size(c) - 10), -EIO);
        elfcore_free(c);
        assert_int_equal(freed, 1);
}

/* No auxv, one thread, no file mappings: NT_AUXV left out, NT_FILE empty. */
static void test_minimal(void **state) {
        (void) state;
        struct elfcore_thread t = { .tid = 1 };
        struct elfcore_seg s = { 0x10000, 0x11000, PROT_READ, true, NULL, 0 };
        struct elfcore_input in = { .pid = 1, .threads = &t, .n_threads = 1, .segs = &s, .n_segs = 1 };
        struct elfcore *c = NULL;
        assert_int_equal(elfcore_new(&in, read_mem, NULL, NULL, &c), 0);
        size_t n;
        uint8_t *f = whole(c, &n);
        assert_int_equal(n, 4096 + 4096);
        const Elf64_Phdr *ph = (const Elf64_Phdr *) (f + sizeof(Elf64_Ehdr));
        uint32_t ty[4];
        const uint8_t *d[4];
        size_t sz[4];
        assert_int_equal(notes(f, &ph[0], ty, d, sz, 4), 3);
        assert_int_equal(ty[2], NT_FILE);
        assert_int_equal(sz[2], 16);
        free(f);
        elfcore_free(c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_layout),
                cmocka_unit_test(test_pieces),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_minimal),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
