/* The core file of a dumped process; see criu-coredump.h. The VMA loading
 * here is this file's own (a shared VMA list may replace it). */
#include "criu-coredump.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cleanup.h"
#include "criu-elfcore.h"
#include "criu-image.h"
#include "criu-proc.h"
#include "criu_core.pb-c.h"
#include "criu_fdinfo.pb-c.h"
#include "criu_mm.pb-c.h"

/* VMA status bits (criu-format.md §6). */
#define VMA_VSYSCALL (1u << 2)
#define VMA_FILE_PRIVATE (1u << 6)
#define VMA_FILE_SHARED (1u << 7)
#define VMA_ANON_PRIVATE (1u << 9)
#define VMA_VVAR (1u << 12)
#define VMA_MEMFD (1u << 14)

_Static_assert(offsetof(UserX86RegsEntry, gs) - offsetof(UserX86RegsEntry, r15) ==
                       (ELFCORE_NREGS - 1) * sizeof(uint64_t),
               "gpregs are user_regs_struct's registers in its order");

struct vma {
        uint64_t start, end, pgoff, shmid;
        uint32_t prot, status;
        char *path; /* from files.img, NULL when none */
};

/* What the core is made of, freed by clear(). */
struct parts {
        struct criu_procs procs;
        const struct criu_proc *proc;
        struct elfcore_thread *threads;
        uint64_t *auxv;
        size_t n_auxv;
        struct vma *vmas;
        size_t n_vmas;
        struct elfcore_seg *segs;
        size_t n_segs;
        char *args;
        size_t args_len;
        struct criu_mem *mem;
};

static void clear(struct parts *p) {
        criu_procs_clear(&p->procs);
        free(p->threads);
        free(p->auxv);
        for (size_t i = 0; i < p->n_vmas; i++)
                free(p->vmas[i].path);
        free(p->vmas);
        free(p->segs);
        free(p->args);
        if (p->mem)
                criu_mem_free(p->mem);
}

struct opener {
        criu_open_fn open;
        void *ctx;
};

/* The first record of image "<prefix>-<n>.img", which must be a `desc`, handed to take. */
static int first_record(const struct opener *o, const char *prefix, uint32_t n, const ProtobufCMessageDescriptor *desc,
                        int (*take)(const ProtobufCMessage *m, void *out), void *out) {
        char name[64];
        struct criu_record rec;
        snprintf(name, sizeof(name), "%s-%u.img", prefix, n);
        int k = criu_image_first_of(o->open, o->ctx, name, desc, &rec);
        if (k < 0)
                return k;
        k = take(rec.msg, out);
        criu_record_done(&rec);
        return k;
}

/* The fxsave area as user_fpregs_struct, when the image has it whole. */
static void take_fpregs(struct elfcore_thread *t, const UserX86FpregsEntry *f) {
        struct user_fpregs_struct *u = &t->fpregs;
        if (!f || f->n_st_space != sizeof(u->st_space) / 4 || f->n_xmm_space != sizeof(u->xmm_space) / 4)
                return;
        u->cwd = (unsigned short) f->cwd, u->swd = (unsigned short) f->swd;
        u->ftw = (unsigned short) f->twd, u->fop = (unsigned short) f->fop;
        u->rip = f->rip, u->rdp = f->rdp;
        u->mxcsr = f->mxcsr, u->mxcr_mask = f->mxcsr_mask;
        memcpy(u->st_space, f->st_space, sizeof(u->st_space));
        memcpy(u->xmm_space, f->xmm_space, sizeof(u->xmm_space));
        t->has_fpregs = true;
}

static int take_regs(const ProtobufCMessage *m, void *out) {
        const CoreEntry *e = (const CoreEntry *) m;
        struct elfcore_thread *t = out;
        if (!e->thread_info || !e->thread_info->gpregs)
                return -EBADMSG; /* not an x86-64 core */
        memcpy(t->regs, &e->thread_info->gpregs->r15, sizeof(t->regs));
        take_fpregs(t, e->thread_info->fpregs);
        return 0;
}

