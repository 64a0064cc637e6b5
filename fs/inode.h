/* The inode table: kernel inode numbers <-> nodes of the virtual tree.
 *
 * Inode numbers are stable across remounts: a node's number is a 64-bit
 * hash of its path below the mount (paths.h: for a file below by-digest/,
 * its path under the checkpoint's name, so both are one node), of its salt
 * (fs_node.salt) and of its alias (fs_node.alias; collisions
 * probe to the next free number, in practice never). A node lives while the kernel holds lookups
 * on it (real lookup counts: inode_table_ref() on every entry reply,
 * inode_table_forget() from FUSE forget); the root is never freed.
 *
 * Locking: the table has its own mutex; all functions are thread-safe.
 * Node pointers handed out stay valid while the kernel holds a lookup on
 * the node, which covers every FUSE op addressed to its inode number. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "node.h"

typedef struct inode_table inode_table;

int inode_table_new(inode_table **ret);
inode_table *inode_table_free(inode_table *t);

/* The root node's number (FUSE_ROOT_ID): inode_table_get() finds it. */
#define FS_ROOT_INO 1

/* Finds the node of `ino`; NULL if unknown (a stale number). */
fs_node *inode_table_get(inode_table *t, uint64_t ino);

/* Returns the node for `spec` under `parent`, creating it if needed, and
 * takes one lookup reference on it (the caller is about to send it in an
 * entry reply). Ownership of the strings in `spec` stays with the caller. */
int inode_table_ref(inode_table *t, const fs_node *parent, const fs_node_spec *spec, fs_node **ret);

/* Drops `n` lookups; frees the node when none remain. */
void inode_table_forget(inode_table *t, uint64_t ino, uint64_t n);

/* The inode number a node at `path` with `salt` (fs_node.salt, NULL for
 * none) gets, unless its hash collides with another live node's: readdir
 * uses it for d_ino without creating nodes. */
uint64_t inode_number_for(const char *path, const char *salt);
/* The number child `spec` of `parent` gets (its path by paths.h's
 * fs_child_path(), its own salt or else the parent's), unless its hash
 * collides. Returns 0 or -ENOMEM. */
int inode_number_of_child(const fs_node *parent, const fs_node_spec *spec, uint64_t *ret);

/* The entry names and key[1] of the live nodes of `kind` whose path is
 * dir + "/" + name: the entries of dir the kernel may still cache (it holds
 * a lookup on each). Two NULL-terminated vectors (strv.h); 0 or -ENOMEM. */
int inode_table_children(inode_table *t, const char *dir, fs_kind kind, char ***ret_names, char ***ret_k1);
