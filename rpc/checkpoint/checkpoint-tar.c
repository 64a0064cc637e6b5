/* A ustar writer for a CRIU dump directory, as a pull stream: the upload
 * asks for bytes, we hand out headers, file data and padding in order.
 * The whole layout is fixed by the scan, so the stream size is exact before
 * the first byte (Content.Write wants the total up front). */
#include "checkpoint-tar.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK 512
#define OCTAL_SIZE_MAX 077777777777ULL   /* 11 octal digits: 8 GiB - 1 */

struct member {
        char *rel;        /* name in the archive ("dir/" for directories) */
        char *path;       /* absolute path to read */
        uint64_t size;
        mode_t mode;
        time_t mtime;
        bool dir;
};

struct ckpt_tar {
        struct member *m;
        size_t n, cap;
        uint64_t total;
        /* stream position */
        size_t cur;       /* member index; == n: the end blocks */
        uint64_t pos;     /* offset inside the current member's region */
        uint8_t hdr[BLOCK];
        int fd;
        uint64_t end_pos; /* offset inside the two end blocks */
};

static uint64_t round_block(uint64_t n) { return (n + BLOCK - 1) / BLOCK * BLOCK; }

static uint64_t region_size(const struct member *m) { return BLOCK + (m->dir ? 0 : round_block(m->size)); }

ckpt_tar *ckpt_tar_free(ckpt_tar *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n; i++) {
                free(t->m[i].rel);
                free(t->m[i].path);
        }
        free(t->m);
        if (t->fd >= 0)
                close(t->fd);
        free(t);
        return NULL;
}

static int add_member(ckpt_tar *t, const char *rel, const char *path, const struct stat *st) {
        if (t->n == t->cap) {
                size_t cap = t->cap ? t->cap * 2 : 32;
                struct member *m = realloc(t->m, cap * sizeof(*m));
                if (!m)
                        return -ENOMEM;
                t->m = m;
                t->cap = cap;
        }
        struct member *m = &t->m[t->n];
        *m = (struct member) {
                .size = S_ISREG(st->st_mode) ? (uint64_t) st->st_size : 0,
                .mode = st->st_mode & 07777,
                .mtime = st->st_mtime > 0 ? st->st_mtime : 0,
                .dir = S_ISDIR(st->st_mode),
        };
        if (asprintf(&m->rel, "%s%s", rel, m->dir ? "/" : "") < 0)
                return -ENOMEM;
        if (!(m->path = strdup(path))) {
                free(m->rel);
                return -ENOMEM;
        }
        t->n++;
        return 0;
}

static int scan(ckpt_tar *t, const char *dir, const char *rel, unsigned depth) {
        if (depth > 16)
                return -ELOOP;
        DIR *d = opendir(dir);
        if (!d)
                return -errno;
        int r = 0;
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                char path[PATH_MAX], name[PATH_MAX];
                if ((size_t) snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path) ||
                    (size_t) snprintf(name, sizeof(name), "%s%s%s", rel, *rel ? "/" : "", de->d_name) >= sizeof(name)) {
                        r = -ENAMETOOLONG;
                        break;
                }
                struct stat st;
                if (lstat(path, &st) < 0) {
                        r = -errno;
                        break;
                }
                if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
                        r = -EINVAL;   /* CRIU writes only files; anything else is not ours */
                        break;
                }
                r = add_member(t, name, path, &st);
                if (r >= 0 && S_ISDIR(st.st_mode))
                        r = scan(t, path, name, depth + 1);
                if (r < 0)
                        break;
        }
        if (r == 0 && errno)
                r = -errno;
        closedir(d);
        return r;
}

static int cmp_member(const void *a, const void *b) {
        return strcmp(((const struct member *) a)->rel, ((const struct member *) b)->rel);
}

int ckpt_tar_open(const char *dir, ckpt_tar **ret) {
        ckpt_tar *t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->fd = -1;
        int r = scan(t, dir, "", 0);
        if (r < 0) {
                ckpt_tar_free(t);
                return r;
        }
        if (t->n)   /* t->m is NULL for an empty dump dir */
                qsort(t->m, t->n, sizeof(*t->m), cmp_member);
        t->total = 2 * BLOCK;
        for (size_t i = 0; i < t->n; i++)
                t->total += region_size(&t->m[i]);
        *ret = t;
        return 0;
}

uint64_t ckpt_tar_size(const ckpt_tar *t) { return t->total; }
size_t ckpt_tar_members(const ckpt_tar *t) { return t->n; }

