/* Directory listings: opendir, readdir(plus), releasedir. */
#include "ops-internal.h"

#include <errno.h>

#include "cleanup.h"

void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        /* The kernel takes ENOSYS for "open them yourself" from now on. */
        if (ctx_of(req)->no_opendir) {
                fuse_reply_err(req, ENOSYS);
                return;
        }
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
        /* No handle (fs_ctx.no_opendir): listed for each request (see there). */
        fs_dirents fresh = { 0 };
        const fs_dirents *d = h ? &h->dirents : &fresh;
        int r = h ? 0 : fs_kinds[dir->kind].list ? fs_kinds[dir->kind].list(ctx, dir, &fresh) : -ENOTDIR;
        char *buf = r < 0 ? NULL : malloc(size);
        if (!buf) {
                fs_dirents_clear(&fresh);
                fuse_reply_err(req, r < 0 ? -r : ENOMEM);
                return;
        }
        /* READDIRPLUS: the nodes referenced, to drop if the reply is lost. */
        _cleanup_free_ fuse_ino_t *refs = plus ? calloc(d->n + 1, sizeof(*refs)) : NULL;
        size_t used = 0, n_refs = 0;
        if (plus && !refs)
                plus = false;   /* names only: the kernel looks them up */
        for (size_t i = (size_t) off; i < d->n + 2; i++) {
                struct fuse_entry_param ep = { 0 };
                const char *name;
                if (i < 2) {
                        /* No lookup reference for these: ep.ino stays 0. */
                        name = i == 0 ? "." : "..";
                        ep.attr.st_ino = dir->ino;
                        ep.attr.st_mode = S_IFDIR;
                } else {
                        const fs_dirent *e = &d->v[i - 2];
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
        fs_dirents_clear(&fresh);
}

void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
        reply_dir(req, ino, size, off, fi, false);
}

/* Attributes with the names: a first walk (`ls -l`, `find -printf`, rsync)
 * needs no LOOKUP per entry. */
void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
        reply_dir(req, ino, size, off, fi, true);
}

void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        handle_free((fs_handle *) (uintptr_t) fi->fh);
        fuse_reply_err(req, 0);
}