/* The registers of every thread, the main thread first. */
static int load_threads(const struct opener *o, struct parts *p) {
        const struct criu_proc *c = p->proc;
        p->threads = calloc(c->n_tids, sizeof(*p->threads));
        if (!p->threads)
                return -ENOMEM;
        size_t at = 1;
        for (size_t i = 0; i < c->n_tids; i++) {
                bool main = c->tids[i] == c->pid;
                if (!main && at == c->n_tids)
                        return -EBADMSG; /* the leader is not among the threads */
                struct elfcore_thread *t = &p->threads[main ? 0 : at++];
                t->tid = c->tids[i];
                int k = first_record(o, "core", t->tid, &core_entry__descriptor, take_regs, t);
                if (k < 0)
                        return k == -ENOENT ? -EBADMSG : k;
        }
        return 0;
}

static int take_mm(const ProtobufCMessage *m, void *out) {
        const MmEntry *e = (const MmEntry *) m;
        struct parts *p = out;
        p->auxv = malloc((e->n_mm_saved_auxv + 1) * sizeof(uint64_t));
        p->vmas = calloc(e->n_vmas + 1, sizeof(*p->vmas));
        if (!p->auxv || !p->vmas)
                return -ENOMEM;
        memcpy(p->auxv, e->mm_saved_auxv, e->n_mm_saved_auxv * sizeof(uint64_t));
        p->n_auxv = e->n_mm_saved_auxv;
        for (size_t i = 0; i < e->n_vmas; i++) {
                const VmaEntry *v = e->vmas[i];
                if (v->start % 4096 || v->end % 4096 || v->start >= v->end ||
                    (i > 0 && v->start < p->vmas[i - 1].end))
                        return -EBADMSG;
                p->vmas[i] = (struct vma) { v->start, v->end, v->pgoff, v->shmid, v->prot, v->status, NULL };
                p->n_vmas++;
        }
        return 0;
}

static bool file_backed(const struct vma *v) {
        return (v->status & (VMA_FILE_PRIVATE | VMA_FILE_SHARED)) && !(v->status & VMA_MEMFD);
}

/* The paths of the file mappings: files.img's regular files by id. */
static int load_paths(const struct opener *o, struct parts *p) {
        _cleanup_store_reader_ struct store_reader *r = NULL;
        _cleanup_criu_image_ struct criu_image *img = NULL;
        int k = o->open(o->ctx, "files.img", &r);
        if (k == -ENOENT)
                return 0; /* no paths: NT_FILE lists nothing */
        if (k >= 0)
                k = criu_image_open(r, &img);
        while (k >= 0) {
                struct criu_record rec;
                k = criu_image_next(img, &rec);
                if (k <= 0)
                        break;
                const FileEntry *f = (const FileEntry *) rec.msg;
                if (rec.msg->descriptor != &file_entry__descriptor)
                        k = -EBADMSG;
                for (size_t i = 0; k >= 0 && f->type == FD_TYPES__REG && f->reg && f->reg->name && i < p->n_vmas; i++)
                        if (file_backed(&p->vmas[i]) && p->vmas[i].shmid == f->id && !p->vmas[i].path &&
                            !(p->vmas[i].path = strdup(f->reg->name)))
                                k = -ENOMEM;
                criu_record_done(&rec);
        }
        return k;
}

static int add_seg(struct parts *p, const struct vma *v, uint64_t start, uint64_t end, bool data) {
        struct elfcore_seg *s = realloc(p->segs, (p->n_segs + 1) * sizeof(*s));
        if (!s)
                return -ENOMEM;
        p->segs = s;
        s[p->n_segs++] = (struct elfcore_seg) { .start = start, .end = end, .prot = v->prot, .has_data = data,
                                                .path = v->path, .pgoff = v->pgoff + (start - v->start) };
        return 0;
}

