/* Control files of push and pull through an OCI registry (rpc/registry):
 * `push` in every checkpoint directory takes "REGISTRY/REPO:TAG
 * [insecure]"; <ns>/pull takes "REGISTRY/REPO:TAG [name=REF] [insecure]".
 * Reading either shows the last outcome. 0 or -errno (EACCES, EIO,
 * ETIMEDOUT, EINVAL for a bad line). */
#pragma once

#include "fs.h"

int ctl_push_write(fs_ctx *ctx, const fs_node *n, const char *buf, size_t len);
int ctl_push_read(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len);
int ctl_pull_write(fs_ctx *ctx, const fs_node *n, const char *buf, size_t len);
int ctl_pull_read(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len);
/* The pull of one command line into namespace ns: what <ns>/pull does, for
 * other control files (import's `pull` verb) to call. */
int ctl_registry_pull(fs_ctx *ctx, const char *ns, const char *buf, size_t len);
