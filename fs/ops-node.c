/* What the files of the ops table share about nodes: their attributes,
 * the entries of replies, the open handles (see ops-internal.h). */
#include "ops-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

fs_ctx *ctx_of(fuse_req_t req) {
        return fuse_req_userdata(req);
}

fs_handle *handle_free(fs_handle *h) {
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

fs_handle *handle_new(void) {
        return calloc(1, sizeof(fs_handle));
}

double timeout_of(const fs_node *n) {
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
        /* A file about a task the container does not have (pids,
         * metrics.json): there, empty, and its open says ESRCH; `ls -l` of
         * the directory stays clean. */
        if (r == -ESRCH) {
                *ret = 0;
                return 0;
        }
        if (r < 0)
                return r;
        free(data);
        *ret = len;
        return 0;
}

int node_attr(fs_ctx *ctx, const fs_node *n, struct stat *st) {
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
        /* A new mtime drops the kernel's cached listing (fs_ctx.no_opendir). */
        if (ctx->no_opendir && k->dynamic && S_ISDIR(k->mode))
                clock_gettime(CLOCK_REALTIME, &st->st_mtim);
        if (k->attr && (r = k->attr(ctx, n, st)) < 0)
                return r;
        /* From the size a kind may set, unless it said the blocks (a sparse file). */
        if (!st->st_blocks)
                st->st_blocks = (blkcnt_t) ((st->st_size + 511) / 512);
        return 0;
}

/* The entry of child `e` of `parent` with the lookup reference a reply
 * hands to the kernel (the caller drops it with inode_table_forget() if the
 * reply is not sent). Returns 0 or -errno (no reference then). */
int entry_of(fs_ctx *ctx, const fs_node *parent, const fs_dirent *e, struct fuse_entry_param *ret) {
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

void reply_entry(fuse_req_t req, const fs_node *parent, const fs_dirent *e) {
        fs_ctx *ctx = ctx_of(req);
        struct fuse_entry_param ep;
        int r = entry_of(ctx, parent, e, &ep);
        if (r < 0)
                fuse_reply_err(req, -r);
        else if (fuse_reply_entry(req, &ep) != 0)
                inode_table_forget(ctx->inodes, ep.ino, 1);
}
