/* restore-untar.h */
#include "restore-untar.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK 512
#define PAX_MAX (64 * 1024)   /* a pax header of a CRIU dump is a few records */

typedef struct member {
        char name[PATH_MAX];   /* from a pax path= or a GNU long name; "" : the header's */
        int64_t size;          /* from a pax size=; -1: the header's */
} member;

static int64_t octal_or_binary(const unsigned char *p, size_t n) {
        if (p[0] & 0x80) {   /* base-256 (GNU), for sizes beyond 8 GiB */
                int64_t v = p[0] & 0x7f;
                for (size_t i = 1; i < n; i++) {
                        if (v > (INT64_MAX >> 8))
                                return -1;
                        v = (v << 8) | p[i];
                }
                return v;
        }
        int64_t v = 0;
        size_t i = 0;
        while (i < n && p[i] == ' ')
                i++;
        for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) {
                if (v > (INT64_MAX >> 3))
                        return -1;
                v = v * 8 + (p[i] - '0');
        }
        return (i < n && p[i] != '\0' && p[i] != ' ') ? -1 : v;
}

static bool checksum_ok(const unsigned char *h) {
        int64_t want = octal_or_binary(h + 148, 8);
        int64_t sum = 0;
        for (int i = 0; i < BLOCK; i++)
                sum += (i >= 148 && i < 156) ? ' ' : h[i];
        return want == sum;
}

static bool all_zero(const unsigned char *h) {
        for (int i = 0; i < BLOCK; i++)
                if (h[i])
                        return false;
        return true;
}

/* The member's path, made relative and checked: no "..", not absolute.
 * "" for the archive's root ("./"). */
static int safe_name(const char *in, char out[PATH_MAX]) {
        while (in[0] == '.' && in[1] == '/')
                in += 2;
        if (in[0] == '/' || strcmp(in, ".") == 0 || strlen(in) >= PATH_MAX)
                return strcmp(in, ".") == 0 ? (out[0] = '\0', 0) : -EBADMSG;
        snprintf(out, PATH_MAX, "%s", in);
        size_t n = strlen(out);
        while (n > 0 && out[n - 1] == '/')
                out[--n] = '\0';
        for (const char *p = out; *p;) {
                size_t l = strcspn(p, "/");
                if ((l == 2 && p[0] == '.' && p[1] == '.') || l == 0)
                        return -EBADMSG;
                p += l;
                p += *p == '/';
        }
        return 0;
}

/* mkdir -p of the parents of `path` below dirfd (a tree only we write:
 * no symlink can be in the way). */
