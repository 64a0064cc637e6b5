/* The files of an OCI layout to import: a directory read below its fd
 * without following symlinks, or a tar read by offset after a check of all
 * its members. */
#include "oci-src.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "gzindex.h"
#include "tarlink.h"

struct oci_src {
        int dirfd;                  /* a directory source, else -1 */
        struct store_reader *tar;   /* a tar source, else NULL */
        struct tar_index *idx;
};

oci_src *oci_src_free(oci_src *s) {
        if (!s)
                return NULL;
        if (s->dirfd >= 0)
                close(s->dirfd);
        if (s->idx)
                tar_index_free(s->idx);
        if (s->tar)
                store_reader_free(s->tar);
        free(s);
        return NULL;
}

int oci_src_is_tar(const oci_src *s) {
        return s->tar != NULL;
}

/* Whether a relative symlink target, resolved in the directory of `path`,
 * stays inside the archive. */
static bool link_stays_inside(const char *path, const char *target) {
        if (target[0] == '/')
                return false;
        int depth = 0;
        for (const char *p = path; (p = strchr(p, '/')); p++)
                depth++;
        const char *c = target;
        while (*c) {
                size_t len = strcspn(c, "/");
                if (len == 2 && c[0] == '.' && c[1] == '.')
                        depth--;
                else if (len > 0 && !(len == 1 && c[0] == '.'))
                        depth++;
                if (depth < 0)
                        return false;
                c += len;
                while (*c == '/')
                        c++;
        }
        return true;
}

static int refuse(char **ret_msg, const struct tar_member *m, const char *why) {
        if (ret_msg && asprintf(ret_msg, "the tar is refused: member \"%s\" %s", m->path, why) < 0)
                *ret_msg = NULL;
        return -EINVAL;
}

int oci_tar_check(const struct tar_index *idx, char **ret_msg) {
        for (size_t i = 0; i < idx->n; i++) {
                const struct tar_member *m = &idx->members[i];
                if (m->flags & TAR_MEMBER_ABSOLUTE)
                        return refuse(ret_msg, m, "has an absolute name");
                switch (m->type) {
                case TAR_TYPE_CHAR:
                case TAR_TYPE_BLOCK:
                        return refuse(ret_msg, m, "is a device file");
                case TAR_TYPE_FIFO:
                        return refuse(ret_msg, m, "is a fifo");
                case TAR_TYPE_SYMLINK:
                        if (!link_stays_inside(m->path, m->link_target))
                                return refuse(ret_msg, m, "is a symlink pointing out of the archive");
                        break;
                case TAR_TYPE_HARDLINK:
                        if (!tar_link_resolve(idx, m) || tar_link_resolve(idx, m)->type != TAR_TYPE_REG)
                                return refuse(ret_msg, m, "is a hard link to no regular member");
                        break;
                default:
                        break;
                }
        }
        return 0;
}

static const char *scan_error(int r) {
        switch (r) {
        case -EINVAL:
                return "a member name with \"..\", an empty or overlong name, or a NUL in a name";
        case -EBADMSG:
                return "corrupt or truncated (bad checksum or gzip data, short data, an oversized header, no end "
                       "marker)";
        case -EOPNOTSUPP:
                return "sparse or multi-volume members";
        default:
                return strerror(-r);
        }
}

/* A gzip'd tar (`tar -czf`) is read through its uncompressed view. Access
 * points every 16 MiB: a bomb costs time, not much memory (2 KiB per MiB). */
static int maybe_gunzip(struct store_reader **tar) {
        uint8_t magic[2];
        if (store_reader_read_exact(*tar, magic, 2, 0) < 0 || magic[0] != 0x1f || magic[1] != 0x8b)
                return 0;
        struct gzindex *gz = NULL;
        int r = gzindex_build(*tar, UINT64_C(16) << 20, &gz);
        if (r < 0)
                return r;
        struct store_reader *plain = NULL;
        r = gzindex_reader_new(gz, *tar, GZREADER_OWN_INDEX | GZREADER_OWN_SOURCE, &plain);
        if (r < 0) {
                gzindex_free(gz);
                return r;
        }
        *tar = plain;
        return 0;
}

