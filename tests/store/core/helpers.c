/* SPDX-License-Identifier: MIT */
#include "helpers.h"


#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

static void *xrealloc(void *p, size_t n) {
        p = realloc(p, n);
        if (!p)
                abort();
        return p;
}

char *th_mkdtemp(void) {
        const char *tmp = getenv("TMPDIR");
        char *p;

        if (asprintf(&p, "%s/ckptfs-store-test.XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
                abort();
        if (!mkdtemp(p))
                abort();
        return p;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) ftw;
        return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 ? -1 : 0;
}

void th_rm_rf(const char *path) {
        (void) nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int th_write_file(const char *path, const void *data, size_t len) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        const uint8_t *p = data;

        if (fd < 0)
                return -errno;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        int e = errno;
                        close(fd);
                        return -e;
                }
                p += n;
                len -= (size_t) n;
        }
        return close(fd) < 0 ? -errno : 0;
}

int th_read_file(const char *path, void **ret_data, size_t *ret_len) {
        struct th_buf b = {};
        uint8_t chunk[65536];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -errno;
        while ((n = read(fd, chunk, sizeof(chunk))) > 0)
                th_buf_put(&b, chunk, (size_t) n);
        close(fd);
        if (n < 0) {
                th_buf_free(&b);
                return -EIO;
        }
        *ret_data = b.p ? b.p : malloc(1);
        *ret_len = b.len;
        return 0;
}

uint64_t th_rand(uint64_t *s) {
        uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *s = x;
        return x;
}

void th_fill(uint64_t *state, uint8_t *buf, size_t len, unsigned random_percent) {
        static const char *const words[] = {
                "checkpoint ", "container ", "restore ", "memory ", "page ", "process ",
                "thread ", "socket ", "pipe ", "file ", "mount ", "namespace ", "\n",
                "0123456789", "ckptfs ", "layer ", "whiteout ", "digest ",
        };
        size_t o = 0;

        while (o < len) {
                size_t run = 16 + th_rand(state) % 112;
                if (run > len - o)
                        run = len - o;
                if (th_rand(state) % 100 < random_percent) {
                        for (size_t i = 0; i < run; i++)
                                buf[o + i] = (uint8_t) th_rand(state);
                } else {
                        size_t i = 0;
                        while (i < run) {
                                const char *w = words[th_rand(state) % (sizeof(words) / sizeof(words[0]))];
                                size_t wl = strlen(w);
                                if (wl > run - i)
                                        wl = run - i;
                                memcpy(buf + o + i, w, wl);
                                i += wl;
                        }
                }
                o += run;
        }
}

void th_buf_put(struct th_buf *b, const void *data, size_t len) {
        if (b->cap - b->len < len) {
                size_t cap = b->cap ? b->cap : 4096;
                while (cap - b->len < len)
                        cap *= 2;
                b->p = xrealloc(b->p, cap);
                b->cap = cap;
        }
        if (len)
                memcpy(b->p + b->len, data, len);
        b->len += len;
}

void th_buf_zero(struct th_buf *b, size_t len) {
        static const uint8_t zeros[512];
        while (len > 0) {
                size_t n = len < sizeof(zeros) ? len : sizeof(zeros);
                th_buf_put(b, zeros, n);
                len -= n;
        }
}

void th_buf_free(struct th_buf *b) {
        free(b->p);
        *b = (struct th_buf) {};
}

/* ---- tar ---- */

static void put_octal(char *field, size_t len, uint64_t v) {
        char tmp[32];
        snprintf(tmp, sizeof(tmp), "%0*llo", (int) (len - 1), (unsigned long long) v);
        memcpy(field, tmp, len - 1);
        field[len - 1] = '\0';
}

static void put_b256(char *field, size_t len, int64_t v) {
        uint64_t u = (uint64_t) v;
        for (size_t i = len; i > 0; i--) {
                field[i - 1] = (char) (u & 0xff);
                u = v < 0 ? (u >> 8) | 0xff00000000000000ull : u >> 8;
        }
        field[0] = (char) (v < 0 ? 0xff : 0x80);
}

void th_tar_fix_checksum(uint8_t *blk) {
        unsigned sum = 0;
        char tmp[16];

        memset(blk + 148, ' ', 8);
        for (int i = 0; i < 512; i++)
                sum += blk[i];
        snprintf(tmp, sizeof(tmp), "%06o", sum);
        memcpy(blk + 148, tmp, 6);
        blk[154] = '\0';
        blk[155] = ' ';
}

void th_tar_header(struct th_buf *tar, const struct th_hdr *h) {
        uint8_t blk[512] = {};
        char *b = (char *) blk;

        strncpy(b, h->name, 100);
        put_octal(b + 100, 8, h->mode ? h->mode : 0644);
        if (h->b256_uid)
                put_b256(b + 108, 8, (int64_t) h->uid);
        else
                put_octal(b + 108, 8, h->uid);
        put_octal(b + 116, 8, h->gid);
        if (h->b256_size)
                put_b256(b + 124, 12, (int64_t) h->size);
        else
                put_octal(b + 124, 12, h->size);
        if (h->b256_mtime || h->mtime < 0)
                put_b256(b + 136, 12, h->mtime);
        else
                put_octal(b + 136, 12, (uint64_t) h->mtime);
        b[156] = h->type ? h->type : '0';
        if (h->linkname)
                strncpy(b + 157, h->linkname, 100);
        if (!h->v7) {
                if (h->gnu_magic)
                        memcpy(b + 257, "ustar  ", 8);
                else
                        memcpy(b + 257, "ustar\0" "00", 8);
                if (h->uname)
                        strncpy(b + 265, h->uname, 32);
                if (h->gname)
                        strncpy(b + 297, h->gname, 32);
                put_octal(b + 329, 8, h->devmajor);
                put_octal(b + 337, 8, h->devminor);
                if (h->prefix)
                        strncpy(b + 345, h->prefix, 155);
        }
        th_tar_fix_checksum(blk);
        if (h->checksum_delta) {
                unsigned sum = (unsigned) strtoul(b + 148, NULL, 8) + (unsigned) h->checksum_delta;
                char tmp[16];
                snprintf(tmp, sizeof(tmp), "%06o", sum);
                memcpy(b + 148, tmp, 6);
        }
        th_buf_put(tar, blk, 512);
}

