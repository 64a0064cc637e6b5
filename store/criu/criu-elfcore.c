/* The ELF core writer; see criu-elfcore.h. The note layouts are the
 * kernel's (fs/binfmt_elf.c) as gdb and readelf expect them: name "CORE"
 * for all, NT_FILE = count, page size, (start, end, pgoff in pages) per
 * mapping, then the NUL-terminated paths in the same order. */
#include "criu-elfcore.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/procfs.h>

#include "cleanup.h"

#define PAGE 4096u

_Static_assert(sizeof(elf_gregset_t) == ELFCORE_NREGS * sizeof(uint64_t), "x86-64 elf_gregset_t");

/* Where one segment's data is in the file (has_data only). */
struct load {
        uint64_t vaddr, off, size;
};

struct elfcore {
        uint8_t *head; /* ELF header, program headers, notes */
        size_t head_len;
        uint64_t data_off; /* first byte of segment data */
        uint64_t size;
        struct load *loads;
        size_t n_loads;
        elfcore_read_fn read;
        void (*free_ctx)(void *ctx);
        void *ctx;
};

/* A growing buffer; an allocation failure sticks in `failed`. */
struct buf {
        uint8_t *p;
        size_t len, cap;
        bool failed;
};

static void put(struct buf *b, const void *data, size_t n) {
        if (b->failed)
                return;
        if (b->len + n > b->cap) {
                size_t nc = b->cap ? b->cap : 4096;
                while (nc < b->len + n)
                        nc *= 2;
                uint8_t *np = realloc(b->p, nc);
                if (!np) {
                        b->failed = true;
                        return;
                }
                b->p = np, b->cap = nc;
        }
        if (data)
                memcpy(b->p + b->len, data, n);
        else
                memset(b->p + b->len, 0, n);
        b->len += n;
}

static void put_u64(struct buf *b, uint64_t v) {
        put(b, &v, sizeof(v));
}

static void pad4(struct buf *b) {
        put(b, NULL, (4 - b->len % 4) % 4);
}

/* One note: header, "CORE\0" padded, desc padded. */
static void put_note(struct buf *b, uint32_t type, const void *desc, size_t len) {
        Elf64_Nhdr h = { .n_namesz = 5, .n_descsz = (Elf64_Word) len, .n_type = type };
        put(b, &h, sizeof(h));
        put(b, "CORE", 5);
        pad4(b);
        put(b, desc, len);
        pad4(b);
}

static void put_prstatus(struct buf *b, const struct elfcore_input *in, const struct elfcore_thread *t) {
        struct elf_prstatus s;
        memset(&s, 0, sizeof(s));
        s.pr_info.si_signo = in->cursig;
        s.pr_cursig = (short) in->cursig;
        s.pr_pid = (pid_t) t->tid;
        s.pr_ppid = (pid_t) in->ppid;
        s.pr_pgrp = (pid_t) in->pgid;
        s.pr_sid = (pid_t) in->sid;
        memcpy(s.pr_reg, t->regs, sizeof(s.pr_reg));
        put_note(b, NT_PRSTATUS, &s, sizeof(s));
}

static void put_prpsinfo(struct buf *b, const struct elfcore_input *in) {
        struct elf_prpsinfo p;
        memset(&p, 0, sizeof(p));
        p.pr_sname = in->state ? in->state : 'R';
        p.pr_zomb = p.pr_sname == 'Z';
        p.pr_uid = in->uid;
        p.pr_gid = in->gid;
        p.pr_pid = (int) in->pid, p.pr_ppid = (int) in->ppid;
        p.pr_pgrp = (int) in->pgid, p.pr_sid = (int) in->sid;
        if (in->comm)
                strncpy(p.pr_fname, in->comm, sizeof(p.pr_fname) - 1);
        /* psargs: argv joined by spaces, as the kernel fills it */
        size_t n = in->args_len < sizeof(p.pr_psargs) - 1 ? in->args_len : sizeof(p.pr_psargs) - 1;
        for (size_t i = 0; i < n; i++)
                p.pr_psargs[i] = in->args[i] ? in->args[i] : ' ';
        while (n > 0 && p.pr_psargs[n - 1] == ' ')
                p.pr_psargs[--n] = 0;
        put_note(b, NT_PRPSINFO, &p, sizeof(p));
}

