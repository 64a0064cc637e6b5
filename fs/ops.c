/* The one fuse_lowlevel_ops table: dispatch to the node kinds, negate the
 * -errno once at the reply. */
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "blob-check.h"
#include "cleanup.h"
#include "log.h"
#include "passthrough.h"
#include "reader.h"

typedef struct fs_handle {
        char *data;            /* file content, snapshot taken at open */
        size_t len;
        fs_dirents dirents;    /* directory listing, snapshot taken at opendir */
        store_opened_blob *blob;       /* big immutable files: read by offset */
        bool io_counted;               /* io is counted in ctx->pt */
        fs_io_mode io;
        fs_node *writer;               /* a one_writer node this handle writes to */
} fs_handle;

static fs_ctx *ctx_of(fuse_req_t req) {
        return fuse_req_userdata(req);
}

static fs_handle *handle_free(fs_handle *h) {
        if (h) {
                /* The kernel keeps the inode (and so the node) while it is open. */
                if (h->writer)
                        __atomic_sub_fetch(&h->writer->writers, 1, __ATOMIC_SEQ_CST);
                free(h->data);
                fs_dirents_clear(&h->dirents);
                store_opened_blob_close(h->blob);
                free(h);
        }
        return NULL;
}

static fs_handle *handle_new(void) {
        return calloc(1, sizeof(fs_handle));
}

static double timeout_of(const fs_node *n) {
        return fs_kinds[n->kind].dynamic ? FS_DYNAMIC_TIMEOUT : 86400.0;
}

static int node_size(fs_ctx *ctx, const fs_node *n, uint64_t *ret) {
        const fs_kind_ops *k = &fs_kinds[n->kind];
        if (!S_ISREG(k->mode) || !k->content) {
                *ret = 0;
                return 0;
        }
        char *data;
        size_t len;
        int r = k->content(ctx, n, &data, &len);
        if (r < 0)
                return r;
        free(data);
        *ret = len;
        return 0;
}

static int node_attr(fs_ctx *ctx, const fs_node *n, struct stat *st) {
        const fs_kind_ops *k = &fs_kinds[n->kind];
        uint64_t size;
        int r = node_size(ctx, n, &size);
        if (r < 0)
                return r;
        *st = (struct stat) {
                .st_ino = n->ino,
                .st_mode = k->mode,
                .st_nlink = S_ISDIR(k->mode) ? 2 : 1,
                .st_uid = ctx->uid,
                .st_gid = ctx->gid,
                .st_size = (off_t) size,
                .st_blksize = 4096,
                .st_atim = ctx->mount_time,
                .st_mtim = ctx->mount_time,
                .st_ctim = ctx->mount_time,
        };
        /* Private to root unless -o allow_other was asked for. */
        if (n->kind == FS_ROOT && ctx->allow_other)
                st->st_mode = S_IFDIR | 0755;
        if (k->attr && (r = k->attr(ctx, n, st)) < 0)
                return r;
        st->st_blocks = (blkcnt_t) ((st->st_size + 511) / 512);   /* from the size a kind may set */
        return 0;
}

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

/* The entry of child `e` of `parent` with the lookup reference a reply
 * hands to the kernel (the caller drops it with inode_table_forget() if the
 * reply is not sent). Returns 0 or -errno (no reference then). */
static int entry_of(fs_ctx *ctx, const fs_node *parent, const fs_dirent *e, struct fuse_entry_param *ret) {
        fs_node_spec spec = fs_dirent_spec(e);
        fs_node *child;
        int r = inode_table_ref(ctx->inodes, parent, &spec, &child);
        if (r < 0)
                return r;
        struct fuse_entry_param ep = { .ino = child->ino, .generation = 1 };
        r = node_attr(ctx, child, &ep.attr);
        if (r < 0) {
                inode_table_forget(ctx->inodes, child->ino, 1);
                return r;
        }
        ep.attr_timeout = ep.entry_timeout = timeout_of(child);
        *ret = ep;
        return 0;
}

static void reply_entry(fuse_req_t req, const fs_node *parent, const fs_dirent *e) {
        fs_ctx *ctx = ctx_of(req);
        struct fuse_entry_param ep;
        int r = entry_of(ctx, parent, e, &ep);
        if (r < 0)
                fuse_reply_err(req, -r);
        else if (fuse_reply_entry(req, &ep) != 0)
                inode_table_forget(ctx->inodes, ep.ino, 1);
}

#define GET_NODE(req, ino, n)                                   \
        fs_node *n = inode_table_get(ctx_of(req)->inodes, ino); \
        if (!n) {                                               \
                fuse_reply_err(req, ESTALE);                    \
                return;                                         \
        }

