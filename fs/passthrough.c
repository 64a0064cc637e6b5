/* Per-inode I/O mode bookkeeping for FUSE passthrough (see passthrough.h). */
#include "passthrough.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#define PT_BUCKETS 64

typedef struct pt_inode {
        struct pt_inode *next;
        fuse_ino_t ino;
        unsigned cached, passthrough;   /* open files in each mode */
        int backing_id;                 /* > 0 while passthrough > 0 (or kept, see release) */
} pt_inode;

struct fs_passthrough {
        pthread_mutex_t lock;
        bool enabled;
        bool worked;   /* the kernel took a backing file once */
        pt_inode *buckets[PT_BUCKETS];   /* only inodes with open files */
};

int fs_passthrough_new(fs_passthrough **ret) {
        fs_passthrough *pt = calloc(1, sizeof(*pt));
        if (!pt)
                return -ENOMEM;
        pthread_mutex_init(&pt->lock, NULL);
        pt->enabled = true;
        *ret = pt;
        return 0;
}

fs_passthrough *fs_passthrough_free(fs_passthrough *pt) {
        if (pt) {
                for (size_t i = 0; i < PT_BUCKETS; i++)
                        while (pt->buckets[i]) {
                                pt_inode *e = pt->buckets[i];
                                pt->buckets[i] = e->next;
                                free(e);
                        }
                pthread_mutex_destroy(&pt->lock);
                free(pt);
        }
        return NULL;
}

static pt_inode **slot_of(fs_passthrough *pt, fuse_ino_t ino) {
        pt_inode **p = &pt->buckets[ino % PT_BUCKETS];
        while (*p && (*p)->ino != ino)
                p = &(*p)->next;
        return p;
}

static int backing_open(fuse_req_t req, int fd) {
#if CKPTFS_FUSE_PASSTHROUGH
        return fuse_passthrough_open(req, fd);
#else
        (void) req;
        (void) fd;
        return 0;
#endif
}

static void backing_close(fuse_req_t req, int backing_id) {
#if CKPTFS_FUSE_PASSTHROUGH
        (void) fuse_passthrough_close(req, backing_id);
#else
        (void) req;
        (void) backing_id;
#endif
}

fs_io_mode fs_passthrough_open(fs_passthrough *pt, fuse_req_t req, fuse_ino_t ino, int backing_fd,
                               int *ret_backing_id) {
        fs_io_mode mode = FS_IO_CACHED;
        pthread_mutex_lock(&pt->lock);
        pt_inode **slot = slot_of(pt, ino);
        pt_inode *e = *slot;
        if (!e && (e = calloc(1, sizeof(*e)))) {
                e->ino = ino;
                *slot = e;
        }
        if (!e) {
                /* Out of memory: no bookkeeping, so no passthrough open of
                 * this inode either (it would have an entry); direct I/O
                 * mixes with cached opens. */
                pthread_mutex_unlock(&pt->lock);
                return FS_IO_DIRECT;
        }
        if (e->passthrough > 0)
                /* The kernel refuses any other mode now; it reads the file
                 * registered first, whatever this open's reader has. */
                mode = FS_IO_PASSTHROUGH;
        else if (e->cached == 0 && (e->backing_id > 0 || (backing_fd >= 0 && pt->enabled))) {
                if (e->backing_id == 0) {
                        int id = backing_open(req, backing_fd);
                        if (id > 0) {
                                e->backing_id = id;
                                pt->worked = true;
                        } else if (!pt->worked)
                                pt->enabled = false;   /* refused from the start: it will be again */
                }
                if (e->backing_id > 0)
                        mode = FS_IO_PASSTHROUGH;
        }
        if (mode == FS_IO_PASSTHROUGH) {
                e->passthrough++;
                *ret_backing_id = e->backing_id;
        } else
                e->cached++;
        pthread_mutex_unlock(&pt->lock);
        return mode;
}

void fs_passthrough_release(fs_passthrough *pt, fuse_req_t req, fuse_ino_t ino, fs_io_mode mode) {
        if (mode == FS_IO_DIRECT)
                return;
        pthread_mutex_lock(&pt->lock);
        pt_inode **slot = slot_of(pt, ino);
        pt_inode *e = *slot;
        if (e) {
                if (mode == FS_IO_CACHED && e->cached > 0)
                        e->cached--;
                if (mode == FS_IO_PASSTHROUGH && e->passthrough > 0 && --e->passthrough == 0 && req) {
                        backing_close(req, e->backing_id);
                        e->backing_id = 0;
                }
                /* Without a request the backing id cannot be closed: it
                 * stays with the entry for the next open of the inode. */
                if (e->cached == 0 && e->passthrough == 0 && e->backing_id == 0) {
                        *slot = e->next;
                        free(e);
                }
        }
        pthread_mutex_unlock(&pt->lock);
}
