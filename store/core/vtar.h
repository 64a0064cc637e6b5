/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * vtar: a tar archive that exists only as a table of segments, served by
 * offset: the header blocks of each member are generated in memory, the
 * data of a member is read from its own store_reader (a slice of a blob, a
 * member of another tar...) when that range of the archive is read. Nothing
 * is copied to disk and the archive is never held whole in memory; its size
 * is exact before the first byte is read.
 *
 * Format: POSIX ustar headers (uid/gid 0, no user or group names, devices
 * and links not supported); a path over 100 bytes goes into prefix + name
 * when it splits at a '/', else a pax 'x' header carries it; a size at or
 * above 8 GiB goes into a pax header as well. Mtimes are whole seconds.
 * Members come in the order added; the archive ends with two zero blocks
 * (no padding to a 10 KiB record, as Go's archive/tar writes it).
 *
 * Ownership: a vtar is the caller's until vtar_finish() succeeds; the
 * reader it returns then owns everything (the member readers included) and
 * frees it with store_reader_free(). Readers given to vtar_add_file() are
 * the vtar's on success only.
 *
 * Threads: building is single-threaded; the finished reader is immutable
 * and may be read from several threads when the member readers allow it
 * (store_reader's rule). Errors: 0 or -errno.
 */

#include <stddef.h>
#include <stdint.h>

#include "reader.h"

typedef struct vtar vtar;

int vtar_new(vtar **ret);
void vtar_free(vtar *t);

/* A directory member "path/" (a trailing '/' is added when missing).
 * -EINVAL: empty path, a NUL-free path over 4095 bytes, or a finished vtar. */
int vtar_add_dir(vtar *t, const char *path, uint32_t mode, int64_t mtime);
/* A regular member whose data is all of `data` (data->size bytes). */
int vtar_add_file(vtar *t, const char *path, uint32_t mode, int64_t mtime, struct store_reader *data);
/* A regular member holding a copy of buf[0, len). */
int vtar_add_bytes(vtar *t, const char *path, uint32_t mode, int64_t mtime, const void *buf, size_t len);

/* The archive's bytes so far, end blocks included (what vtar_finish() would
 * serve). */
uint64_t vtar_size(const vtar *t);

/* Ends the archive and turns it into a reader (fd -1) that owns t. On
 * failure t is still the caller's. */
int vtar_finish(vtar *t, struct store_reader **ret);

static inline void vtar_freep(vtar **t) {
        if (*t)
                vtar_free(*t);
}
#define _cleanup_vtar_ __attribute__((cleanup(vtar_freep)))
