/* What a member of a tar archive shows as a file once extracted: the
 * member whose data it has (a hard link shows its target's), its file type
 * and its size.
 *
 * Pure functions on a finished tar_index (tarindex.h): no I/O,
 * thread-safe as the index is. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "tarindex.h"

/* Hard links followed, at most this many in a row (a loop ends there). */
#define TAR_LINK_MAX_HOPS 8

/* The member whose data `m` shows: m itself unless it is a hard link, else
 * its target's (followed through chains of links, bounded). NULL when m is
 * NULL or a link names no member; a link without a target, or the link
 * where the bound stops a chain, is returned itself (it has no data). */
const struct tar_member *tar_link_resolve(const struct tar_index *tar, const struct tar_member *m);

/* The S_IF* file type bits of a member (a hard link is a regular file). */
mode_t tar_member_file_type(const struct tar_member *m);

/* The size a member shows: the data of what it resolves to for regular
 * files and hard links (0 when the link leads nowhere), the length of the
 * target for symlinks, 0 for the rest. */
uint64_t tar_member_shown_size(const struct tar_index *tar, const struct tar_member *m);
