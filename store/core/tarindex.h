/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * tarindex: one pass over a tar stream (through a store_reader, so it works
 * on a blob file, a slice, or the uncompressed view of a gzip blob) that lists
 * every member with where its data lives, so members can later be read by
 * offset without touching the rest of the archive.
 *
 * Formats: POSIX ustar (name + prefix), GNU ('L' long name, 'K' long link,
 * "ustar  " magic), pax ('x' records path, linkpath, size, mtime, uid, gid,
 * uname, gname; 'g' global headers are skipped and not applied), old v7
 * headers, octal and base-256 numeric fields.
 *
 * Paths are normalised: no leading "/" or "./", no "." components, no
 * duplicate or trailing "/". The archive root ("./" or "/") is the empty
 * string "". Hard link targets are normalised the same way; symlink targets
 * are kept verbatim. Whiteouts are ordinary entries carrying a flag.
 *
 * Errors (the scan stops at the first one):
 *   -EBADMSG     structurally corrupt: bad checksum, bad numeric field,
 *                truncated header/data/extension, missing end-of-archive
 *                marker, malformed pax record, absurd sizes (a member or a
 *                long-name extension reaching past the end of the stream)
 *   -EINVAL      unsafe or invalid names: a ".." component, a NUL inside a
 *                name or link target, an empty name, a path over 4095 bytes
 *                or a component over 255, an archive root that is not a
 *                directory, a hard link to the root
 *   -EOPNOTSUPP  GNU sparse members ('S' or pax GNU.sparse.*) and multi-volume
 *                continuations ('M'), whose data cannot be served by offset
 *   -ENOMEM, or a reader error (-EIO...), or the callback's own error.
 *
 * Threads: no shared state; the reader must only be usable concurrently if
 * other threads use it too.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reader.h"

/* Values are stored in the database: never renumber. */
enum tar_type {
        TAR_TYPE_REG = 0,
        TAR_TYPE_DIR = 1,
        TAR_TYPE_SYMLINK = 2,
        TAR_TYPE_HARDLINK = 3,
        TAR_TYPE_CHAR = 4,
        TAR_TYPE_BLOCK = 5,
        TAR_TYPE_FIFO = 6,
        _TAR_TYPE_MAX,
};

/* Flags (bit values are stored in the database). */
#define TAR_MEMBER_WHITEOUT 0x1u /* basename ".wh.NAME": NAME was deleted in this layer */
#define TAR_MEMBER_OPAQUE   0x2u /* basename ".wh..wh..opq": the directory is opaque */
#define TAR_MEMBER_ABSOLUTE 0x4u /* the archive named it with a leading "/" (untrusted input refuses it) */

struct tar_member {
        char *path;         /* normalised; "" is the archive root */
        char *link_target;  /* symlink/hardlink target, NULL for other types */
        char *uname;        /* NULL when absent or empty */
        char *gname;        /* NULL when absent or empty */
        enum tar_type type;
        uint32_t mode;      /* permission bits, 07777 */
        uint32_t flags;     /* TAR_MEMBER_* */
        uint64_t uid;
        uint64_t gid;
        uint64_t size;      /* bytes of data in the stream; 0 for all non-regular types */
        int64_t mtime_sec;
        uint32_t mtime_nsec; /* only pax mtime carries sub-second precision */
        uint32_t devmajor;  /* char/block devices only */
        uint32_t devminor;
        uint64_t header_offset; /* first header block of the member (incl. extensions) */
        uint64_t data_offset;   /* first data byte in the (uncompressed) stream */
};

struct tar_tree;

/* An owned array of members. Duplicated paths are kept in archive order (the
 * last one wins when the archive is extracted).
 *
 * A finished index (as tarindex_build() and store_db_get_tar_members()
 * return them) also holds the tree `tar -x` would make of the members:
 * every member path, plus the parent directories the archive does not list ("implicit" directories: "a/b/c" alone makes
 * "a" and "a/b"), each path once, carrying the last member of that path.
 * Paths look up in O(1) and a directory lists in O(its children).
 *
 * Threads: a finished index is immutable and may be read from any number
 * of threads. */
struct tar_index {
        struct tar_member *members;
        size_t n;
        size_t n_allocated;    /* capacity of members[] */
        struct tar_tree *tree; /* private: the tree, NULL until finished */
};

/* Scans the whole archive into a new, finished tar_index. */
int tarindex_build(struct store_reader *r, struct tar_index **ret_index);

/* The last member with exactly this (normalised) path, or NULL (also for an
 * implicit directory). O(1) on a finished index, linear otherwise. */
const struct tar_member *tar_index_find(const struct tar_index *idx, const char *path);

/* Whether (normalised) `path` is in the tree of a finished index ("" is the
 * root, always there). Returns 0 with *ret_member the last member of that
 * path, or NULL for an implicit directory (and for a root the archive does
 * not list); -ENOENT when the path is not in the tree; -EINVAL when the
 * index is not finished. */
int tar_index_lookup(const struct tar_index *idx, const char *path, const struct tar_member **ret_member);

/* One child of a directory: its name (NUL-terminated, valid during the
 * call) and the member as tar_index_lookup() gives it. Return 0 to go on,
 * or a negative errno to stop. */
typedef int (*tar_child_cb)(const char *name, const struct tar_member *member, void *userdata);

/* Calls cb for each child of directory `dir` (normalised, "" for the root)
 * of a finished index, in the order in which the archive first mentions
 * them (a child first mentioned as the parent of a later member comes where
 * that member is), in O(children). Members of the path `dir` itself do not
 * matter: the children of a path that is a file in the archive are listed
 * too. Returns 0, -ENOENT when dir is not in the tree, -EINVAL when the
 * index is not finished, or the callback's error. */
int tar_index_foreach_child(const struct tar_index *idx, const char *dir, tar_child_cb cb, void *userdata);

void tar_index_free(struct tar_index *idx);
static inline void tar_index_freep(struct tar_index **p) {
        if (*p)
                tar_index_free(*p);
}
#define _cleanup_tar_index_ __attribute__((cleanup(tar_index_freep)))