static void op_init(void *userdata, struct fuse_conn_info *conn) {
        fs_ctx *ctx = userdata;
        /* O_TRUNC arrives with open() instead of a separate setattr, so
         * `echo > checkpoint` is one open and one write. */
        if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
                conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
        /* Cached data is checked against the attributes only when they
         * expire (immutable files: a day), not before every read. */
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

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        GET_NODE(req, ino, n);
        const fs_kind_ops *k = &fs_kinds[n->kind];
        if (!S_ISDIR(k->mode)) {
                fuse_reply_err(req, ENOTDIR);
                return;
        }
        fs_handle *h = handle_new();
        if (!h) {
                fuse_reply_err(req, ENOMEM);
                return;
        }
        int r = k->list(ctx_of(req), n, &h->dirents);
        if (r < 0) {
                handle_free(h);
                fuse_reply_err(req, -r);
                return;
        }
        fi->fh = (uintptr_t) h;
        if (!k->dynamic) {
                fi->cache_readdir = 1;
                fi->keep_cache = 1;
        }
        if (fuse_reply_open(req, fi) != 0)
                handle_free(h);
}

/* READDIR and READDIRPLUS. Offsets: 0 ".", 1 "..", 2+i the i-th child. */
static void reply_dir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi, bool plus) {
        GET_NODE(req, ino, dir);
        fs_ctx *ctx = ctx_of(req);
        fs_handle *h = (fs_handle *) (uintptr_t) fi->fh;
        char *buf = malloc(size);
        if (!buf) {
                fuse_reply_err(req, ENOMEM);
                return;
        }
        /* READDIRPLUS: the nodes referenced, to drop if the reply is lost. */
        _cleanup_free_ fuse_ino_t *refs = plus ? calloc(h->dirents.n + 1, sizeof(*refs)) : NULL;
        size_t used = 0, n_refs = 0;
        if (plus && !refs)
                plus = false;   /* names only: the kernel looks them up */
        for (size_t i = (size_t) off; i < h->dirents.n + 2; i++) {
                struct fuse_entry_param ep = { 0 };
                const char *name;
                if (i < 2) {
                        /* No lookup reference for these: ep.ino stays 0. */
                        name = i == 0 ? "." : "..";
                        ep.attr.st_ino = dir->ino;
                        ep.attr.st_mode = S_IFDIR;
                } else {
                        const fs_dirent *e = &h->dirents.v[i - 2];
                        name = e->name;
                        /* Without attributes (ep.ino 0), the kernel looks it up. */
                        if (!plus || entry_of(ctx, dir, e, &ep) < 0) {
                                ep = (struct fuse_entry_param) { 0 };
                                uint64_t ino_nr;
                                fs_node_spec spec = fs_dirent_spec(e);
                                if (inode_number_of_child(dir, &spec, &ino_nr) < 0)
                                        break;
                                ep.attr.st_ino = ino_nr;
                                ep.attr.st_mode = fs_kinds[e->kind].mode & S_IFMT;
                        }
                }
                size_t need = plus ? fuse_add_direntry_plus(req, buf + used, size - used, name, &ep, (off_t) (i + 1))
                                   : fuse_add_direntry(req, buf + used, size - used, name, &ep.attr, (off_t) (i + 1));
                if (need > size - used) {
                        if (ep.ino)   /* not sent: the kernel will not count it */
                                inode_table_forget(ctx->inodes, ep.ino, 1);
                        break;
                }
                used += need;
                if (ep.ino)
                        refs[n_refs++] = ep.ino;
        }
        if (fuse_reply_buf(req, buf, used) != 0)
                for (size_t i = 0; i < n_refs; i++)
                        inode_table_forget(ctx->inodes, refs[i], 1);
        free(buf);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
        reply_dir(req, ino, size, off, fi, false);
}

/* Attributes with the names: a first walk (`ls -l`, `find -printf`, rsync)
 * needs no LOOKUP per entry. */
static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
        reply_dir(req, ino, size, off, fi, true);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        handle_free((fs_handle *) (uintptr_t) fi->fh);
        fuse_reply_err(req, 0);
}

/* req: NULL once a reply was tried (libfuse frees the request either way). */
static void release_handle(fs_ctx *ctx, fuse_req_t req, fuse_ino_t ino, fs_handle *h) {
        if (h->io_counted)
                fs_passthrough_release(ctx->pt, req, ino, h->io);
        handle_free(h);
}

/* Opens a big immutable file for reading (store/blob-check.h says how it
 * is checked) and chooses its I/O mode (see passthrough.h). Sets
 * *ret_backing_id for passthrough. */
static int open_reader(fs_ctx *ctx, fuse_req_t req, const fs_node *n, fs_handle *h, int *ret_backing_id) {
        struct store_reader *rd = NULL;
        _cleanup_free_ char *digest = NULL;
        int r = fs_kinds[n->kind].open_reader(ctx, n, &rd, &digest);
        if (r < 0)
                return r;
        r = store_opened_blob_open(ctx->blobs, rd, digest, &h->blob);
        if (r < 0) {
                store_reader_free(rd);
                return r;
        }
        int fd;
        if (ctx->pt && store_opened_blob_passthrough(h->blob, &fd)) {
                h->io = fs_passthrough_open(ctx->pt, req, n->ino, fd, ret_backing_id);
                h->io_counted = true;
        }
        return 0;
}