static int open_tar(oci_src *s, int fd, char **ret_msg) {
        int r = store_reader_from_fd(fd, &s->tar);
        if (r < 0)
                return r;
        r = maybe_gunzip(&s->tar);
        if (r >= 0)
                r = tarindex_build(s->tar, &s->idx);
        if (r < 0) {
                if (ret_msg && asprintf(ret_msg, "the tar is refused: %s", scan_error(r)) < 0)
                        *ret_msg = NULL;
                return r == -EOPNOTSUPP ? -EINVAL : r;
        }
        return oci_tar_check(s->idx, ret_msg);
}

int oci_src_open(const char *path, oci_src **ret, char **ret_msg) {
        if (ret_msg)
                *ret_msg = NULL;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
                if (ret_msg && asprintf(ret_msg, "%s is neither a directory nor a tar file", path) < 0)
                        *ret_msg = NULL;
                return -EINVAL;
        }
        oci_src *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->dirfd = -1;
        int r = 0;
        if (S_ISDIR(st.st_mode))
                s->dirfd = TAKE_FD(fd);
        else {
                r = open_tar(s, fd, ret_msg);
                if (s->tar)
                        fd = -1; /* the reader owns it now */
        }
        if (r < 0) {
                oci_src_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

static bool relpath_ok(const char *p) {
        if (!*p || *p == '/' || strlen(p) > 1024)
                return false;
        for (const char *c = p; *c;) {
                size_t len = strcspn(c, "/");
                if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                c += len;
                if (*c == '/')
                        c++;
                if (!*c && c[-1] == '/')
                        return false;
        }
        return true;
}

/* openat of each component without following links. */
static int open_in_dir(int dirfd, const char *relpath, struct store_reader **ret_reader) {
        _cleanup_free_ char *copy = strdup(relpath);
        if (!copy)
                return -ENOMEM;
        _cleanup_close_ int cur = -1;
        char *c = copy;
        for (;;) {
                char *slash = strchr(c, '/');
                if (slash)
                        *slash = '\0';
                int flags = O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | (slash ? O_DIRECTORY | O_PATH : O_RDONLY);
                int fd = openat(cur >= 0 ? cur : dirfd, c, flags);
                if (fd < 0)
                        return errno == ENOTDIR && slash ? -ENOENT : -errno;
                safe_close(cur);
                cur = fd;
                if (!slash)
                        break;
                c = slash + 1;
        }
        struct stat st;
        if (fstat(cur, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -ESPIPE;
        int r = store_reader_from_fd(cur, ret_reader);
        if (r >= 0)
                cur = -1;
        return r;
}

/* A reader over a member's bytes that borrows the tar's reader. */
struct member_slice {
        struct store_reader *tar;
        uint64_t off, size;
};

static ssize_t slice_pread(void *ctx, void *buf, size_t len, uint64_t off) {
        struct member_slice *m = ctx;
        if (off >= m->size)
                return 0;
        if (len > m->size - off)
                len = (size_t) (m->size - off);
        return store_reader_pread(m->tar, buf, len, m->off + off);
}

static int open_in_tar(oci_src *s, const char *relpath, struct store_reader **ret_reader) {
        const struct tar_member *m = tar_link_resolve(s->idx, tar_index_find(s->idx, relpath));
        if (!m)
                return -ENOENT;
        if (m->type == TAR_TYPE_DIR)
                return -EISDIR;
        if (m->type == TAR_TYPE_SYMLINK)
                return -ELOOP;
        if (m->type != TAR_TYPE_REG)
                return -ESPIPE;
        struct member_slice *ms = malloc(sizeof(*ms));
        if (!ms)
                return -ENOMEM;
        *ms = (struct member_slice) { .tar = s->tar, .off = m->data_offset, .size = m->size };
        int r = store_reader_new(slice_pread, free, ms, m->size, ret_reader);
        if (r < 0)
                free(ms);
        return r;
}

int oci_src_open_file(oci_src *s, const char *relpath, struct store_reader **ret_reader) {
        if (!relpath_ok(relpath))
                return -EINVAL;
        return s->tar ? open_in_tar(s, relpath, ret_reader) : open_in_dir(s->dirfd, relpath, ret_reader);
}
