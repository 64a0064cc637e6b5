/* Files: open, read, write, release; the integrity of blobs is
 * store_opened_blob's (blob-check.h). */
#include "ops-internal.h"

#include <errno.h>
#include <unistd.h>

#include "cleanup.h"

/* req: NULL once a reply was tried (libfuse frees the request either way). */
static void release_handle(fs_ctx *ctx, fuse_req_t req, fuse_ino_t ino, fs_handle *h) {
        if (h->io_counted)
                fs_passthrough_release(ctx->pt, req, ino, h->io);
        handle_free(h);
}

/* Opens a big immutable file for reading (store/containerd/blob-check.h says how it
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

void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
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

void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
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

/* SEEK_DATA/SEEK_HOLE (the kernel does the other whences itself): the
 * kind's seek hook, else the answers for a file without holes. Never
 * ENOSYS, which would turn lseek off for the whole mount. */
void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence, struct fuse_file_info *fi) {
        GET_NODE(req, ino, n);
        const fs_handle *h = (const fs_handle *) (uintptr_t) fi->fh;
        uint64_t size = h->blob ? store_opened_blob_size(h->blob) : h->len, at;
        if (whence != SEEK_DATA && whence != SEEK_HOLE) {
                fuse_reply_err(req, EINVAL);
                return;
        }
        if (off < 0 || (uint64_t) off >= size) {
                fuse_reply_err(req, ENXIO);
                return;
        }
        at = whence == SEEK_DATA ? (uint64_t) off : size;
        int r = 0;
        if (h->blob && fs_kinds[n->kind].seek)
                r = fs_kinds[n->kind].seek(store_opened_blob_reader(h->blob), (uint64_t) off, whence == SEEK_HOLE, &at);
        if (r < 0)
                fuse_reply_err(req, -r);
        else
                fuse_reply_lseek(req, (off_t) at);
}

void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
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

void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        release_handle(ctx_of(req), req, ino, (fs_handle *) (uintptr_t) fi->fh);
        fuse_reply_err(req, 0);
}