/* A new handle for an open of `n`, and the one writer a control file
 * admits. */
static int handle_for_open(fs_node *n, int acc, fs_handle **ret) {
        fs_handle *h = handle_new();
        if (!h)
                return -ENOMEM;
        if (acc != O_RDONLY && fs_kinds[n->kind].one_writer) {
                if (__atomic_add_fetch(&n->writers, 1, __ATOMIC_SEQ_CST) > 1) {
                        __atomic_sub_fetch(&n->writers, 1, __ATOMIC_SEQ_CST);
                        handle_free(h);
                        return -EBUSY;
                }
                h->writer = n;
        }
        *ret = h;
        return 0;
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        GET_NODE(req, ino, n);
        const fs_kind_ops *k = &fs_kinds[n->kind];
        if (S_ISDIR(k->mode)) {
                fuse_reply_err(req, EISDIR);
                return;
        }
        int acc = fi->flags & O_ACCMODE;
        if (acc != O_RDONLY && !k->write) {
                fuse_reply_err(req, EROFS);
                return;
        }
        fs_handle *h;
        int r = handle_for_open(n, acc, &h);
        if (r < 0) {
                fuse_reply_err(req, -r);
                return;
        }
        int backing_id = 0;
        if (acc == O_RDONLY && k->open_reader)
                r = open_reader(ctx_of(req), req, n, h, &backing_id);
        else if (acc != O_WRONLY && k->content)
                r = k->content(ctx_of(req), n, &h->data, &h->len);
        if (r < 0) {
                release_handle(ctx_of(req), req, ino, h);
                fuse_reply_err(req, -r);
                return;
        }
        fi->fh = (uintptr_t) h;
        if (k->dynamic || h->io == FS_IO_DIRECT)
                fi->direct_io = 1;
        else if (h->io == FS_IO_PASSTHROUGH) {
#if CKPTFS_FUSE_PASSTHROUGH
                fi->backing_id = backing_id;   /* keep_cache would make the open fail */
#endif
        } else
                fi->keep_cache = !h->blob || store_opened_blob_may_keep_pages(h->blob);
        fs_ctx *ctx = ctx_of(req);
        if (fuse_reply_open(req, fi) != 0)
                release_handle(ctx, NULL, n->ino, h);
}

/* Reads of immutable big files: from the blob's fd (splice where the
 * kernel lets us) unless its reads must be checked. */
static void read_blob(fuse_req_t req, fs_handle *h, size_t size, off_t off) {
        uint64_t total = store_opened_blob_size(h->blob);
        if (off < 0 || (uint64_t) off >= total) {
                fuse_reply_buf(req, NULL, 0);
                return;
        }
        size_t n = total - (uint64_t) off < size ? (size_t) (total - (uint64_t) off) : size;
        int fd;
        uint64_t fd_offset;
        if (store_opened_blob_direct_fd(h->blob, &fd, &fd_offset)) {
                struct fuse_bufvec bv = FUSE_BUFVEC_INIT(n);
                bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
                bv.buf[0].fd = fd;
                bv.buf[0].pos = (off_t) (fd_offset + (uint64_t) off);
                fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
                return;
        }
        _cleanup_free_ char *buf = malloc(n ? n : 1);
        if (!buf) {
                fuse_reply_err(req, ENOMEM);
                return;
        }
        ssize_t got = store_opened_blob_read(h->blob, buf, n, (uint64_t) off);
        if (got < 0)
                fuse_reply_err(req, (int) -got);
        else
                fuse_reply_buf(req, buf, (size_t) got);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
        fs_handle *h = (fs_handle *) (uintptr_t) fi->fh;
        if (h->blob) {
                read_blob(req, h, size, off);
                return;
        }
        if (off < 0 || (uint64_t) off >= h->len) {
                fuse_reply_buf(req, NULL, 0);
                return;
        }
        size_t n = h->len - (size_t) off < size ? h->len - (size_t) off : size;
        /* Reply from a copy this thread owns: once the kernel has the data it
         * may let the reader close the file, and RELEASE (on another thread)
         * frees h->data while this writev() is still returning; ASan checks
         * the buffers after the call and would see them freed. The files
         * served from memory are small. */
        char *copy = malloc(n ? n : 1);
        if (!copy) {
                fuse_reply_err(req, ENOMEM);
                return;
        }
        memcpy(copy, h->data + off, n);
        fuse_reply_buf(req, copy, n);
        free(copy);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi) {
        GET_NODE(req, ino, n);
        const fs_kind_ops *k = &fs_kinds[n->kind];
        if (!k->write) {
                fuse_reply_err(req, EROFS);
                return;
        }
        int r = k->write(ctx_of(req), n, buf, size);
        if (r < 0)
                fuse_reply_err(req, -r);
        else
                fuse_reply_write(req, size);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        release_handle(ctx_of(req), req, ino, (fs_handle *) (uintptr_t) fi->fh);
        fuse_reply_err(req, 0);
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