static int make_parents(int dirfd, const char *path) {
        char buf[PATH_MAX];
        snprintf(buf, sizeof(buf), "%s", path);
        for (char *s = strchr(buf, '/'); s; s = strchr(s + 1, '/')) {
                *s = '\0';
                if (mkdirat(dirfd, buf, 0700) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        return 0;
}

/* The data [off, off+size) of fd into a new file `name`. */
static int write_file(int fd, int64_t off, int64_t size, int dirfd, const char *name, mode_t mode) {
        int r = make_parents(dirfd, name);
        if (r < 0)
                return r;
        _cleanup_close_ int out = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                         (mode & 0777) | 0600);
        if (out < 0)
                return -errno;
        loff_t in_off = off;
        for (int64_t left = size; left > 0;) {
                ssize_t n = copy_file_range(fd, &in_off, out, NULL, (size_t) (left > (1 << 30) ? 1 << 30 : left), 0);
                if (n < 0 && (errno == EXDEV || errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL)) {
                        char buf[1 << 16];
                        n = pread(fd, buf, (size_t) (left > (int64_t) sizeof(buf) ? (int64_t) sizeof(buf) : left),
                                  in_off);
                        if (n > 0 && write(out, buf, (size_t) n) != n)
                                return -EIO;
                        if (n > 0)
                                in_off += n;
                }
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EBADMSG;   /* the archive ends inside a member */
                left -= n;
        }
        return 0;
}

/* Pax records "LEN key=value\n": path= and size= go into m. */
static int parse_pax(const char *p, size_t n, member *m) {
        for (size_t i = 0; i < n;) {
                char *end;
                unsigned long len = strtoul(p + i, &end, 10);
                if (end == p + i || *end != ' ' || len == 0 || len > n - i || p[i + len - 1] != '\n')
                        return -EBADMSG;
                const char *kv = end + 1;
                size_t kvlen = (size_t) (p + i + len - 1 - kv);
                const char *eq = memchr(kv, '=', kvlen);
                if (!eq)
                        return -EBADMSG;
                size_t klen = (size_t) (eq - kv), vlen = kvlen - klen - 1;
                if (klen == 4 && memcmp(kv, "path", 4) == 0) {
                        if (vlen >= sizeof(m->name))
                                return -EBADMSG;
                        memcpy(m->name, eq + 1, vlen);
                        m->name[vlen] = '\0';
                } else if (klen == 4 && memcmp(kv, "size", 4) == 0) {
                        char num[32];
                        if (vlen == 0 || vlen >= sizeof(num))
                                return -EBADMSG;
                        memcpy(num, eq + 1, vlen);
                        num[vlen] = '\0';
                        long long v = strtoll(num, &end, 10);
                        if (*end || v < 0)
                                return -EBADMSG;
                        m->size = v;
                }
                i += len;
        }
        return 0;
}

/* The data of a pax header or GNU long name, NUL-terminated, into buf. */
static int read_meta(int fd, int64_t off, int64_t size, char *buf, size_t cap) {
        if (size < 0 || (uint64_t) size >= cap)
                return -EBADMSG;
        ssize_t n = pread(fd, buf, (size_t) size, off);
        if (n != (ssize_t) size)
                return n < 0 ? -errno : -EBADMSG;
        buf[size] = '\0';
        return 0;
}

/* One member whose header h (at off - BLOCK) has been read. */
static int take_member(int fd, int dirfd, const unsigned char *h, int64_t off, int64_t size, member *m) {
        char name[PATH_MAX], raw[PATH_MAX];
        if (*m->name)
                snprintf(raw, sizeof(raw), "%s", m->name);
        else if (memcmp(h + 257, "ustar", 5) == 0 && h[345])
                snprintf(raw, sizeof(raw), "%.155s/%.100s", (const char *) h + 345, (const char *) h);
        else
                snprintf(raw, sizeof(raw), "%.100s", (const char *) h);
        int r = safe_name(raw, name);
        if (r < 0)
                return r;
        mode_t mode = (mode_t) octal_or_binary(h + 100, 8);
        switch (h[156]) {
        case '5':
                if (!*name)
                        return 0;
                if ((r = make_parents(dirfd, name)) < 0)
                        return r;
                return mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST ? -errno : 0;
        case '0': case '\0': case '7':
                return *name ? write_file(fd, off, size, dirfd, name, mode) : -EBADMSG;
        default:   /* links, devices, fifos: never in a CRIU dump */
                return -EBADMSG;
        }
}

int rtar_extract(int fd, int dirfd) {
        unsigned char h[BLOCK];
        member m = { .size = -1 };
        _cleanup_free_ char *meta = NULL;
        for (int64_t off = 0;;) {
                ssize_t n = pread(fd, h, BLOCK, off);
                if (n < 0)
                        return -errno;
                if (n != BLOCK)
                        return -EBADMSG;
                if (all_zero(h))
                        return 0;
                int64_t size = octal_or_binary(h + 124, 12);
                if (!checksum_ok(h) || size < 0)
                        return -EBADMSG;
                off += BLOCK;
                int r;
                if (h[156] == 'x' || h[156] == 'L') {
                        if (!meta && !(meta = malloc(PAX_MAX)))
                                return -ENOMEM;
                        size_t cap = h[156] == 'L' ? PATH_MAX : PAX_MAX;
                        if ((r = read_meta(fd, off, size, meta, cap)) < 0)
                                return r;
                        r = h[156] == 'x' ? parse_pax(meta, (size_t) size, &m)
                                          : (snprintf(m.name, sizeof(m.name), "%s", meta), 0);
                        if (r < 0)
                                return r;
                } else if (h[156] != 'g') {
                        if (m.size >= 0)
                                size = m.size;
                        if ((r = take_member(fd, dirfd, h, off, size, &m)) < 0)
                                return r;
                        m = (member) { .size = -1 };
                }
                if (size > INT64_MAX - off - BLOCK)
                        return -EBADMSG;
                off += (size + BLOCK - 1) / BLOCK * BLOCK;
        }
}
