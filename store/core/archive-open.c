/* Reading and checking a checkpoint archive of another engine (archive.h):
 * compression sniffing, the member index, the safety rules, the kind. */
#include "archive.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "gzindex.h"
#include "tarindex.h"

#define SMALL_MAX (16u << 20) /* spec.dump and friends: JSON of a few KiB */

struct store_archive {
        struct store_reader *file; /* as stored */
        struct store_reader *tar;  /* uncompressed: file, or a gzip reader over it */
        struct tar_index *idx;
        store_archive_kind kind;
};

const char *store_archive_kind_name(store_archive_kind k) {
        switch (k) {
        case ARCHIVE_CONTAINERD_CRI:
                return "containerd-cri";
        case ARCHIVE_CRIO:
                return "cri-o";
        case ARCHIVE_PODMAN:
                return "podman";
        }
        return "unknown";
}

static int fail(char *err, size_t errlen, int r, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int r, const char *fmt, ...) {
        if (err && errlen) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(err, errlen, fmt, ap);
                va_end(ap);
        }
        return r;
}

/* The uncompressed view: the file itself, or a gzip reader borrowing it. */
static int open_tar(struct store_reader *file, struct store_reader **ret, char *err, size_t errlen) {
        uint8_t m[4] = { 0 };
        int r = file->size >= 4 ? store_reader_read_exact(file, m, 4, 0) : 0;
        if (r < 0)
                return fail(err, errlen, r, "cannot read the archive: %s", strerror(-r));
        if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
                return fail(err, errlen, -EPROTONOSUPPORT,
                            "a zstd archive: this build reads only plain and gzip tars (podman: -c gzip or -c none)");
        if (m[0] != 0x1f || m[1] != 0x8b) {
                *ret = file;
                return 0;
        }
        _cleanup_gzindex_ struct gzindex *gz = NULL;
        r = gzindex_build(file, 0, &gz);
        if (r < 0)
                return fail(err, errlen, r, "a corrupt gzip stream: %s", strerror(-r));
        r = gzindex_reader_new(gz, file, GZREADER_OWN_INDEX, ret);
        if (r < 0)
                return fail(err, errlen, r, "cannot read the gzip stream: %s", strerror(-r));
        gz = NULL;
        return 0;
}

/* Whether the data of an extension header h (at off) names an absolute
 * path: a GNU 'L' long name starting with '/', a pax "path=/..." record.
 * tarindex has checked the sizes and records already. */
static bool ext_absolute(struct store_reader *tar, const uint8_t *h, uint64_t off) {
        uint64_t size = 0;
        for (int i = 124; i < 136 && h[i] >= '0' && h[i] <= '7'; i++)
                size = size * 8 + (uint64_t) (h[i] - '0');
        if (size == 0 || size > 65536)
                return false;
        _cleanup_free_ char *buf = malloc(size + 1);
        if (!buf || store_reader_read_exact(tar, buf, size, off + 512) < 0)
                return false;
        buf[size] = 0;
        if (h[156] == 'L')
                return buf[0] == '/';
        for (const char *p = buf; p < buf + size;) {
                const char *sp = memchr(p, ' ', (size_t) (buf + size - p));
                long n = strtol(p, NULL, 10);
                if (!sp || n <= 0 || n > buf + size - p)
                        return false;
                if (strncmp(sp + 1, "path=/", 6) == 0)
                        return true;
                p += n;
        }
        return false;
}

/* The raw names of a member's headers: tarindex drops a leading '/' (of a
 * ustar name or prefix, a pax path, a GNU long name), we refuse it. */
static int check_raw_name(struct store_reader *tar, const struct tar_member *m, char *err, size_t errlen) {
        uint8_t h[512];
        for (uint64_t off = m->header_offset;; off += 512) {
                int r = store_reader_read_exact(tar, h, sizeof(h), off);
                if (r < 0)
                        return fail(err, errlen, r == -ENODATA ? -EBADMSG : r, "cannot read the header of %s", m->path);
                char type = (char) h[156];
                if (type == 'x' || type == 'L') {
                        if (ext_absolute(tar, h, off))
                                return fail(err, errlen, -EINVAL, "unsafe member name: /%s is absolute", m->path);
                } else if (type != 'K' && type != 'g') {
                        bool ustar = memcmp(h + 257, "ustar", 5) == 0;
                        if (h[0] == '/' || (ustar && h[345] == '/'))
                                return fail(err, errlen, -EINVAL, "unsafe member name: /%s is absolute", m->path);
                        return 0;
                }
                uint64_t size = 0; /* skip the extension's data */
                for (int i = 124; i < 136 && h[i] >= '0' && h[i] <= '7'; i++)
                        size = size * 8 + (uint64_t) (h[i] - '0');
                off += (size + 511) / 512 * 512;
                if (off >= m->data_offset)
                        return 0;
        }
}

/* A symlink stays inside when its target, taken from the link's directory,
 * never climbs above the root. */
static bool link_inside(const char *path, const char *target) {
        if (!target || target[0] == '/')
                return false;
        int depth = 0;
        for (const char *p = path; *p; p++)
                depth += *p == '/';
        for (const char *p = target; *p;) {
                size_t n = strcspn(p, "/");
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        depth--;
                else if (n > 0 && !(n == 1 && p[0] == '.'))
                        depth++;
                if (depth < 0)
                        return false;
                p += n;
                p += *p == '/';
        }
        return true;
}

