/* proc/<pid>/ memory views of the CRIU dump (store/criu's criu-mem.h and
 * criu-vma.h): cmdline and maps (0444), environ (0400), mem (0400, sparse:
 * offsets are virtual addresses) and vmas/<start>-<end> (0500 dir, 0400
 * files: one per mapping with dumped pages, its bytes). Memory is read by
 * offset through a criu_mem_reader, never loaded whole; SEEK_DATA and
 * SEEK_HOLE go to criu_mem_reader_seek. The pagemap index is built once
 * per CRIU blob and process and kept in the sqlite cache (mem_open).
 *
 * mem's size is the end of the highest VMA that ends at or below 2^63 - 1
 * (off_t's limit: the x86-64 vsyscall page lies above, and CRIU never dumps
 * it). Keys: "<digest>/<pid>/<file>", the vmas dir "<digest>/<pid>/vmas",
 * a vma file "<digest>/<pid>/vmas/<start>-<end>" (hex, as in maps). */
#include "ckpt-views.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cleanup.h"
#include "criu-mem.h"
#include "criu-vma.h"
#include "db.h"
#include "views.h"

/* The dump behind a node, the pid and the rest of its key after "<pid>/". */
typedef struct dump_of {
        views_dump dump;
        uint32_t pid;
        const char *file;   /* NULL for the pid dir itself */
} dump_of;

static void dump_clear(dump_of *d) {
        views_dump_clear(&d->dump);
}

static int dump_open(fs_ctx *ctx, const fs_node *n, dump_of *ret) {
        int r = views_dump_of(ctx, n, &ret->dump);
        if (r < 0)
                return r;
        const char *rest = ret->dump.rest;
        char *end;
        unsigned long pid = rest && *rest >= '0' && *rest <= '9' ? strtoul(rest, &end, 10) : 0;
        if (!pid || pid > UINT32_MAX || (*end && *end != '/')) {
                dump_clear(ret);
                return -ENOENT;
        }
        ret->pid = (uint32_t) pid;
        ret->file = *end ? end + 1 : NULL;
        return 0;
}

static bool has_mm(const dump_of *d) {
        char name[32];
        snprintf(name, sizeof(name), "mm-%u.img", d->pid);
        const struct tar_member *m = tar_index_find(d->dump.tar, name);
        return m && m->type == TAR_TYPE_REG;
}

/* The memory index of d's process: from the sqlite cache (by the CRIU
 * tar's digest and "criu-mem/<pid>"), else built from mm and the pagemap
 * and kept there. The cache is only a shortcut: a failed write costs a
 * rebuild next time, and bytes that do not check out are rebuilt. */
static int mem_open(dump_of *d, struct criu_mem **ret) {
        struct store_db *db = d->dump.ctx->db;
        char name[32];
        snprintf(name, sizeof(name), "criu-mem/%u", d->pid);
        _cleanup_free_ void *bytes = NULL;
        size_t len = 0;
        if (db && store_db_get_extra(db, d->dump.desc.digest, name, &bytes, &len) >= 0 &&
            criu_mem_open_index(bytes, len, views_dump_open, &d->dump, ret) >= 0)
                return 0;
        int r = criu_mem_open(views_dump_open, &d->dump, d->pid, ret);
        if (r < 0 || !db)
                return r;
        _cleanup_free_ void *out = NULL;
        if (criu_mem_index_bytes(*ret, &out, &len) >= 0)
                (void) store_db_put_extra(db, d->dump.desc.digest, name, out, len);
        return 0;
}

int views_list_proc_mem(fs_ctx *ctx, const fs_node *dir, fs_dirents *out) {
        static const struct {
                const char *name;
                fs_kind kind;
        } files[] = {
                { "cmdline", FS_CK_PROC_MEMTEXT }, { "environ", FS_CK_PROC_SECRET },
                { "maps", FS_CK_PROC_MEMTEXT },    { "mem", FS_CK_PROC_MEM },
                { "vmas", FS_CK_PROC_VMAS },
        };
        dump_of d;
        int r = dump_open(ctx, dir, &d);
        if (r < 0)
                return r;
        /* A zombie has no memory. */
        for (size_t i = 0; r >= 0 && has_mm(&d) && i < sizeof(files) / sizeof(files[0]); i++) {
                _cleanup_free_ char *key = NULL;
                if (asprintf(&key, "%s/%s", NODE_KEY3(dir), files[i].name) < 0)
                        r = -ENOMEM;
                else
                        r = fs_dirents_add(out, files[i].kind, files[i].name, NODE_NS(dir), NODE_ID(dir), key);
        }
        dump_clear(&d);
        return r;
}

static int render(dump_of *d, char **ret, size_t *ret_len) {
        if (!d->file)
                return -ENOENT;
        if (!strcmp(d->file, "maps")) {
                struct criu_vmas v;
                int r = criu_vmas_load(views_dump_open, &d->dump, d->pid, &v);
                if (r >= 0) {
                        r = criu_vmas_maps_text(&v, ret, ret_len);
                        criu_vmas_clear(&v);
                }
                return r;
        }
        bool cmdline = !strcmp(d->file, "cmdline");
        if (!cmdline && strcmp(d->file, "environ"))
                return -ENOENT;
        _cleanup_criu_mem_ struct criu_mem *m = NULL;
        int r = mem_open(d, &m);
        if (r < 0)
                return r;
        return cmdline ? criu_mem_cmdline(m, ret, ret_len) : criu_mem_environ(m, ret, ret_len);
}

