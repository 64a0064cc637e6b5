/* Control points of a container: the `checkpoint` file, mkdir/rmdir under
 * `checkpoints/`, and the checkpoint lines of `status`. They hand the work
 * to rpc/checkpoint.h and report its outcome; 0 or -errno. */
#pragma once

#include "fs.h"

int ctl_checkpoint_write(fs_ctx *ctx, const fs_node *n, const char *buf, size_t len);
int ctl_checkpoint_read(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len);
int ctl_checkpoint_mkdir(fs_ctx *ctx, const fs_node *dir, const char *name, fs_dirents *out);
int ctl_checkpoint_rmdir(fs_ctx *ctx, const fs_node *dir, const char *name);

/* fs/ctl-restore.c: the `restore` file of a checkpoint dir; the work is
 * rpc/restore's restore_take(). */
int ctl_restore_write(fs_ctx *ctx, const fs_node *n, const char *buf, size_t len);
int ctl_restore_read(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len);

/* Takes ownership of `text` (the task status) and returns it with the
 * checkpoint lines appended. */
int ctl_append_status(fs_ctx *ctx, const fs_node *n, char *text, size_t len, char **ret, size_t *ret_len);