static void put_octal(uint8_t *field, size_t width, uint64_t v) {
        /* width-1 digits and a NUL; callers keep v within width-1 digits */
        char tmp[32];
        snprintf(tmp, sizeof(tmp), "%0*llo", (int) (width - 1), (unsigned long long) v);
        memcpy(field, tmp, width - 1);
        field[width - 1] = 0;
}

/* Splits a long name into ustar's prefix (155) and name (100) at a '/'. */
static int put_name(uint8_t *h, const char *name) {
        size_t n = strlen(name);
        if (n <= 100) {
                memcpy(h, name, n);
                return 0;
        }
        for (size_t i = n - 1; i > 0; i--) {
                if (name[i] != '/' || i == n - 1)
                        continue;
                if (i <= 155 && n - i - 1 <= 100 && n - i - 1 > 0) {
                        memcpy(h + 345, name, i);
                        memcpy(h, name + i + 1, n - i - 1);
                        return 0;
                }
        }
        return -ENAMETOOLONG;
}

static int make_header(const struct member *m, uint8_t h[BLOCK]) {
        memset(h, 0, BLOCK);
        int r = put_name(h, m->rel);
        if (r < 0)
                return r;
        put_octal(h + 100, 8, m->mode);
        put_octal(h + 108, 8, 0);
        put_octal(h + 116, 8, 0);
        if (m->size <= OCTAL_SIZE_MAX)
                put_octal(h + 124, 12, m->size);
        else {
                /* GNU base-256: high bit set, big-endian value in the rest */
                h[124] = 0x80;
                for (int i = 0; i < 8; i++)
                        h[124 + 11 - i] = (uint8_t) (m->size >> (8 * i));
        }
        put_octal(h + 136, 12, (uint64_t) m->mtime <= OCTAL_SIZE_MAX ? (uint64_t) m->mtime : 0);
        h[156] = m->dir ? '5' : '0';
        memcpy(h + 257, "ustar", 6);   /* with its NUL */
        memcpy(h + 263, "00", 2);
        put_octal(h + 329, 8, 0);
        put_octal(h + 337, 8, 0);
        memset(h + 148, ' ', 8);
        unsigned sum = 0;
        for (size_t i = 0; i < BLOCK; i++)
                sum += h[i];
        snprintf((char *) h + 148, 7, "%06o", sum);
        h[155] = ' ';
        return 0;
}

ssize_t ckpt_tar_read(void *tar, uint8_t *buf, size_t cap) {
        ckpt_tar *t = tar;
        size_t k = 0;
        while (k < cap) {
                if (t->cur == t->n) {
                        uint64_t left = 2 * BLOCK - t->end_pos;
                        size_t n = left < cap - k ? (size_t) left : cap - k;
                        memset(buf + k, 0, n);
                        t->end_pos += n;
                        k += n;
                        break;
                }
                struct member *m = &t->m[t->cur];
                if (t->pos == 0) {
                        int r = make_header(m, t->hdr);
                        if (r < 0)
                                return r;
                        if (!m->dir) {
                                t->fd = open(m->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                                if (t->fd < 0)
                                        return -errno;
                        }
                }
                if (t->pos < BLOCK) {
                        size_t n = BLOCK - t->pos < cap - k ? (size_t) (BLOCK - t->pos) : cap - k;
                        memcpy(buf + k, t->hdr + t->pos, n);
                        t->pos += n;
                        k += n;
                } else if (t->pos < BLOCK + m->size) {
                        uint64_t left = BLOCK + m->size - t->pos;
                        size_t want = left < cap - k ? (size_t) left : cap - k;
                        ssize_t got = read(t->fd, buf + k, want);
                        if (got < 0) {
                                if (errno == EINTR)
                                        continue;
                                return -errno;
                        }
                        if (got == 0)
                                return -EIO;   /* the file shrank since the scan */
                        t->pos += (uint64_t) got;
                        k += (size_t) got;
                } else if (t->pos < region_size(m)) {
                        uint64_t left = region_size(m) - t->pos;
                        size_t n = left < cap - k ? (size_t) left : cap - k;
                        memset(buf + k, 0, n);
                        t->pos += n;
                        k += n;
                }
                if (t->pos == region_size(m)) {
                        if (t->fd >= 0) {
                                close(t->fd);
                                t->fd = -1;
                        }
                        t->cur++;
                        t->pos = 0;
                }
        }
        return (ssize_t) k;
}
