/* A store_reader over a window of a process's memory; see criu-mem.h. */
#include "criu-mem.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

struct window {
        struct criu_mem *m;
        uint64_t base;
        uint64_t size;
};

static ssize_t window_pread(void *ctx, void *buf, size_t len, uint64_t off) {
        const struct window *w = ctx;
        if (off >= w->size)
                return 0;
        if (len > w->size - off)
                len = (size_t) (w->size - off);
        if (len > SSIZE_MAX)
                len = SSIZE_MAX;
        size_t n = 0;
        int r = criu_mem_read(w->m, w->base + off, buf, len, &n);
        /* Readers serve files: damaged pages are an I/O error to their
         * readers, as for any reader of a damaged blob. */
        if (r == -EBADMSG)
                r = -EIO;
        return r < 0 ? r : (ssize_t) n;
}

static void window_free(void *ctx) {
        struct window *w = ctx;
        criu_mem_free(w->m);
        free(w);
}

int criu_mem_reader(struct criu_mem *m, uint64_t base, uint64_t size, struct store_reader **ret_reader) {
        if (size > UINT64_MAX - base)
                return -EINVAL;
        struct window *w = malloc(sizeof(*w));
        if (!w)
                return -ENOMEM;
        *w = (struct window){ m, base, size };
        int r = store_reader_new(window_pread, window_free, w, size, ret_reader);
        if (r < 0)
                free(w);
        return r;
}

int criu_mem_reader_seek(const struct store_reader *r, uint64_t off, bool hole, uint64_t *ret_off) {
        if (r->pread != window_pread)
                return -EINVAL;
        const struct window *w = r->ctx;
        if (off >= w->size)
                return -ENXIO;
        uint64_t a = w->base + off, end = w->base + w->size, s, e;
        if (hole) {
                int k = criu_mem_next_hole(w->m, a, &s);
                if (k < 0)
                        return k;
                *ret_off = (s < end ? s : end) - w->base;
                return 0;
        }
        int k = criu_mem_next_data(w->m, a, &s, &e);
        if (k < 0)
                return k;
        if (s < a)
                s = a;
        if (s >= end)
                return -ENXIO;
        *ret_off = s - w->base;
        return 0;
}
