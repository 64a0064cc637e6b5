/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What the tar files of store/core share behind tarindex.h: the ustar block,
 * the extension headers' pending overrides, the header parsers, and the
 * building blocks of an index (also used by db-tar.c and the tests).
 * Errors as in tarindex.h. No shared state: thread-safe as tarindex.h says.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tarindex.h"

#define TAR_BLOCK 512u
#define TAR_PATH_LIMIT 4095u /* like PATH_MAX - 1 */
#define TAR_NAME_LIMIT 255u  /* like NAME_MAX */

struct ustar_header {
        char name[100];
        char mode[8];
        char uid[8];
        char gid[8];
        char size[12];
        char mtime[12];
        char chksum[8];
        char typeflag;
        char linkname[100];
        char magic[6];
        char version[2];
        char uname[32];
        char gname[32];
        char devmajor[8];
        char devminor[8];
        char prefix[155];
        char pad[12];
};
_Static_assert(sizeof(struct ustar_header) == TAR_BLOCK, "ustar header is one block");

/* ---- tar-scan.c: the scan ------------------------------------------------ */

/* Called once per member, in archive order. The member and its strings are
 * valid only during the call (copy what you keep). Return 0 to go on, or a
 * negative errno to stop the scan, which then returns that value. */
typedef int (*tar_member_cb)(const struct tar_member *m, void *userdata);

/* Scans the whole archive. Returns the number of members (>= 0) or -errno
 * (see tarindex.h). Callbacks already made for earlier members are not
 * undone. */
int tarindex_scan(struct store_reader *r, tar_member_cb cb, void *userdata);

/* Normalises an archive path as tarindex.h describes into a new string.
 * Returns 0, -EINVAL (".." component, empty, too long) or -ENOMEM. */
int tar_path_normalize(const char *in, char **ret_path);

/* ---- tar-pax.c: overrides from extension headers ------------------------- */

/* Overrides collected from extension headers ('x' pax records, GNU 'L'/'K'
 * long names) for the next real header. Owns its strings. */
struct tar_pending {
        char *pax_path, *pax_linkpath, *pax_uname, *pax_gname;
        char *gnu_name, *gnu_link;
        bool has_size, has_mtime, has_uid, has_gid;
        uint64_t size, uid, gid;
        int64_t mtime_sec;
        uint32_t mtime_nsec;
        uint64_t first_header; /* offset of the first extension header */
        bool any;
};

/* Frees the strings and resets every field. */
void tar_pending_clear(struct tar_pending *p);
/* Applies the pax records b[0..len) ("LEN KEY=VALUE\n"...) to p. */
int tar_pax_parse(struct tar_pending *p, const char *b, size_t len);

/* ---- tar-header.c: one header block -------------------------------------- */

/* A numeric field (octal, or base-256) no larger than max. */
int tar_parse_unsigned(const char *field, size_t len, uint64_t max, uint64_t *ret);
/* 0, or -EBADMSG when the checksum of the block does not match. */
int tar_verify_checksum(const uint8_t *blk);
bool tar_is_zero_block(const uint8_t *blk);
/* Maps a typeflag. Returns 1 for a member (with *ret_type and *ret_has_data
 * set), 0 for an extension or ignored header, or -EOPNOTSUPP. */
int tar_classify(char typeflag, enum tar_type *ret_type, bool *ret_has_data);
/* Builds into *m (zeroed by the caller; its strings are the caller's to
 * free, also on failure) the member of the real header h found at offset
 * pos, with the overrides p. *ret_skip is the number of data bytes that
 * follow the header in the stream. */
int tar_header_member(const struct ustar_header *h, const struct tar_pending *p, uint64_t pos,
                      enum tar_type type, bool has_data, struct tar_member *m, uint64_t *ret_skip);

/* ---- tar-tree.c: owned indexes -------------------------------------------- */

/* A new empty index with room for n_hint members (0: none yet). */
int tar_index_new(uint64_t n_hint, struct tar_index **ret_index);
/* Appends a deep copy of m (the index is no longer finished). Returns 0 or
 * -ENOMEM. */
int tar_index_append(struct tar_index *idx, const struct tar_member *m);
/* Builds the tree used by tar_index_find(), tar_index_lookup() and
 * tar_index_foreach_child(), in O(total length of the paths).
 * tarindex_build() and store_db_get_tar_members() return finished indexes;
 * call it after tar_index_append(). Returns 0, -ENOMEM, or -E2BIG (2^32 - 2
 * paths or more). */
int tar_index_finish(struct tar_index *idx);
/* Frees the strings of *m and sets them to NULL. */
void tar_member_done(struct tar_member *m);
