/* The one fuse_lowlevel_ops table: dispatch to the node kinds, negate the
 * -errno once at the reply. */
#include "ops-internal.h"

#include <errno.h>
#include <stdlib.h>

#include "log.h"

/* Finds the child `name` of `dir` into *out (one entry). */
static int find_child(fs_ctx *ctx, const fs_node *dir, const char *name, fs_dirents *out) {
        const fs_kind_ops *k = &fs_kinds[dir->kind];
        if (!S_ISDIR(k->mode) || !k->list)
                return -ENOTDIR;
        if (k->lookup)
                return k->lookup(ctx, dir, name, out);
        fs_dirents all = { 0 };
        int r = k->list(ctx, dir, &all);
        if (r >= 0) {
                fs_dirent *e = fs_dirents_find(&all, name);
                r = e ? fs_dirents_add_salted(out, e->kind, e->name, e->salt, e->key[0], e->key[1], e->key[2])
                      : -ENOENT;
                if (r >= 0 && e->alias)
                        r = fs_dirent_set_alias(&out->v[out->n - 1], e->alias);
        }
        fs_dirents_clear(&all);
        return r;
}

static void op_init(void *userdata, struct fuse_conn_info *conn) {
        fs_ctx *ctx = userdata;
        /* O_TRUNC arrives with open() instead of a separate setattr, so
         * `echo > checkpoint` is one open and one write. */
        if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
                conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
        /* See fs_ctx.no_opendir. AUTO_INVAL_DATA checks cached listings and
         * file data against the attributes when these expire (immutable
         * nodes: a day; dynamic files are direct_io anyway). */
        ctx->no_opendir = (conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT) && (conn->capable & FUSE_CAP_AUTO_INVAL_DATA);
        if (ctx->no_opendir)
                conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
        else
                conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
#if CKPTFS_FUSE_PASSTHROUGH
        /* Whole blobs are read by the kernel from the content store's files.
         * Depth 1: that store may itself be on overlayfs. */
        if ((conn->capable & FUSE_CAP_PASSTHROUGH) && !ctx->no_passthrough &&
            fs_passthrough_new(&ctx->pt) == 0) {
                conn->want |= FUSE_CAP_PASSTHROUGH;
                conn->max_backing_stack_depth = 1;
        }
#endif
        /* Only now is it known whether the kernel does passthrough. */
        log_info("mounted %s (containerd %s, cache %s, passthrough %s)", ctx->mountpoint ? ctx->mountpoint : "?",
                 ctx->rpc ? rpc_client_address(ctx->rpc) : "?", ctx->cache_path ? ctx->cache_path : "?",
                 ctx->pt ? "on" : "off");
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
        GET_NODE(req, parent, dir);
        fs_dirents found = { 0 };
        int r = find_child(ctx_of(req), dir, name, &found);
        if (r < 0)
                fuse_reply_err(req, -r);
        else
                reply_entry(req, dir, &found.v[0]);
        fs_dirents_clear(&found);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
        inode_table_forget(ctx_of(req)->inodes, ino, nlookup);
        fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets) {
        for (size_t i = 0; i < count; i++)
                inode_table_forget(ctx_of(req)->inodes, forgets[i].ino, forgets[i].nlookup);
        fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        GET_NODE(req, ino, n);
        struct stat st;
        int r = node_attr(ctx_of(req), n, &st);
        if (r < 0)
                fuse_reply_err(req, -r);
        else
                fuse_reply_attr(req, &st, timeout_of(n));
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi) {
        GET_NODE(req, ino, n);
        /* Truncating a control file (`echo > checkpoint` without atomic
         * O_TRUNC) is harmless; anything else would change a read-only tree. */
        if (fs_kinds[n->kind].write && to_set == FUSE_SET_ATTR_SIZE && attr->st_size == 0) {
                op_getattr(req, ino, fi);
                return;
        }
        fuse_reply_err(req, EROFS);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode) {
        GET_NODE(req, parent, dir);
        const fs_kind_ops *k = &fs_kinds[dir->kind];
        if (!k->mkdir) {
                fuse_reply_err(req, EROFS);
                return;
        }
        fs_dirents made = { 0 };
        int r = k->mkdir(ctx_of(req), dir, name, &made);
        if (r < 0)
                fuse_reply_err(req, -r);
        else
                reply_entry(req, dir, &made.v[0]);
        fs_dirents_clear(&made);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name) {
        GET_NODE(req, parent, dir);
        const fs_kind_ops *k = &fs_kinds[dir->kind];
        if (!k->rmdir) {
                fuse_reply_err(req, EROFS);
                return;
        }
        fuse_reply_err(req, -k->rmdir(ctx_of(req), dir, name));
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino) {
        GET_NODE(req, ino, n);
        const fs_kind_ops *k = &fs_kinds[n->kind];
        char *target = NULL;
        int r = k->readlink ? k->readlink(ctx_of(req), n, &target) : -EINVAL;
        if (r < 0)
                fuse_reply_err(req, -r);
        else
                fuse_reply_readlink(req, target);
        free(target);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size) {
        GET_NODE(req, ino, n);
        fs_reply_getxattr(req, ctx_of(req), n, name, size);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
        GET_NODE(req, ino, n);
        fs_reply_listxattr(req, ctx_of(req), n, size);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino) {
        struct statvfs sv = { .f_bsize = 4096, .f_frsize = 4096, .f_namemax = 255 };
        fuse_reply_statfs(req, &sv);
}

/* Everything that would change the tree outside the control points. */
static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev) {
        fuse_reply_err(req, EROFS);
}
static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name) {
        fuse_reply_err(req, EROFS);
}
static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name) {
        fuse_reply_err(req, EROFS);
}
static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                      const char *newname, unsigned int flags) {
        fuse_reply_err(req, EROFS);
}
static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname) {
        fuse_reply_err(req, EROFS);
}
static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                      struct fuse_file_info *fi) {
        fuse_reply_err(req, EROFS);
}
static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size,
                        int flags) {
        fuse_reply_err(req, EROFS);
}
static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name) {
        fuse_reply_err(req, EROFS);
}

const struct fuse_lowlevel_ops fs_ops = {
        .init = op_init,
        .lookup = op_lookup,
        .forget = op_forget,
        .forget_multi = op_forget_multi,
        .getattr = op_getattr,
        .setattr = op_setattr,
        .opendir = op_opendir,
        .readdir = op_readdir,
        .readdirplus = op_readdirplus,
        .releasedir = op_releasedir,
        .open = op_open,
        .read = op_read,
        .lseek = op_lseek,
        .write = op_write,
        .release = op_release,
        .mkdir = op_mkdir,
        .rmdir = op_rmdir,
        .statfs = op_statfs,
        .mknod = op_mknod,
        .unlink = op_unlink,
        .symlink = op_symlink,
        .rename = op_rename,
        .link = op_link,
        .create = op_create,
        .setxattr = op_setxattr,
        .removexattr = op_removexattr,
        .readlink = op_readlink,
        .getxattr = op_getxattr,
        .listxattr = op_listxattr,
};