static void put_auxv(struct buf *b, const struct elfcore_input *in) {
        size_t n = in->n_auxv & ~(size_t) 1;
        /* up to and with the first AT_NULL: the saved vector has a tail of zeros */
        for (size_t i = 0; i < n; i += 2)
                if (in->auxv[i] == AT_NULL) {
                        n = i + 2;
                        break;
                }
        put_note(b, NT_AUXV, in->auxv, n * sizeof(uint64_t));
}

static void put_file_note(struct buf *b, const struct elfcore_input *in) {
        struct buf d = { 0 };
        size_t count = 0;
        for (size_t i = 0; i < in->n_segs; i++)
                count += in->segs[i].path != NULL;
        put_u64(&d, count);
        put_u64(&d, PAGE);
        for (size_t i = 0; i < in->n_segs; i++) {
                const struct elfcore_seg *s = &in->segs[i];
                if (!s->path)
                        continue;
                put_u64(&d, s->start);
                put_u64(&d, s->end);
                put_u64(&d, s->pgoff / PAGE);
        }
        for (size_t i = 0; i < in->n_segs; i++)
                if (in->segs[i].path)
                        put(&d, in->segs[i].path, strlen(in->segs[i].path) + 1);
        if (d.failed)
                b->failed = true;
        else
                put_note(b, NT_FILE, d.p, d.len);
        free(d.p);
}

/* The PT_NOTE contents, in the kernel's order: the main thread's
 * NT_PRSTATUS, NT_PRPSINFO, NT_AUXV, NT_FILE, NT_FPREGSET, then the other
 * threads' NT_PRSTATUS and NT_FPREGSET. */
static void put_notes(struct buf *b, const struct elfcore_input *in) {
        for (size_t i = 0; i < in->n_threads; i++) {
                const struct elfcore_thread *t = &in->threads[i];
                put_prstatus(b, in, t);
                if (i == 0) {
                        put_prpsinfo(b, in);
                        if (in->n_auxv)
                                put_auxv(b, in);
                        put_file_note(b, in);
                }
                if (t->has_fpregs)
                        put_note(b, NT_FPREGSET, &t->fpregs, sizeof(t->fpregs));
        }
}

static int check_input(const struct elfcore_input *in) {
        if (!in->n_threads || !in->threads)
                return -EINVAL;
        if (in->n_segs + 1 >= PN_XNUM)
                return -EFBIG;
        for (size_t i = 0; i < in->n_segs; i++) {
                const struct elfcore_seg *s = &in->segs[i];
                if (s->start % PAGE || s->end % PAGE || s->start >= s->end)
                        return -EINVAL;
                if (i > 0 && s->start < in->segs[i - 1].end)
                        return -EINVAL;
        }
        return 0;
}

static void put_ehdr(struct buf *b, size_t phnum) {
        Elf64_Ehdr e;
        memset(&e, 0, sizeof(e));
        memcpy(e.e_ident, ELFMAG, SELFMAG);
        e.e_ident[EI_CLASS] = ELFCLASS64;
        e.e_ident[EI_DATA] = ELFDATA2LSB;
        e.e_ident[EI_VERSION] = EV_CURRENT;
        e.e_ident[EI_OSABI] = ELFOSABI_NONE;
        e.e_type = ET_CORE;
        e.e_machine = EM_X86_64;
        e.e_version = EV_CURRENT;
        e.e_phoff = sizeof(Elf64_Ehdr);
        e.e_ehsize = sizeof(Elf64_Ehdr);
        e.e_phentsize = sizeof(Elf64_Phdr);
        e.e_phnum = (Elf64_Half) phnum;
        put(b, &e, sizeof(e));
}

static uint32_t pflags(uint32_t prot) {
        return (prot & PROT_READ ? PF_R : 0) | (prot & PROT_WRITE ? PF_W : 0) | (prot & PROT_EXEC ? PF_X : 0);
}