static int check_member(struct store_reader *tar, const struct tar_member *m, char *err, size_t errlen) {
        int r = check_raw_name(tar, m, err, errlen);
        if (r < 0)
                return r;
        if (m->type == TAR_TYPE_CHAR || m->type == TAR_TYPE_BLOCK)
                return fail(err, errlen, -EINVAL, "refused: %s is a device file", m->path);
        if (m->type == TAR_TYPE_SYMLINK && !link_inside(m->path, m->link_target))
                return fail(err, errlen, -EINVAL, "refused: symlink %s points out of the archive (%s)", m->path,
                            m->link_target ? m->link_target : "");
        bool in_ckpt = strncmp(m->path, "checkpoint/", 11) == 0;
        if (in_ckpt && m->type != TAR_TYPE_REG && m->type != TAR_TYPE_DIR)
                return fail(err, errlen, -EINVAL, "refused: checkpoint member %s is not a regular file", m->path);
        if ((!strcmp(m->path, "spec.dump") || !strcmp(m->path, "config.dump") || !strcmp(m->path, "status.dump")) &&
            (m->type != TAR_TYPE_REG || m->size > SMALL_MAX))
                return fail(err, errlen, -EINVAL, "refused: %s is not a regular file of at most 16 MiB", m->path);
        return 0;
}

static bool has(const struct tar_index *idx, const char *path) {
        const struct tar_member *m = NULL;
        return tar_index_lookup(idx, path, &m) == 0;
}

static int detect(const struct tar_index *idx, store_archive_kind *ret, char *err, size_t errlen) {
        const struct tar_member *inv = tar_index_find(idx, "checkpoint/inventory.img");
        if (!inv || inv->type != TAR_TYPE_REG || !tar_index_find(idx, "spec.dump") ||
            !tar_index_find(idx, "config.dump"))
                return fail(err, errlen, -EMEDIUMTYPE,
                            "not a checkpoint archive: it needs checkpoint/inventory.img, spec.dump and config.dump");
        if (has(idx, "network.status") || has(idx, "ctr.log") || has(idx, "artifacts") ||
            has(idx, "devshm-checkpoint.tar"))
                *ret = ARCHIVE_PODMAN;
        else if (has(idx, "bind.mounts") || has(idx, "io.kubernetes.cri-o.LogPath"))
                *ret = ARCHIVE_CRIO;
        else if (has(idx, "status.dump"))
                *ret = ARCHIVE_CONTAINERD_CRI;
        else
                return fail(err, errlen, -EMEDIUMTYPE,
                            "a checkpoint archive of an unknown engine (no status.dump, bind.mounts or network.status)");
        return 0;
}

int store_archive_open(struct store_reader *file, store_archive **ret, char *err, size_t errlen) {
        struct store_reader *tar = NULL;
        int r = open_tar(file, &tar, err, errlen);
        if (r < 0)
                return r;
        _cleanup_tar_index_ struct tar_index *idx = NULL;
        r = tarindex_build(tar, &idx);
        if (r < 0) {
                fail(err, errlen, r, "%s tar: %s", r == -EINVAL ? "an unsafe member name in the" : "a corrupt",
                     strerror(-r));
                goto out;
        }
        for (size_t i = 0; i < idx->n; i++) {
                r = check_member(tar, &idx->members[i], err, errlen);
                if (r < 0)
                        goto out;
        }
        store_archive_kind kind = ARCHIVE_CONTAINERD_CRI;
        r = detect(idx, &kind, err, errlen);
        if (r < 0)
                goto out;
        store_archive *a = calloc(1, sizeof(*a));
        if (!a) {
                r = -ENOMEM;
                goto out;
        }
        *a = (store_archive) { .file = file, .tar = tar, .idx = idx, .kind = kind };
        idx = NULL;
        *ret = a;
        return 0;
out:
        if (tar != file)
                store_reader_free(tar);
        return r;
}

store_archive_kind store_archive_get_kind(const store_archive *a) {
        return a->kind;
}

struct store_reader *store_archive_tar(const store_archive *a) {
        return a->tar;
}

const struct tar_index *store_archive_index(const store_archive *a) {
        return a->idx;
}

int store_archive_read_small(const store_archive *a, const char *path, char **ret, size_t *ret_len) {
        const struct tar_member *m = tar_index_find(a->idx, path);
        if (!m || m->type != TAR_TYPE_REG)
                return -ENOENT;
        if (m->size > SMALL_MAX)
                return -EFBIG;
        _cleanup_free_ char *buf = malloc(m->size + 1);
        if (!buf)
                return -ENOMEM;
        int r = store_reader_read_exact(a->tar, buf, m->size, m->data_offset);
        if (r < 0)
                return r == -ENODATA ? -EBADMSG : r;
        buf[m->size] = 0;
        *ret_len = m->size;
        *ret = TAKE_PTR(buf);
        return 0;
}

void store_archive_free(store_archive *a) {
        if (!a)
                return;
        tar_index_free(a->idx);
        if (a->tar != a->file)
                store_reader_free(a->tar);
        store_reader_free(a->file);
        free(a);
}
