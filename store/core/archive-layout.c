/* An engine's checkpoint archive, for the import: opened, converted into
 * a private OCI layout directory, and that directory removed (archive.h). */
#include "archive.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "tarindex.h"

static int unlink_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) ftw;
        return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT ? -1 : 0;
}

void store_archive_layout_clear(store_archive_layout *l) {
        if (l->dir[0])
                (void) nftw(l->dir, unlink_one, 16, FTW_DEPTH | FTW_PHYS);
        l->dir[0] = '\0';
        free(l->name);
        l->name = NULL;
}

/* The open errors as the import reports them: a damaged archive is EIO,
 * one refused (unsafe, zstd, an unknown engine) EINVAL. */
static int open_errno(int r) {
        if (r == -EBADMSG)
                return -EIO;
        if (r == -EPROTONOSUPPORT || r == -EMEDIUMTYPE)
                return -EINVAL;
        return r;
}

static int open_archive(const char *path, store_archive **ret, char *err, size_t errlen) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        struct store_reader *file = NULL;
        int r = store_reader_from_fd(fd, &file);
        if (r < 0) {
                close(fd);
                return r;
        }
        r = store_archive_open(file, ret, err, errlen);
        if (r < 0)
                store_reader_free(file);
        return r;
}

static int convert(store_archive *a, const char *name, const char *image, store_archive_layout *l, char *err,
                   size_t errlen) {
        _cleanup_free_ char *derived = NULL;
        if (!name) {
                _cleanup_free_ char *cfg = NULL;
                size_t len = 0;
                int r = store_archive_read_small(a, "config.dump", &cfg, &len);
                /* no checkpointedTime (Podman 4.3): the dump's own time */
                const struct tar_member *inv = tar_index_find(store_archive_index(a), "checkpoint/inventory.img");
                time_t when = inv && inv->mtime_sec > 0 ? (time_t) inv->mtime_sec : time(NULL);
                if (r >= 0)
                        r = store_archive_default_name(cfg, len, when, &derived);
                if (r < 0) {
                        snprintf(err, errlen, "config.dump names no container: %s", strerror(-r));
                        return r == -EBADMSG ? -EIO : r;
                }
                name = derived;
        }
        l->name = strdup(name);
        if (!l->name)
                return -ENOMEM;
        store_convert_opts o = { .name = name, .image = image };
        int r = store_archive_convert(a, &o, l->dir, &l->res, err, errlen);
        return r == -EBADMSG ? -EIO : r;
}

int store_archive_to_layout(const char *path, const char *work_root, const char *name, const char *image,
                            store_archive_layout *ret, char **ret_msg) {
        char err[512] = "";
        _cleanup_store_archive_ store_archive *a = NULL;
        int r = open_archive(path, &a, err, sizeof(err));
        if (r < 0) {
                if (r == -EMEDIUMTYPE && ret_msg)
                        *ret_msg = strdup(err);
                else if (ret_msg && asprintf(ret_msg, "%s", err[0] ? err : strerror(-r)) < 0)
                        *ret_msg = NULL;
                return r == -EMEDIUMTYPE ? r : open_errno(r);
        }
        store_archive_layout l = { .kind = store_archive_get_kind(a) };
        if (snprintf(l.dir, sizeof(l.dir), "%s/ckptfs-import-XXXXXX", work_root) >= (int) sizeof(l.dir))
                return -ENAMETOOLONG;
        if (!mkdtemp(l.dir)) { /* mode 0700 */
                r = -errno;
                if (ret_msg && asprintf(ret_msg, "cannot make a private directory in %s: %s", work_root,
                                        strerror(-r)) < 0)
                        *ret_msg = NULL;
                return r;
        }
        r = convert(a, name, image, &l, err, sizeof(err));
        if (r < 0) {
                store_archive_layout_clear(&l);
                if (ret_msg)
                        *ret_msg = strdup(err[0] ? err : strerror(-r));
                return r;
        }
        *ret = l;
        return 0;
}
