/* SPDX-License-Identifier: MIT */
#include "vtar.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

#define BLK 512u
#define PATH_MAX_LEN 4095u
/* The largest size the 11 octal digits of a ustar size field hold. */
#define USTAR_SIZE_MAX 077777777777ull

/* One range of the archive: bytes in memory (owned), the data of a member
 * reader (owned), or zeros (both NULL). */
typedef struct vtar_seg {
        uint64_t off, len;
        uint8_t *mem;
        struct store_reader *rd;
} vtar_seg;

struct vtar {
        vtar_seg *segs;
        size_t n, cap;
        uint64_t size;
        bool finished;
};

int vtar_new(vtar **ret) {
        vtar *t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        *ret = t;
        return 0;
}

void vtar_free(vtar *t) {
        if (!t)
                return;
        for (size_t i = 0; i < t->n; i++) {
                free(t->segs[i].mem);
                if (t->segs[i].rd)
                        store_reader_free(t->segs[i].rd);
        }
        free(t->segs);
        free(t);
}

uint64_t vtar_size(const vtar *t) {
        return t->size + (t->finished ? 0 : 2 * BLK);
}

/* Appends a segment; takes mem and rd on success only. */
static int push(vtar *t, uint64_t len, uint8_t *mem, struct store_reader *rd) {
        if (len == 0) {
                free(mem);
                return 0;
        }
        if (t->n == t->cap) {
                size_t cap = t->cap ? 2 * t->cap : 16;
                vtar_seg *v = realloc(t->segs, cap * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                t->segs = v;
                t->cap = cap;
        }
        t->segs[t->n++] = (vtar_seg) { .off = t->size, .len = len, .mem = mem, .rd = rd };
        t->size += len;
        return 0;
}

static uint64_t pad_of(uint64_t len) {
        return (BLK - len % BLK) % BLK;
}

/* Writes v as `width - 1` octal digits and a NUL into field f. */
static void octal(char *f, size_t width, uint64_t v) {
        f[width - 1] = '\0';
        for (size_t i = width - 1; i-- > 0; v >>= 3)
                f[i] = (char) ('0' + (v & 7));
}

/* Fills the ustar header block `b` (zeroed) of a member. */
static void ustar(uint8_t *b, const char *prefix, size_t plen, const char *name, char type, uint32_t mode,
                  uint64_t size, int64_t mtime) {
        char *h = (char *) b;
        memcpy(h, name, strnlen(name, 100));
        octal(h + 100, 8, mode & 07777);
        octal(h + 108, 8, 0);
        octal(h + 116, 8, 0);
        octal(h + 124, 12, size);
        octal(h + 136, 12, mtime > 0 ? (uint64_t) mtime : 0);
        h[156] = type;
        memcpy(h + 257, "ustar", 6);
        memcpy(h + 263, "00", 2);
        octal(h + 329, 8, 0);
        octal(h + 337, 8, 0);
        memcpy(h + 345, prefix, plen);
        memset(h + 148, ' ', 8);
        unsigned sum = 0;
        for (size_t i = 0; i < BLK; i++)
                sum += b[i];
        snprintf(h + 148, 8, "%06o", sum & 0777777u);
        h[155] = ' ';
}

/* The length of the pax record "LEN key=value\n", LEN counting itself. */
static size_t pax_len(const char *key, size_t vlen) {
        size_t base = strlen(key) + vlen + 3, len = base + 1;
        for (;;) {
                size_t digits = (size_t) snprintf(NULL, 0, "%zu", len);
                if (base + digits == len)
                        return len;
                len = base + digits;
        }
}

static size_t pax_put(char *out, const char *key, const char *value, size_t vlen) {
        size_t len = pax_len(key, vlen);
        int k = sprintf(out, "%zu %s=", len, key);
        memcpy(out + k, value, vlen);
        out[len - 1] = '\n';
        return len;
}

/* Where path splits into a ustar prefix (<= 155) and name (1..100): the
 * length of the prefix, or 0 when it does not. */
static size_t split_at(const char *path, size_t len) {
        if (len <= 100)
                return 0;
        for (size_t i = len - 1; i > 0; i--) {
                if (path[i] != '/')
                        continue;
                if (i > 155)
                        continue;
                size_t rest = len - i - 1;
                if (rest == 0 || rest > 100)
                        return 0;
                return i;
        }
        return 0;
}

/* The header blocks of a member (a pax header first when needed), as one
 * malloc'd buffer of *ret_len bytes. */
static int headers(const char *path, char type, uint32_t mode, uint64_t size, int64_t mtime, uint8_t **ret,
                   size_t *ret_len) {
        size_t len = strlen(path), plen = split_at(path, len);
        bool long_path = len > 100 && plen == 0, big = size > USTAR_SIZE_MAX;
        char sizebuf[24];
        int slen = snprintf(sizebuf, sizeof(sizebuf), "%llu", (unsigned long long) size);
        size_t pax = (long_path ? pax_len("path", len) : 0) + (big ? pax_len("size", (size_t) slen) : 0);
        size_t total = (pax ? BLK + pax + pad_of(pax) : 0) + BLK;
        uint8_t *b = calloc(1, total + 1); /* + 1: sprintf's NUL after the last record */
        if (!b)
                return -ENOMEM;
        uint8_t *h = b;
        if (pax) {
                const char *base = strrchr(path, '/');
                char pname[101];
                snprintf(pname, sizeof(pname), "PaxHeaders/%s", base && base[1] ? base + 1 : path);
                ustar(h, "", 0, pname, 'x', 0644, pax, mtime);
                char *rec = (char *) h + BLK;
                if (long_path)
                        rec += pax_put(rec, "path", path, len);
                if (big)
                        pax_put(rec, "size", sizebuf, (size_t) slen);
                h += BLK + pax + pad_of(pax);
        }
        const char *name = plen ? path + plen + 1 : path;
        ustar(h, path, plen, name, type, mode, big ? 0 : size, mtime);
        *ret = b;
        *ret_len = total;
        return 0;
}

/* Adds the headers of a member and `size` bytes of data: from rd (taken
 * on success), from mem (taken on success), or none. */
static int add(vtar *t, const char *path, char type, uint32_t mode, int64_t mtime, uint64_t size,
               struct store_reader *rd, uint8_t *mem) {
        if (t->finished || !*path || strlen(path) > PATH_MAX_LEN)
                return -EINVAL;
        _cleanup_free_ uint8_t *h = NULL;
        size_t hlen;
        int r = headers(path, type, mode, size, mtime, &h, &hlen);
        if (r < 0)
                return r;
        size_t n0 = t->n;
        uint64_t size0 = t->size;
        r = push(t, hlen, h, NULL);
        if (r >= 0) {
                h = NULL;
                r = push(t, size, mem, rd);
        }
        if (r >= 0)
                r = push(t, pad_of(size), NULL, NULL);
        if (r < 0) {
                /* Undo: the segments pushed here, but not what stays the
                 * caller's (rd, mem) when its push failed. */
                for (size_t i = n0; i < t->n; i++)
                        if (!t->segs[i].rd && t->segs[i].mem != mem)
                                free(t->segs[i].mem);
                t->n = n0;
                t->size = size0;
                return r;
        }
        return 0;
}

int vtar_add_dir(vtar *t, const char *path, uint32_t mode, int64_t mtime) {
        size_t len = strlen(path);
        if (len == 0)
                return -EINVAL;
        if (path[len - 1] == '/')
                return add(t, path, '5', mode, mtime, 0, NULL, NULL);
        _cleanup_free_ char *p = NULL;
        if (asprintf(&p, "%s/", path) < 0)
                return -ENOMEM;
        return add(t, p, '5', mode, mtime, 0, NULL, NULL);
}

int vtar_add_file(vtar *t, const char *path, uint32_t mode, int64_t mtime, struct store_reader *data) {
        if (!data)
                return -EINVAL;
        int r = add(t, path, '0', mode, mtime, data->size, data->size ? data : NULL, NULL);
        if (r >= 0 && data->size == 0)
                store_reader_free(data); /* no segment holds it */
        return r;
}

int vtar_add_bytes(vtar *t, const char *path, uint32_t mode, int64_t mtime, const void *buf, size_t len) {
        _cleanup_free_ uint8_t *copy = NULL;
        if (len) {
                copy = malloc(len);
                if (!copy)
                        return -ENOMEM;
                memcpy(copy, buf, len);
        }
        int r = add(t, path, '0', mode, mtime, len, NULL, copy);
        if (r >= 0)
                copy = NULL;
        return r;
}

/* The segment holding byte off (off < t->size). */
static const vtar_seg *seg_at(const vtar *t, uint64_t off) {
        size_t lo = 0, hi = t->n;
        while (hi - lo > 1) {
                size_t mid = lo + (hi - lo) / 2;
                if (t->segs[mid].off <= off)
                        lo = mid;
                else
                        hi = mid;
        }
        return &t->segs[lo];
}

static ssize_t vtar_pread(void *ctx, void *buf, size_t len, uint64_t off) {
        const vtar *t = ctx;
        if (off >= t->size || len == 0)
                return 0;
        if (len > t->size - off)
                len = (size_t) (t->size - off);
        size_t done = 0;
        for (const vtar_seg *s = seg_at(t, off); done < len; s++) {
                uint64_t in = off + done - s->off;
                size_t n = (size_t) (s->len - in < len - done ? s->len - in : len - done);
                uint8_t *dst = (uint8_t *) buf + done;
                if (s->rd) {
                        ssize_t k = store_reader_pread(s->rd, dst, n, in);
                        if (k < 0)
                                return done ? (ssize_t) done : k;
                        if ((size_t) k < n) /* the member's reader ended before its size */
                                return done ? (ssize_t) done : -EIO;
                } else if (s->mem)
                        memcpy(dst, s->mem + in, n);
                else
                        memset(dst, 0, n);
                done += n;
        }
        return (ssize_t) done;
}

static void vtar_free_ctx(void *ctx) {
        vtar_free(ctx);
}

int vtar_finish(vtar *t, struct store_reader **ret) {
        if (t->finished)
                return -EINVAL;
        int r = push(t, 2 * BLK, NULL, NULL);
        if (r < 0)
                return r;
        t->finished = true;
        r = store_reader_new(vtar_pread, vtar_free_ctx, t, t->size, ret);
        if (r < 0) {
                t->n--;
                t->size -= 2 * BLK;
                t->finished = false;
        }
        return r;
}
