/* The VMAs of a dumped process and their maps text; see criu-vma.h. */
#include "criu-vma.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "criu-image.h"
#include "criu_fdinfo.pb-c.h"
#include "criu_mm.pb-c.h"
#include "criu_regfile.pb-c.h"
#include "memtext.h"

#define MAP_SHARED_BIT 0x01u
/* The kernel pads the fields before the path to this width. */
#define MAPS_PATH_COLUMN 73

void criu_vmas_clear(struct criu_vmas *v) {
        for (size_t i = 0; i < v->n; i++)
                free(v->v[i].path);
        free(v->v);
        *v = (struct criu_vmas){ 0 };
}

static bool file_mapping(const struct criu_vma *a) {
        return (a->status & (CRIU_VMA_FILE_PRIVATE | CRIU_VMA_FILE_SHARED)) && !(a->status & CRIU_VMA_MEMFD);
}

static const char *special_name(uint32_t status) {
        if (status & CRIU_VMA_HEAP)
                return "[heap]";
        if (status & CRIU_VMA_STACK)
                return "[stack]";
        if (status & CRIU_VMA_VDSO)
                return "[vdso]";
        if (status & CRIU_VMA_VVAR)
                return "[vvar]";
        if (status & CRIU_VMA_VSYSCALL)
                return "[vsyscall]";
        if (status & CRIU_VMA_ANON_SHARED)
                return "/dev/zero (deleted)";
        return NULL;
}

/* Copies the VMAs of mm (its one record) into out. */
static int vmas_of_mm(const MmEntry *mm, struct criu_vmas *out) {
        out->v = calloc(mm->n_vmas ? mm->n_vmas : 1, sizeof(*out->v));
        if (!out->v)
                return -ENOMEM;
        for (size_t i = 0; i < mm->n_vmas; i++) {
                const VmaEntry *e = mm->vmas[i];
                if (e->end < e->start || (i && e->start < mm->vmas[i - 1]->end))
                        return -EBADMSG; /* backwards, unsorted or overlapping */
                struct criu_vma *a = &out->v[out->n++];
                *a = (struct criu_vma){ e->start, e->end, e->pgoff, e->shmid, e->prot, e->flags, e->status, NULL };
                const char *s = file_mapping(a) ? NULL : special_name(a->status);
                /* CRIU does not always mark the stack; the kernel names the
                 * VMA that holds mm's start_stack. */
                if (!s && !file_mapping(a) && a->start <= mm->mm_start_stack && mm->mm_start_stack <= a->end)
                        s = "[stack]";
                if (s && !(a->path = strdup(s)))
                        return -ENOMEM;
        }
        return 0;
}

/* Runs each(record, arg) over the records of image `name`. */
static int each_record(criu_open_fn open, void *ctx, const char *name,
                       int (*each)(const ProtobufCMessage *msg, void *arg), void *arg) {
        _cleanup_store_reader_ struct store_reader *r = NULL;
        int rc = open(ctx, name, &r);
        if (rc < 0)
                return rc;
        _cleanup_criu_image_ struct criu_image *img = NULL;
        rc = criu_image_open(r, &img);
        struct criu_record rec;
        while (rc >= 0 && (rc = criu_image_next(img, &rec)) == 1) {
                rc = each(rec.msg, arg);
                criu_record_done(&rec);
        }
        return rc;
}

static int take_mm(const ProtobufCMessage *msg, void *arg) {
        struct criu_vmas *out = arg;
        if (msg->descriptor != &mm_entry__descriptor || out->v)
                return -EBADMSG;
        return vmas_of_mm((const MmEntry *) msg, out);
}

static int take_file(const ProtobufCMessage *msg, void *arg) {
        struct criu_vmas *out = arg;
        if (msg->descriptor != &file_entry__descriptor)
                return -EBADMSG;
        const FileEntry *f = (const FileEntry *) msg;
        if (f->type != FD_TYPES__REG || !f->reg || !f->reg->name)
                return 0;
        for (size_t i = 0; i < out->n; i++) {
                struct criu_vma *a = &out->v[i];
                if (a->path || !file_mapping(a) || a->shmid != f->id)
                        continue;
                if (!(a->path = strdup(f->reg->name)))
                        return -ENOMEM;
        }
        return 0;
}

int criu_vmas_load(criu_open_fn open, void *ctx, uint32_t pid, struct criu_vmas *ret_vmas) {
        struct criu_vmas v = { 0 };
        char name[32];
        snprintf(name, sizeof(name), "mm-%u.img", pid);
        int rc = each_record(open, ctx, name, take_mm, &v);
        if (rc >= 0 && !v.v)
                rc = -EBADMSG; /* no mm record */
        bool files = false;
        for (size_t i = 0; rc >= 0 && i < v.n; i++)
                files = files || file_mapping(&v.v[i]);
        if (rc >= 0 && files) {
                rc = each_record(open, ctx, "files.img", take_file, &v);
                if (rc == -ENOENT)
                        rc = 0;
        }
        if (rc < 0) {
                criu_vmas_clear(&v);
                return rc;
        }
        *ret_vmas = v;
        return 0;
}

static int maps_line(FILE *f, const struct criu_vma *a) {
        int n = fprintf(f, "%08" PRIx64 "-%08" PRIx64 " %c%c%c%c %08" PRIx64 " 00:00 0", a->start, a->end,
                        a->prot & 1 ? 'r' : '-', a->prot & 2 ? 'w' : '-', a->prot & 4 ? 'x' : '-',
                        a->flags & MAP_SHARED_BIT ? 's' : 'p', a->pgoff);
        if (n < 0)
                return -ENOMEM;
        if (a->path)
                n = fprintf(f, "%*s%s", n < MAPS_PATH_COLUMN - 1 ? MAPS_PATH_COLUMN - n : 1, "", a->path);
        return n < 0 || fputc('\n', f) == EOF ? -ENOMEM : 0;
}

int criu_vmas_maps_text(const struct criu_vmas *v, char **ret, size_t *ret_len) {
        struct memtext t;
        if (memtext_open(&t) < 0)
                return -ENOMEM;
        int rc = 0;
        for (size_t i = 0; rc >= 0 && i < v->n; i++)
                rc = maps_line(t.f, &v->v[i]);
        if (rc < 0) {
                char *s;
                size_t n;
                if (memtext_finish(&t, &s, &n) == 0)
                        free(s);
                return rc;
        }
        return memtext_finish(&t, ret, ret_len);
}