/* A private file mapping: the dumped runs with data, the rest without. */
static int add_file_private(struct parts *p, const struct vma *v) {
        uint64_t at = v->start;
        int k = 0;
        while (k >= 0 && at < v->end) {
                uint64_t s, e;
                if (criu_mem_next_data(p->mem, at, &s, &e) < 0 || s >= v->end)
                        s = e = v->end;
                s = s > at ? s : at;
                e = e < v->end ? e : v->end;
                if (s > at)
                        k = add_seg(p, v, at, s, false);
                if (k >= 0 && e > s)
                        k = add_seg(p, v, s, e, true);
                at = e > s ? e : v->end;
        }
        return k;
}

static int build_segs(struct parts *p) {
        int k = 0;
        for (size_t i = 0; k >= 0 && i < p->n_vmas; i++) {
                const struct vma *v = &p->vmas[i];
                bool none = (v->status & (VMA_VVAR | VMA_VSYSCALL)) || v->prot == PROT_NONE;
                if (!none && (v->status & VMA_FILE_PRIVATE) && !(v->status & VMA_MEMFD))
                        k = add_file_private(p, v);
                else
                        k = add_seg(p, v, v->start, v->end, !none && (v->status & VMA_ANON_PRIVATE));
        }
        return k;
}

static int load_proc(const struct opener *o, uint32_t pid, struct parts *p) {
        int k = criu_procs_load(o->open, o->ctx, &p->procs);
        if (k < 0)
                return k;
        p->proc = criu_procs_find(&p->procs, pid);
        return p->proc ? 0 : -ENOENT;
}

static int load(const struct opener *o, uint32_t pid, struct parts *p) {
        int k = load_proc(o, pid, p);
        if (k >= 0)
                k = first_record(o, "mm", pid, &mm_entry__descriptor, take_mm, p);
        if (k >= 0)
                k = load_threads(o, p);
        if (k >= 0)
                k = load_paths(o, p);
        if (k >= 0)
                k = criu_mem_open(o->open, o->ctx, pid, &p->mem);
        if (k >= 0)
                k = build_segs(p);
        if (k >= 0)
                k = criu_mem_cmdline(p->mem, &p->args, &p->args_len);
        return k;
}

static int read_mem(void *ctx, uint64_t vaddr, void *buf, size_t len) {
        size_t n;
        int k = criu_mem_read(ctx, vaddr, buf, len, &n);
        /* a read of the file: damaged pages are an I/O error there */
        return k == -EBADMSG ? -EIO : k;
}

static void free_mem(void *ctx) {
        criu_mem_free(ctx);
}

static void free_core(void *core) {
        elfcore_free(core);
}

static struct elfcore_input input_of(const struct parts *p) {
        const struct criu_proc *c = p->proc;
        return (struct elfcore_input) {
                .pid = c->pid, .ppid = c->ppid, .pgid = c->pgid, .sid = c->sid,
                .uid = c->has_creds ? c->uid[0] : 0, .gid = c->has_creds ? c->gid[0] : 0,
                .cursig = c->state == CRIU_TASK_STOPPED ? SIGSTOP : 0,
                .state = criu_proc_state_char(c->state), .comm = c->comm,
                .args = p->args, .args_len = p->args_len,
                .threads = p->threads, .n_threads = c->n_tids,
                .auxv = p->auxv, .n_auxv = p->n_auxv, .segs = p->segs, .n_segs = p->n_segs,
        };
}

int criu_coredump_open(criu_open_fn open, void *ctx, uint32_t pid, struct store_reader **ret_reader) {
        struct opener o = { open, ctx };
        struct parts p = { 0 };
        struct elfcore *core = NULL;
        int k = load(&o, pid, &p);
        if (k >= 0) {
                struct elfcore_input in = input_of(&p);
                k = elfcore_new(&in, read_mem, free_mem, p.mem, &core);
        }
        if (k >= 0) {
                p.mem = NULL; /* the core's now */
                k = store_reader_new(elfcore_pread, free_core, core, elfcore_size(core), ret_reader);
                if (k < 0)
                        elfcore_free(core);
        }
        clear(&p);
        return k == -EINVAL ? -EBADMSG : k;
}
