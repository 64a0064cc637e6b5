/* fs_passthrough: which opens of a file the kernel serves itself from the
 * backing file (FUSE passthrough, libfuse >= 3.16) and which go through READ.
 *
 * The kernel puts an inode in one I/O mode at a time: while a passthrough
 * open exists, any other open of the inode fails with EIO (direct I/O
 * included), and all passthrough opens of an inode must share one backing
 * id. So the choice is made per inode: once an inode has a passthrough open,
 * every open of it is passthrough (the kernel reads the backing file
 * registered first); an inode with cached opens gets cached ones.
 *
 * The kernel ends an open's mode before RELEASE reaches us, so the counts
 * here never lag behind the kernel's in the unsafe direction.
 *
 * Threads: all functions may be called from any FUSE thread. When the kernel
 * refuses the first backing file (e.g. EPERM without CAP_SYS_ADMIN),
 * passthrough is off for good; later refusals only affect that open. */
#pragma once

#include <stdbool.h>

#include "fs.h"

typedef enum fs_io_mode {
        FS_IO_CACHED,       /* READ requests, kernel page cache kept */
        FS_IO_PASSTHROUGH,  /* the kernel reads the backing file */
        FS_IO_DIRECT,       /* READ requests, no page cache (out of memory only) */
} fs_io_mode;

typedef struct fs_passthrough fs_passthrough;

/* For a connection that negotiated FUSE_CAP_PASSTHROUGH. 0 or -ENOMEM. */
int fs_passthrough_new(fs_passthrough **ret);
fs_passthrough *fs_passthrough_free(fs_passthrough *pt);

/* Chooses the mode of a new open of `ino` and counts it. backing_fd: a file
 * whose whole content is the file's content (offsets 1:1, same size), or -1
 * when there is none. Sets *ret_backing_id (> 0) for FS_IO_PASSTHROUGH,
 * to be put in fuse_file_info.backing_id. Every open counted must be
 * released with fs_passthrough_release() and the same mode. */
fs_io_mode fs_passthrough_open(fs_passthrough *pt, fuse_req_t req, fuse_ino_t ino, int backing_fd,
                               int *ret_backing_id);
/* req: the RELEASE request, or NULL when there is none (the open's reply
 * failed): the backing id is then kept for the next open of the inode. */
void fs_passthrough_release(fs_passthrough *pt, fuse_req_t req, fuse_ino_t ino, fs_io_mode mode);
