/* oci_src: the files of an OCI image layout to import, from a directory or
 * from a tar of one (`tar -C layout -cf x.tar .`). Both are untrusted:
 *
 * - a directory is read below its own fd, one component at a time with
 *   O_NOFOLLOW: a symlink anywhere on the way to a blob is refused, so
 *   nothing outside the directory is ever read;
 * - a tar (plain or gzip'd) is scanned once (tarindex.h) and refused as a whole when a member
 *   has a ".." component, an absolute name, is a device, a fifo, a symlink
 *   leading out of the archive, a hard link to nothing, or when a header is
 *   corrupt or oversized. Nothing is ever extracted: blobs are read by
 *   offset from the tar.
 *
 * Errors carry a message (*ret_msg, malloc'd, for the user) where the
 * errno alone would not say what was wrong. Pure: no containerd, no FUSE.
 * Threads: one oci_src is used by one thread at a time. */
#pragma once

#include <stdint.h>

#include "reader.h"
#include "tarindex.h"

typedef struct oci_src oci_src;

/* Opens `path` (a directory or a regular file holding a tar).
 * Returns 0, -ENOENT (no such path), -EINVAL (neither a directory nor a
 * regular file, or an unsafe tar: *ret_msg says which member and why),
 * -EBADMSG (a corrupt or truncated tar, or an oversized header), -ENOMEM.
 * *ret_msg is set (may be NULL) on failure only. */
int oci_src_open(const char *path, oci_src **ret, char **ret_msg);

/* Whether the source is a tar. */
int oci_src_is_tar(const oci_src *s);

/* A reader over one file of the layout, by its path inside it ("index.json",
 * "blobs/sha256/<hex>"): components are plain names (no "." or ".."). The
 * reader may borrow from s: free it before s. Returns 0, -ENOENT (absent),
 * -EINVAL (a bad path), -ELOOP (a symlink on the way), -EISDIR or -ESPIPE
 * (not a regular file), -errno. */
int oci_src_open_file(oci_src *s, const char *relpath, struct store_reader **ret_reader);

/* Checks a scanned tar's members for what an untrusted archive may not
 * hold (see above). Returns 0, or -EINVAL with *ret_msg naming the first
 * bad member. Exposed for the tests and for other importers. */
int oci_tar_check(const struct tar_index *idx, char **ret_msg);

oci_src *oci_src_free(oci_src *s);
static inline void oci_src_freep(oci_src **p) {
        if (*p)
                oci_src_free(*p);
}
#define _cleanup_oci_src_ __attribute__((cleanup(oci_src_freep)))
