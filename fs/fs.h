/* The FUSE adapter's shared state and the per-kind behaviour table.
 * fs/ is thin: it turns FUSE requests into calls on store/ and rpc/, and
 * their answers (0 or -errno) into replies; errno is negated once, at the
 * reply. */
#pragma once

#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <sys/types.h>

#include "inode.h"
#include "live.h"
#include "node.h"
#include "rpc.h"

typedef struct ckpt_registry ckpt_registry;

typedef struct fs_ctx {
        struct fuse_session *se;
        inode_table *inodes;
        store_live *live;
        rpc_client *rpc;
        ckpt_registry *ckpt;
        uid_t uid;
        gid_t gid;
        bool allow_other;
        struct timespec mount_time;
} fs_ctx;

/* Kernel cache timeout of entries and attributes that change (lists,
 * task state): short, so changes show within 2 s. */
#define FS_DYNAMIC_TIMEOUT 1.0

/* A directory listing under construction: children specs with owned strings. */
typedef struct fs_dirent {
        fs_kind kind;
        char *name;
        char *key[3];
} fs_dirent;

typedef struct fs_dirents {
        fs_dirent *v;
        size_t n, cap;
} fs_dirents;

int fs_dirents_add(fs_dirents *d, fs_kind kind, const char *name, const char *k0, const char *k1, const char *k2);
void fs_dirents_clear(fs_dirents *d);
/* Child spec for an entry; strings borrowed from `e`. */
fs_node_spec fs_dirent_spec(const fs_dirent *e);

typedef struct fs_kind_ops {
        mode_t mode;           /* S_IFDIR|0555, S_IFREG|0444, ... */
        bool dynamic;          /* short timeouts, direct_io, no kernel caching */
        /* Directories: every child. */
        int (*list)(fs_ctx *ctx, const fs_node *dir, fs_dirents *out);
        /* Directories, optional: one child by name (default: list + search).
         * Fills *out with exactly one entry, or returns -ENOENT. */
        int (*lookup)(fs_ctx *ctx, const fs_node *dir, const char *name, fs_dirents *out);
        /* Small files: the whole content (malloc'd). */
        int (*content)(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len);
        /* Control files: one write() is one command; returns 0 or -errno. */
        int (*write)(fs_ctx *ctx, const fs_node *n, const char *buf, size_t len);
        /* Directories that accept mkdir/rmdir of children. */
        int (*mkdir)(fs_ctx *ctx, const fs_node *dir, const char *name, fs_dirents *out);
        int (*rmdir)(fs_ctx *ctx, const fs_node *dir, const char *name);
} fs_kind_ops;

/* The table, indexed by fs_kind (tree.c). */
extern const fs_kind_ops fs_kinds[FS_KIND_MAX];

extern const struct fuse_lowlevel_ops fs_ops;
