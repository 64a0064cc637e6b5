/* task/ and rw/: the members of a tar blob as a tree, served by offset from
 * the blob (through the gzip index for a compressed layer).
 *
 * The tree is what `tar -xf` would leave: the last member of a path wins,
 * parents that the archive does not list are directories (0755), a hard
 * link is a regular file with its target's data, and whiteouts
 * (`.wh.NAME`, `.wh..wh..opq`) are the plain empty files they are in the
 * layer. Node key: "<blob digest>/<path in the archive>". Listing a
 * directory and looking a name up go through the index's tree (see
 * tarindex.h): O(children) and O(1), not a scan of the whole archive. */
#include "ckpt-views.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "catalog.h"
#include "cleanup.h"
#include "tarlink.h"
#include "views.h"

/* Splits a tar node key into the blob digest and the member path. */
static int split_key(const char *key, char **ret_digest, const char **ret_path) {
        const char *slash = key ? strchr(key, '/') : NULL;
        if (!slash)
                return -EINVAL;
        char *d = strndup(key, (size_t) (slash - key));
        if (!d)
                return -ENOMEM;
        *ret_digest = d;
        *ret_path = slash + 1;
        return 0;
}

/* The tar index of the blob a node lives in, and its descriptor. */
static int tar_of(fs_ctx *ctx, const fs_node *n, store_desc *ret_desc, const struct tar_index **ret_tar,
                  const char **ret_path, int64_t *ret_created) {
        _cleanup_free_ char *digest = NULL;
        int r = split_key(NODE_KEY3(n), &digest, ret_path);
        if (r < 0)
                return r;
        r = views_find_blob(ctx, n, digest, ret_desc, ret_created);
        if (r < 0)
                return r;
        r = store_views_tar(ctx->views, NODE_NS(n), ret_desc, ret_tar);
        if (r < 0)
                store_desc_clear(ret_desc);
        return r;
}

/* NULL: a directory the archive does not list. */
static fs_kind kind_of(const struct tar_member *m) {
        switch (m ? m->type : TAR_TYPE_DIR) {
        case TAR_TYPE_DIR: return FS_CK_TAR_DIR;
        case TAR_TYPE_SYMLINK: return FS_CK_TAR_SYMLINK;
        case TAR_TYPE_REG:
        case TAR_TYPE_HARDLINK: return FS_CK_TAR_FILE;
        default: return FS_CK_TAR_SPECIAL;
        }
}

/* A tar directory's children, as dirents. */
typedef struct tar_lister {
        const fs_node *dir;
        store_desc desc;       /* the blob */
        const struct tar_index *tar;
        const char *path;      /* of the directory in the archive */
        fs_dirents *out;
} tar_lister;

static int lister_open(fs_ctx *ctx, const fs_node *dir, fs_dirents *out, tar_lister *ret) {
        *ret = (tar_lister) { .dir = dir, .out = out };
        return tar_of(ctx, dir, &ret->desc, &ret->tar, &ret->path, NULL);
}

static int add_child(const char *name, const struct tar_member *m, void *userdata) {
        const tar_lister *l = userdata;
        _cleanup_free_ char *key = NULL;
        if (asprintf(&key, "%s/%s%s%s", l->desc.digest, l->path, *l->path ? "/" : "", name) < 0)
                return -ENOMEM;
        return fs_dirents_add(l->out, kind_of(m), name, NODE_NS(l->dir), NODE_ID(l->dir), key);
}

/* Backups skip the expanded copy (the blob is in layout/ already): the
 * root has a CACHEDIR.TAG unless the archive has one. */
static bool wants_cachedir_tag(const struct tar_index *tar, const char *path) {
        const struct tar_member *m;
        return !*path && tar_index_lookup(tar, "CACHEDIR.TAG", &m) == -ENOENT;
}

static int add_cachedir_tag(const tar_lister *l) {
        return fs_dirents_add(l->out, FS_CK_CACHEDIR_TAG, "CACHEDIR.TAG", NODE_NS(l->dir), NODE_ID(l->dir), NULL);
}

int views_list_tar_dir(fs_ctx *ctx, const fs_node *dir, fs_dirents *out) {
        tar_lister l;
        int r = lister_open(ctx, dir, out, &l);
        if (r < 0)
                return r;
        r = tar_index_foreach_child(l.tar, l.path, add_child, &l);
        if (r >= 0 && wants_cachedir_tag(l.tar, l.path))
                r = add_cachedir_tag(&l);
        store_desc_clear(&l.desc);
        return r;
}