int views_content_proc_mem(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len) {
        dump_of d;
        int r = dump_open(ctx, n, &d);
        if (r < 0)
                return r;
        r = render(&d, ret, ret_len);
        dump_clear(&d);
        return views_dump_errno(r);
}

/* "vmas/<start>-<end>" -> the range; -ENOENT for other names. */
static int vma_named(const char *file, uint64_t *ret_start, uint64_t *ret_end) {
        uint64_t s, e;
        int n = 0;
        if (!file || strncmp(file, "vmas/", 5) ||
            sscanf(file + 5, "%" SCNx64 "-%" SCNx64 "%n", &s, &e, &n) != 2 || file[5 + n] || e <= s)
                return -ENOENT;
        *ret_start = s;
        *ret_end = e;
        return 0;
}

/* The size of mem: see the top of this file. */
static int mem_size(dump_of *d, uint64_t *ret) {
        struct criu_vmas v;
        int r = criu_vmas_load(views_dump_open, &d->dump, d->pid, &v);
        if (r < 0)
                return r;
        uint64_t size = 0;
        for (size_t i = 0; i < v.n; i++)
                if (v.v[i].end <= INT64_MAX && v.v[i].end > size)
                        size = v.v[i].end;
        criu_vmas_clear(&v);
        *ret = size;
        return 0;
}

/* The window of memory a file shows: [*ret_base, *ret_base + *ret_size). */
static int window_of(dump_of *d, uint64_t *ret_base, uint64_t *ret_size) {
        uint64_t s, e;
        if (d->file && !strcmp(d->file, "mem")) {
                *ret_base = 0;
                return mem_size(d, ret_size);
        }
        int r = vma_named(d->file, &s, &e);
        if (r < 0)
                return r;
        *ret_base = s;
        *ret_size = e - s;
        return 0;
}

int views_proc_mem_attr(fs_ctx *ctx, const fs_node *n, struct stat *st) {
        int r = views_ckpt_attr(ctx, n, st);
        if (r < 0 || !S_ISREG(st->st_mode))
                return r;
        dump_of d;
        if ((r = dump_open(ctx, n, &d)) < 0)
                return r;
        uint64_t base, size;
        _cleanup_criu_mem_ struct criu_mem *m = NULL;
        r = window_of(&d, &base, &size);
        /* st_blocks say what is stored: cp and tar look for holes only
         * in a file with fewer blocks than its size. */
        if (r >= 0)
                r = mem_open(&d, &m);
        dump_clear(&d);
        if (r < 0)
                return views_dump_errno(r);
        st->st_size = (off_t) size;
        st->st_blocks = (blkcnt_t) ((criu_mem_data_bytes(m, base, base + size) + 511) / 512);
        if (!st->st_blocks && size)
                st->st_blocks = 1;   /* 0 would mean "as the size" (node_attr) */
        return 0;
}

int views_proc_mem_open(fs_ctx *ctx, const fs_node *n, struct store_reader **ret, char **ret_digest) {
        dump_of d;
        int r = dump_open(ctx, n, &d);
        if (r < 0)
                return r;
        uint64_t base, size;
        struct criu_mem *m = NULL;
        r = window_of(&d, &base, &size);
        if (r >= 0)
                r = mem_open(&d, &m);
        if (r >= 0 && (r = criu_mem_reader(m, base, size, ret)) < 0)
                criu_mem_free(m);
        dump_clear(&d);
        if (r >= 0)
                *ret_digest = NULL;   /* not a whole blob: nothing to check it against */
        return views_dump_errno(r);
}

int views_list_proc_vmas(fs_ctx *ctx, const fs_node *dir, fs_dirents *out) {
        dump_of d;
        int r = dump_open(ctx, dir, &d);
        if (r < 0)
                return r;
        _cleanup_criu_mem_ struct criu_mem *m = NULL;
        struct criu_vmas v = { 0 };
        r = mem_open(&d, &m);
        if (r >= 0)
                r = criu_vmas_load(views_dump_open, &d.dump, d.pid, &v);
        for (size_t i = 0; r >= 0 && i < v.n; i++) {
                const struct criu_vma *a = &v.v[i];
                char name[40];
                _cleanup_free_ char *key = NULL;
                if (!criu_mem_has_data(m, a->start, a->end))
                        continue;
                snprintf(name, sizeof(name), "%08" PRIx64 "-%08" PRIx64, a->start, a->end);
                if (asprintf(&key, "%s/%s", NODE_KEY3(dir), name) < 0)
                        r = -ENOMEM;
                else
                        r = fs_dirents_add(out, FS_CK_PROC_VMA, name, NODE_NS(dir), NODE_ID(dir), key);
        }
        criu_vmas_clear(&v);
        dump_clear(&d);
        return views_dump_errno(r);
}

int views_proc_mem_seek(const struct store_reader *rd, uint64_t off, bool hole, uint64_t *ret_off) {
        return criu_mem_reader_seek(rd, off, hole, ret_off);
}
