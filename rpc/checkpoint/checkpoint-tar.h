/* The tar of a dump dir (checkpoint-tar.c): a ustar writer as a pull
 * stream. One thread uses a ckpt_tar at a time. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct ckpt_tar ckpt_tar;
/* Scans `dir` (regular files and subdirectories; anything else is -EINVAL)
 * and prepares a ustar stream of its content, members named relative to
 * dir, sorted, regular files with their mode and mtime, owner 0:0; sizes
 * >= 8 GiB in base-256. The exact stream size is known at once. */
int ckpt_tar_open(const char *dir, ckpt_tar **ret);
uint64_t ckpt_tar_size(const ckpt_tar *t);
size_t ckpt_tar_members(const ckpt_tar *t);
/* rpc_pull_cb-compatible: fills buf with up to cap bytes; 0 at the end;
 * -EIO if a file changed size under us. */
ssize_t ckpt_tar_read(void *tar, uint8_t *buf, size_t cap);
ckpt_tar *ckpt_tar_free(ckpt_tar *t);
static inline void ckpt_tar_freep(ckpt_tar **t) { if (*t) ckpt_tar_free(*t); }
