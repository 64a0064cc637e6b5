/* libFuzzer target of the CRIU image decoder: the input as a CRIU image in a
 * memory store_reader, through criu_image_json() and the record iterator.
 * Corrupt data must give an error, never a crash or a sanitizer report
 * (criu-image.h); the same for the fds/sockets/mounts views (criu-fds.h)
 * and for the memory, stats, check and proc views (criu-mem.h,
 * criu-vma.h, criu-stats.h, criu-check.h, criu-proc.h, criu-inspect.h: the
 * input as every member of a dump). tests/fuzz/fuzz-criu-dump.c feeds a
 * whole dump.
 * Built and run by tests/fuzz/run-fuzz.sh. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "criu-check.h"
#include "criu-fds.h"
#include "criu-image.h"
#include "criu-inspect.h"
#include "criu-mem.h"
#include "criu-proc.h"
#include "criu-stats.h"
#include "criu-vma.h"
#include "reader.h"

struct mem {
        const uint8_t *data;
        size_t size;
};

static ssize_t mem_pread(void *ctx, void *buf, size_t len, uint64_t off) {
        const struct mem *m = ctx;

        if (off >= m->size)
                return 0;
        if (len > m->size - off)
                len = m->size - off;
        memcpy(buf, m->data + off, len);
        return (ssize_t)len;
}

static void iterate(struct store_reader *r) {
        struct criu_image *img = NULL;
        struct criu_record rec;

        if (criu_image_open(r, &img) < 0)
                return;
        (void)criu_image_kind(img);
        while (criu_image_next(img, &rec) > 0)
                criu_record_done(&rec);
        criu_image_free(img);
}

/* The fds, sockets and mounts views (criu-fds.h) over the input as
 * files.img (one fd per file it holds) and as mountpoints-N.img. */
static void fds_views(struct store_reader *r) {
        struct criu_files files = { 0 };
        struct criu_mounts mounts;
        char *s = NULL;
        size_t len;
        json_t *j = NULL;

        (void)criu_files_add(&files, r);
        struct criu_fd *fds = calloc(files.n ? files.n : 1, sizeof(*fds));
        struct criu_task_fds t = { .pid = 1, .v = fds, .n = fds ? files.n : 0, .has_fs = true, .cwd_id = 1 };
        for (size_t i = 0; i < t.n; i++)
                fds[i] = (struct criu_fd){ .fd = (uint32_t)i, .id = files.v[i].id, .type = files.v[i].type };
        if (criu_fds_text(&t, &files, &s, &len) == 0)
                free(s);
        if (criu_fds_json(&t, &files, &j) == 0)
                json_decref(j);
        if (criu_sockets_text(&t, 1, &files, &s, &len) == 0)
                free(s);
        if (criu_sockets_json(&t, 1, &files, &j) == 0)
                json_decref(j);
        free(fds);
        criu_files_clear(&files);
        if (criu_mounts_load(r, &mounts) < 0)
                return;
        if (criu_mounts_text(&mounts, &s, &len) == 0)
                free(s);
        if (criu_mounts_json(&mounts, &j) == 0)
                json_decref(j);
        criu_mounts_clear(&mounts);
}

/* Every member of the dump is the input (mm-1.img, pagemap-1.img,
 * pages-N.img, files.img): criu-mem.h and criu-vma.h over it. */
static int open_input(void *ctx, const char *name, struct store_reader **ret) {
        (void)name;
        return store_reader_new(mem_pread, NULL, ctx, ((struct mem *)ctx)->size, ret);
}

static void mem_use(struct criu_mem *m) {
        char buf[64], *s = NULL;
        size_t n, len;
        uint64_t a, b;
        if (criu_mem_next_data(m, 0, &a, &b) == 0) {
                (void)criu_mem_read(m, a, buf, sizeof(buf), &n);
                (void)criu_mem_read(m, b - 8, buf, sizeof(buf), &n);
                (void)criu_mem_next_hole(m, a, &b);
        }
        if (criu_mem_cmdline(m, &s, &len) == 0)
                free(s);
        if (criu_mem_environ(m, &s, &len) == 0)
                free(s);
}

static void mem_views(struct mem *in) {
        struct criu_mem *m = NULL;
        struct criu_vmas v;
        char *s = NULL;
        size_t len;
        if (criu_mem_open(open_input, in, 1, &m) == 0) {
                mem_use(m);
                criu_mem_free(m);
        }
        if (criu_mem_open_index(in->data, in->size, open_input, in, &m) == 0) {
                mem_use(m);
                criu_mem_free(m);
        }
        if (criu_vmas_load(open_input, in, 1, &v) < 0)
                return;
        if (criu_vmas_maps_text(&v, &s, &len) == 0)
                free(s);
        criu_vmas_clear(&v);
}

/* The input as the pstree and every core of the tree (open_input). */
static void proc_views(struct store_reader *r, struct mem *m) {
        struct criu_dump_stats st;
        struct criu_procs p;
        char *s = NULL;
        size_t len;
        json_t *j = NULL;

        (void)criu_image_check(r);
        if (criu_stats_load(r, &st) == 0 && criu_stats_text(&st, &s, &len) == 0)
                free(s);
        if (criu_procs_load(open_input, m, &p) < 0)
                return;
        if (criu_procs_ps_text(&p, &s, &len) == 0)
                free(s);
        if (criu_procs_ps_json(&p, &j) == 0)
                json_decref(j);
        for (size_t i = 0; i < p.n; i++)
                if (criu_proc_status(&p.v[i], &s, &len) == 0)
                        free(s);
        if (criu_inspect_process_tree(&p, open_input, m, &j) == 0)
                json_decref(j);
        criu_procs_clear(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct mem m = { data, size };
        struct store_reader *r = NULL;
        json_t *j = NULL;

        if (store_reader_new(mem_pread, NULL, &m, size, &r) < 0)
                return 0;
        if (criu_image_json(r, &j) == 0)
                json_decref(j);
        iterate(r);
        fds_views(r);
        mem_views(&m);
        proc_views(r, &m);
        store_reader_free(r);
        return 0;
}
