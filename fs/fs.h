/* The FUSE adapter's shared state and the per-kind behaviour table.
 * fs/ is thin: it turns FUSE requests into calls on store/ and rpc/, and
 * their answers (0 or -errno) into replies; errno is negated once, at the
 * reply. */
#pragma once

#include <fuse_lowlevel.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/types.h>

#include "inode.h"
#include "live.h"
#include "node.h"
#include "rpc.h"

typedef struct ckpt_registry ckpt_registry;
struct restore_registry;
struct store_db;
struct store_blobs;
struct store_catalog;
struct store_views;
struct store_reader;
struct registry_reports;

typedef struct fs_ctx {
        struct fuse_session *se;
        inode_table *inodes;
        store_live *live;
        rpc_client *rpc;
        ckpt_registry *ckpt;
        struct restore_registry *restore;   /* the `restore` files' last results */
        /* Checkpoint images: the sqlite cache, blob reader, catalog of
         * images, derived views. NULL when not set up. */
        struct store_db *db;
        struct store_blobs *blobs;
        struct store_catalog *catalog;
        struct store_views *views;
        /* Passthrough bookkeeping; NULL when the kernel or libfuse has none
         * (every open is then cached or direct). Set in init. */
        struct fs_passthrough *pt;
        bool no_passthrough;   /* --no-passthrough */
        /* The kernel opens and releases directories without asking us
         * (FUSE_CAP_NO_OPENDIR_SUPPORT with AUTO_INVAL_DATA, set in init):
         * no OPENDIR/RELEASEDIR round trip per directory, every listing is
         * kept in the kernel's cache (as with cache_readdir + keep_cache)
         * and READDIR comes without a handle. Dynamic directories then
         * report mtime "now" (unless their kind's attr hook sets the times:
         * a salted checkpoint dir, whose listing is fixed): the kernel
         * drops a cached listing when the refetched attributes show
         * another mtime, so theirs live at most FS_DYNAMIC_TIMEOUT. A
         * listing longer than one READDIR reply (the caller's getdents
         * buffer: 32 KiB for glibc) is taken again for each: a dynamic directory changing
         * meanwhile may show an entry twice or miss one in that pass. */
        bool no_opendir;
        uid_t uid;
        gid_t gid;
        bool allow_other;
        struct timespec mount_time;
        /* Absolute, for the log line of the mount and the path: lines of
         * the control file; the cache file for the log line (borrowed; NULL:
         * not said). */
        const char *mountpoint;
        const char *cache_path;
        /* push and pull through a registry (fs/ctl-registry.c): their last
         * reports, and the docker-style config.json of --registry-auth
         * (absolute; NULL: anonymous). */
        struct registry_reports *reports;
        const char *registry_auth;
} fs_ctx;

/* Kernel cache timeout of entries and attributes that change (lists,
 * task state): short, so changes show within 2 s. */
#define FS_DYNAMIC_TIMEOUT 1.0

/* Hands out s (NUL-terminated; ownership passes) as a file's content, for
 * the content hooks of fs_kind_ops. s NULL (a failed allocation): -ENOMEM. */
static inline int fs_content_string(char *s, char **ret, size_t *ret_len) {
        if (!s)
                return -ENOMEM;
        *ret = s;
        *ret_len = strlen(s);
        return 0;
}

/* A directory listing under construction: children specs with owned strings. */
typedef struct fs_dirent {
        fs_kind kind;
        char *name;
        char *key[3];
        char *salt;    /* fs_node.salt of the child; NULL: the directory's */
        char *alias;   /* fs_node.alias of the child; NULL: by its parent's */
} fs_dirent;

typedef struct fs_dirents {
        fs_dirent *v;
        size_t n, cap;
} fs_dirents;

int fs_dirents_add(fs_dirents *d, fs_kind kind, const char *name, const char *k0, const char *k1, const char *k2);
/* The same with the child's salt (fs_node.salt). */
int fs_dirents_add_salted(fs_dirents *d, fs_kind kind, const char *name, const char *salt, const char *k0,
                          const char *k1, const char *k2);
/* Sets the child's alias (fs_node.alias; a copy): a by-digest entry. */
int fs_dirent_set_alias(fs_dirent *e, const char *alias);
void fs_dirents_clear(fs_dirents *d);
/* The entry named `name`, or NULL. */
fs_dirent *fs_dirents_find(const fs_dirents *d, const char *name);
/* Child spec for an entry; strings borrowed from `e`. */
fs_node_spec fs_dirent_spec(const fs_dirent *e);

/* Extended attributes of a node: owned name/value pairs (fs/dirents.c). */
typedef struct fs_xattr {
        char *name;
        char *value;
        size_t len;
} fs_xattr;
typedef struct fs_xattrs {
        fs_xattr *v;
        size_t n;
} fs_xattrs;
int fs_xattrs_add(fs_xattrs *x, const char *name, const char *value, size_t len);
void fs_xattrs_clear(fs_xattrs *x);

typedef struct fs_kind_ops {
        mode_t mode;           /* S_IFDIR|0555, S_IFREG|0444, ... */
        /* Short timeouts, direct_io; directories: listed at every open, or
         * cached at most the timeout (fs_ctx.no_opendir). */
        bool dynamic;
        /* Control files: one open writer at a time. The kernel holds the
         * inode lock across a FUSE write, so a second writer would queue
         * silently behind a running checkpoint; its open gets EBUSY instead. */
        bool one_writer;
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
        /* Optional: adjusts the default attributes (mode, size, times,
         * owner; st_blocks for a sparse file, else they follow the size)
         * of a node whose kind does not fix them. */
        int (*attr)(fs_ctx *ctx, const fs_node *n, struct stat *st);
        /* Optional, regular files too big to snapshot: a reader served by
         * offset (owned by the caller). *ret_digest: the digest of the
         * blob it reads whole, NULL for other data (blob-check.h says how
         * each is checked). */
        int (*open_reader)(fs_ctx *ctx, const fs_node *n, struct store_reader **ret, char **ret_digest);
        /* Symlinks: the target (malloc'd). */
        int (*readlink)(fs_ctx *ctx, const fs_node *n, char **ret);
        /* Optional: extended attributes. */
        int (*xattrs)(fs_ctx *ctx, const fs_node *n, fs_xattrs *out);
        /* Optional, with open_reader: SEEK_DATA (hole false) or SEEK_HOLE
         * from off < size on the reader it made; -ENXIO when no data
         * follows. Without it lseek answers as for a file without holes. */
        int (*seek)(const struct store_reader *rd, uint64_t off, bool hole, uint64_t *ret_off);
} fs_kind_ops;

/* The table, indexed by fs_kind (tree.c). */
extern const fs_kind_ops fs_kinds[FS_KIND_MAX];

extern const struct fuse_lowlevel_ops fs_ops;

/* fs/xattr.c: getxattr/listxattr replies for a node. */
void fs_reply_getxattr(fuse_req_t req, fs_ctx *ctx, const fs_node *n, const char *name, size_t size);
void fs_reply_listxattr(fuse_req_t req, fs_ctx *ctx, const fs_node *n, size_t size);
