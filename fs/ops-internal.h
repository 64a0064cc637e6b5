/* What the files of the ops table share (ops-node.c: attributes, entries,
 * handles; ops-dir.c: listings; ops-file.c: opens, reads, writes; ops.c:
 * the other requests and the table, which only it refers to). Private to
 * them. */
#pragma once

#include "fs.h"

#include "blob-check.h"
#include "passthrough.h"

typedef struct fs_handle {
        char *data;            /* file content, snapshot taken at open */
        size_t len;
        fs_dirents dirents;    /* directory listing, snapshot taken at opendir */
        store_opened_blob *blob;       /* big immutable files: read by offset */
        bool io_counted;               /* io is counted in ctx->pt */
        fs_io_mode io;
        fs_node *writer;               /* a one_writer node this handle writes to */
} fs_handle;

fs_ctx *ctx_of(fuse_req_t req);
fs_handle *handle_new(void);
fs_handle *handle_free(fs_handle *h);
/* The kernel cache timeout of a node's entry and attributes. */
double timeout_of(const fs_node *n);
int node_attr(fs_ctx *ctx, const fs_node *n, struct stat *st);
int entry_of(fs_ctx *ctx, const fs_node *parent, const fs_dirent *e, struct fuse_entry_param *ret);
/* Replies with the entry of e (a lookup reference taken), or the error. */
void reply_entry(fuse_req_t req, const fs_node *parent, const fs_dirent *e);

/* The node of `ino` as `n`, or an ESTALE reply and return. */
#define GET_NODE(req, ino, n)                                   \
        fs_node *n = inode_table_get(ctx_of(req)->inodes, ino); \
        if (!n) {                                               \
                fuse_reply_err(req, ESTALE);                    \
                return;                                         \
        }

void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence, struct fuse_file_info *fi);
void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off, struct fuse_file_info *fi);
void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