/* Headers and notes into b, the data places into c->loads. */
static int build(struct elfcore *c, const struct elfcore_input *in, struct buf *b) {
        struct buf notes = { 0 };
        put_notes(&notes, in);
        if (notes.failed) {
                free(notes.p);
                return -ENOMEM;
        }
        size_t phnum = in->n_segs + 1;
        uint64_t notes_off = sizeof(Elf64_Ehdr) + phnum * sizeof(Elf64_Phdr);
        c->data_off = (notes_off + notes.len + PAGE - 1) / PAGE * PAGE;
        put_ehdr(b, phnum);
        Elf64_Phdr ph = { .p_type = PT_NOTE, .p_offset = notes_off, .p_filesz = notes.len, .p_align = 4 };
        put(b, &ph, sizeof(ph));
        uint64_t off = c->data_off;
        for (size_t i = 0; i < in->n_segs; i++) {
                const struct elfcore_seg *s = &in->segs[i];
                uint64_t len = s->end - s->start;
                ph = (Elf64_Phdr) { .p_type = PT_LOAD, .p_flags = pflags(s->prot), .p_offset = off,
                                    .p_vaddr = s->start, .p_memsz = len, .p_filesz = s->has_data ? len : 0,
                                    .p_align = PAGE };
                put(b, &ph, sizeof(ph));
                if (s->has_data) {
                        c->loads[c->n_loads++] = (struct load) { s->start, off, len };
                        off += len;
                }
        }
        put(b, notes.p, notes.len);
        free(notes.p);
        c->size = off;
        return b->failed ? -ENOMEM : 0;
}

int elfcore_new(const struct elfcore_input *in, elfcore_read_fn read, void (*free_ctx)(void *ctx), void *ctx,
                struct elfcore **ret_core) {
        int r = check_input(in);
        if (r < 0)
                return r;
        struct elfcore *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        struct buf b = { 0 };
        c->loads = calloc(in->n_segs ? in->n_segs : 1, sizeof(*c->loads));
        r = c->loads ? build(c, in, &b) : -ENOMEM;
        if (r < 0) {
                free(b.p);
                free(c->loads);
                free(c);
                return r;
        }
        c->head = b.p;
        c->head_len = b.len;
        c->read = read, c->free_ctx = free_ctx, c->ctx = ctx;
        *ret_core = c;
        return 0;
}

void elfcore_free(struct elfcore *c) {
        if (c->free_ctx)
                c->free_ctx(c->ctx);
        free(c->head);
        free(c->loads);
        free(c);
}

uint64_t elfcore_size(const struct elfcore *c) {
        return c->size;
}

/* The first load ending after off (c->n_loads when none). */
static size_t find_load(const struct elfcore *c, uint64_t off) {
        size_t lo = 0, hi = c->n_loads;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (c->loads[mid].off + c->loads[mid].size <= off)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

ssize_t elfcore_pread(void *core, void *buf, size_t len, uint64_t off) {
        struct elfcore *c = core;
        uint8_t *out = buf;
        if (off >= c->size)
                return 0;
        if (len > c->size - off)
                len = (size_t) (c->size - off);
        size_t done = 0;
        while (done < len) {
                uint64_t at = off + done;
                size_t want = len - done;
                if (at < c->data_off) {
                        /* headers and notes, then zeros up to the data */
                        size_t n = c->data_off - at < want ? (size_t) (c->data_off - at) : want;
                        size_t h = at < c->head_len ? c->head_len - (size_t) at : 0;
                        h = h < n ? h : n;
                        memcpy(out + done, c->head + at, h);
                        memset(out + done + h, 0, n - h);
                        done += n;
                        continue;
                }
                const struct load *l = &c->loads[find_load(c, at)];
                uint64_t in_seg = at - l->off;
                size_t n = l->size - in_seg < want ? (size_t) (l->size - in_seg) : want;
                int r = c->read(c->ctx, l->vaddr + in_seg, out + done, n);
                if (r < 0)
                        return r;
                done += n;
        }
        return (ssize_t) done;
}