void th_tar_data(struct th_buf *tar, const void *data, size_t len) {
        th_buf_put(tar, data, len);
        th_buf_zero(tar, (512 - len % 512) % 512);
}

void th_tar_file(struct th_buf *tar, const char *name, const void *data, size_t len) {
        th_tar_header(tar, &(struct th_hdr) { .name = name, .size = len, .mtime = 1700000000 });
        th_tar_data(tar, data, len);
}

/* "LEN key=value\n" where LEN counts itself. */
static void pax_record(struct th_buf *out, const char *key, const char *val, size_t vlen) {
        size_t base = strlen(key) + vlen + 3, len = base + 1;
        char num[32];

        for (;;) {
                int d = snprintf(num, sizeof(num), "%zu", len);
                if (base + (size_t) d == len)
                        break;
                len = base + (size_t) d;
        }
        th_buf_put(out, num, strlen(num));
        th_buf_put(out, " ", 1);
        th_buf_put(out, key, strlen(key));
        th_buf_put(out, "=", 1);
        th_buf_put(out, val, vlen);
        th_buf_put(out, "\n", 1);
}

void th_tar_pax(struct th_buf *tar, bool global, const char *const *kv, const size_t *vlens) {
        struct th_buf recs = {};

        for (size_t i = 0; kv[i]; i += 2)
                pax_record(&recs, kv[i], kv[i + 1], vlens ? vlens[i / 2] : strlen(kv[i + 1]));
        th_tar_header(tar, &(struct th_hdr) { .name = "PaxHeaders/x", .type = global ? 'g' : 'x',
                                              .size = recs.len });
        th_tar_data(tar, recs.p, recs.len);
        th_buf_free(&recs);
}

void th_tar_gnu_long(struct th_buf *tar, char type, const char *name) {
        size_t len = strlen(name) + 1;
        th_tar_header(tar, &(struct th_hdr) { .name = "././@LongLink", .type = type, .size = len,
                                              .gnu_magic = true });
        th_tar_data(tar, name, len);
}

void th_tar_end(struct th_buf *tar) {
        th_buf_zero(tar, 1024);
}

/* ---- gzip ---- */

void th_gzip(struct th_buf *out, const void *data, size_t len, int level) {
        z_stream zs = {};
        uint8_t chunk[65536];
        int z;

        if (deflateInit2(&zs, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
                abort();
        zs.next_in = (Bytef *) data;
        zs.avail_in = (uInt) len;
        do {
                zs.next_out = chunk;
                zs.avail_out = sizeof(chunk);
                z = deflate(&zs, Z_FINISH);
                if (z == Z_STREAM_ERROR)
                        abort();
                th_buf_put(out, chunk, sizeof(chunk) - zs.avail_out);
        } while (z != Z_STREAM_END);
        deflateEnd(&zs);
}

int th_sh(const char *fmt, ...) {
        char *cmd;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&cmd, fmt, ap);
        va_end(ap);
        if (r < 0)
                abort();
        r = system(cmd);
        free(cmd);
        if (r < 0 || !WIFEXITED(r))
                return -1;
        return WEXITSTATUS(r);
}

/* ---- a reader over memory ---- */

struct mem_ctx {
        const uint8_t *data;
        size_t size;
        void (*free_data)(void *);
};

static ssize_t mem_pread(void *ctx, void *buf, size_t len, uint64_t off) {
        struct mem_ctx *c = ctx;

        if (off >= c->size)
                return 0;
        if (len > c->size - off)
                len = c->size - off;
        memcpy(buf, c->data + off, len);
        return (ssize_t) len;
}

static void mem_free(void *ctx) {
        struct mem_ctx *c = ctx;

        if (c->free_data)
                c->free_data((void *) c->data);
        free(c);
}

int th_reader_from_memory(const void *data, size_t size, void (*free_data)(void *),
                             struct store_reader **ret_reader) {
        struct mem_ctx *c;
        int k;

        if ((!data && size > 0) || !ret_reader)
                return -EINVAL;
        c = malloc(sizeof(*c));
        if (!c)
                return -ENOMEM;
        *c = (struct mem_ctx) { .data = data, .size = size, .free_data = free_data };
        k = store_reader_new(mem_pread, mem_free, c, size, ret_reader);
        if (k < 0)
                free(c);
        return k;
}

int th_reader_open(const char *path, struct store_reader **ret_reader) {
        _cleanup_close_ int fd = -1;
        int k;

        if (!path || !ret_reader)
                return -EINVAL;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        k = store_reader_from_fd(fd, ret_reader);
        if (k < 0)
                return k;
        TAKE_FD(fd);
        return 0;
}
