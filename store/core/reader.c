/* SPDX-License-Identifier: MIT */
#include "reader.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

int store_reader_new(ssize_t (*pread_fn)(void *ctx, void *buf, size_t len, uint64_t off),
                     void (*free_ctx)(void *ctx), void *ctx, uint64_t size,
                     struct store_reader **ret_reader) {
        struct store_reader *r;

        if (!pread_fn || !ret_reader)
                return -EINVAL;
        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->pread = pread_fn;
        r->free_ctx = free_ctx;
        r->ctx = ctx;
        r->size = size;
        r->fd = -1;
        *ret_reader = r;
        return 0;
}

void store_reader_free(struct store_reader *r) {
        if (!r)
                return;
        if (r->free_ctx)
                r->free_ctx(r->ctx);
        free(r);
}

/* fd backend: the ctx is the fd itself, boxed so that free_ctx can close it. */
struct fd_ctx {
        int fd;
};

static ssize_t fd_pread(void *ctx, void *buf, size_t len, uint64_t off) {
        struct fd_ctx *c = ctx;
        ssize_t n;

        if (off > (uint64_t) INT64_MAX)
                return 0;
        do
                n = pread(c->fd, buf, len, (off_t) off);
        while (n < 0 && errno == EINTR);
        return n < 0 ? -errno : n;
}

static void fd_free(void *ctx) {
        struct fd_ctx *c = ctx;

        closep(&c->fd);
        free(c);
}

int store_reader_from_fd(int fd, struct store_reader **ret_reader) {
        struct store_reader *r;
        struct fd_ctx *c;
        struct stat st;
        int k;

        if (fd < 0 || !ret_reader)
                return -EBADF;
        if (fstat(fd, &st) < 0)
                return -errno;
        /* pread() needs a seekable file with a stable size. */
        if (!S_ISREG(st.st_mode))
                return -ESPIPE;
        c = malloc(sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->fd = fd;
        k = store_reader_new(fd_pread, fd_free, c, (uint64_t) st.st_size, &r);
        if (k < 0) {
                free(c); /* the fd stays the caller's on failure */
                return k;
        }
        r->fd = fd;
        r->fd_offset = 0;
        *ret_reader = r;
        return 0;
}

struct slice_ctx {
        struct store_reader *parent; /* owned */
        uint64_t off;
        uint64_t size;
};

static void slice_free(void *ctx) {
        struct slice_ctx *c = ctx;
        store_reader_free(c->parent);
        free(c);
}

static ssize_t slice_pread(void *ctx, void *buf, size_t len, uint64_t off) {
        struct slice_ctx *c = ctx;

        if (off >= c->size)
                return 0;
        if (len > c->size - off)
                len = (size_t) (c->size - off);
        return c->parent->pread(c->parent->ctx, buf, len, c->off + off);
}

int store_reader_slice_owning(struct store_reader *parent, uint64_t off, uint64_t size,
                              struct store_reader **ret_reader) {
        struct store_reader *r;
        struct slice_ctx *c;
        int k;

        if (!parent || !ret_reader)
                return -EINVAL;
        if (off > parent->size || size > parent->size - off)
                return -EINVAL;
        c = malloc(sizeof(*c));
        if (!c)
                return -ENOMEM;
        *c = (struct slice_ctx) { .parent = parent, .off = off, .size = size };
        k = store_reader_new(slice_pread, slice_free, c, size, &r);
        if (k < 0) {
                free(c);
                return k;
        }
        if (parent->fd >= 0) {
                r->fd = parent->fd;
                r->fd_offset = parent->fd_offset + off;
        }
        *ret_reader = r;
        return 0;
}

ssize_t store_reader_pread(struct store_reader *r, void *buf, size_t len, uint64_t off) {
        size_t done = 0;

        if (!r || (!buf && len > 0))
                return -EINVAL;
        if (off >= r->size)
                return 0;
        if (len > r->size - off)
                len = (size_t) (r->size - off);
        if (len > SSIZE_MAX)
                len = SSIZE_MAX;
        while (done < len) {
                ssize_t n = r->pread(r->ctx, (uint8_t *) buf + done, len - done, off + done);
                if (n < 0)
                        return n;
                if (n == 0)
                        break; /* the backend ended early (e.g. a file shrank) */
                if ((size_t) n > len - done)
                        return -EIO; /* a misbehaving backend must not make us overrun */
                done += (size_t) n;
        }
        return (ssize_t) done;
}

int store_reader_read_exact(struct store_reader *r, void *buf, size_t len, uint64_t off) {
        ssize_t n;

        if (len > SSIZE_MAX)
                return -EINVAL;
        n = store_reader_pread(r, buf, len, off);
        if (n < 0)
                return (int) n;
        return (size_t) n == len ? 0 : -ENODATA;
}
