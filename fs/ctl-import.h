/* <ns>/import: a written line `PATH [name=REF]` imports the OCI layout at
 * PATH (a directory or a tar of one) as a checkpoint image; `pull
 * REGISTRY/REPO:TAG [name=REF] [insecure]` pulls one from a registry (as
 * <ns>/pull does, whose `cat` shows its outcome); reading shows
 * the last result in that namespace. The work is store/core's
 * (oci-import.h: read, walk, check every blob) and rpc/checkpoint's
 * (checkpoint-import.h: write under a lease, create the image). */
#pragma once

#include "fs.h"

/* 0, or -EINVAL (a bad line, an unsafe tar), -ENOENT (no PATH), -EEXIST
 * (the name is taken), -EIO (a damaged or incomplete backup), -errno. */
int ctl_import_write(fs_ctx *ctx, const fs_node *n, const char *buf, size_t len);
int ctl_import_read(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len);