int views_lookup_tar(fs_ctx *ctx, const fs_node *dir, const char *name, fs_dirents *out) {
        tar_lister l;
        int r = lister_open(ctx, dir, out, &l);
        if (r < 0)
                return r;
        _cleanup_free_ char *child = NULL;
        const struct tar_member *m;
        if (asprintf(&child, "%s%s%s", l.path, *l.path ? "/" : "", name) < 0)
                r = -ENOMEM;
        else if ((r = tar_index_lookup(l.tar, child, &m)) >= 0)
                r = add_child(name, m, &l);
        else if (r == -ENOENT && strcmp(name, "CACHEDIR.TAG") == 0 && wants_cachedir_tag(l.tar, l.path))
                r = add_cachedir_tag(&l);
        store_desc_clear(&l.desc);
        return r;
}

static void set_time(struct stat *st, int64_t sec, uint32_t nsec) {
        st->st_mtim = st->st_ctim = st->st_atim = (struct timespec) { .tv_sec = sec, .tv_nsec = nsec };
}

/* The member a node shows (NULL: the root, or a directory the archive
 * does not list), its index (shared, lives as long as the views) and path. */
static int member_of(fs_ctx *ctx, const fs_node *n, const struct tar_index **ret_tar, const char **ret_path,
                     const struct tar_member **ret_member, int64_t *ret_created) {
        store_desc d;
        int r = tar_of(ctx, n, &d, ret_tar, ret_path, ret_created);
        if (r < 0)
                return r;
        store_desc_clear(&d);
        *ret_member = **ret_path ? tar_index_find(*ret_tar, *ret_path) : NULL;
        return 0;
}

int views_tar_attr(fs_ctx *ctx, const fs_node *n, struct stat *st) {
        const struct tar_index *tar;
        const struct tar_member *m;
        const char *path;
        int64_t created;
        int r = member_of(ctx, n, &tar, &path, &m, &created);
        if (r < 0)
                return r;
        if (!m) {
                /* The root, or a parent the archive does not list. */
                if (n->kind != FS_CK_TAR_DIR)
                        return -ENOENT;
                st->st_mode = S_IFDIR | (*path ? 0755 : 0555);
                views_set_times(st, created);
                return 0;
        }
        st->st_mode = tar_member_file_type(m) | (m->mode & 07777);
        st->st_uid = (uid_t) m->uid;
        st->st_gid = (gid_t) m->gid;
        st->st_size = (off_t) tar_member_shown_size(tar, m);
        if (m->type == TAR_TYPE_CHAR || m->type == TAR_TYPE_BLOCK)
                st->st_rdev = makedev(m->devmajor, m->devminor);
        set_time(st, m->mtime_sec, m->mtime_nsec);
        return views_shared_nlink(ctx, n, st);
}

int views_criu_member(fs_ctx *ctx, const char *ns, const struct store_desc *desc, const struct tar_index *tar,
                      const char *path, struct store_reader **ret) {
        const struct tar_member *m = tar_link_resolve(tar, tar_index_find(tar, path));
        if (!m || (m->type != TAR_TYPE_REG && m->type != TAR_TYPE_HARDLINK))
                return -ENOENT;
        return store_views_member_reader(ctx->views, ns, desc, m, ret);
}

int views_tar_open(fs_ctx *ctx, const fs_node *n, struct store_reader **ret, char **ret_digest) {
        store_desc d;
        const struct tar_index *tar;
        const char *path;
        int r = tar_of(ctx, n, &d, &tar, &path, NULL);
        if (r < 0)
                return r;
        r = views_criu_member(ctx, NODE_NS(n), &d, tar, path, ret);
        store_desc_clear(&d);
        return r;
}

int views_tar_readlink(fs_ctx *ctx, const fs_node *n, char **ret) {
        const struct tar_index *tar;
        const struct tar_member *m;
        const char *path;
        int r = member_of(ctx, n, &tar, &path, &m, NULL);
        if (r < 0)
                return r;
        if (!m || m->type != TAR_TYPE_SYMLINK || !m->link_target)
                return -EINVAL;
        char *s = strdup(m->link_target);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}
