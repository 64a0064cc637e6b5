/* The naming rule of the tree: the entry names of the kinds whose name is
 * fixed, the path below the mount of a node of the namespace and container
 * part, built from its keys, and the path a node's inode number is made of
 * (inode.h). tree.c lists entries by these names and views-notify.c finds
 * the nodes to invalidate by these paths: one rule for both. Pure,
 * thread-safe. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "node.h"

/* The entry name of `kind` in its parent ("containers", "status", ...);
 * NULL for kinds named by a key (a namespace, a container, a checkpoint). */
const char *fs_kind_entry_name(fs_kind kind);

/* The path below the mount ("" for the root) of the node of `kind` with
 * keys ns and k1 (the container id; for FS_CKPT_PREFIX and FS_CKPT the
 * "/"-separated image name or prefix) and k2 (the tag of FS_CONTAINER_CKPT),
 * into buf (size bytes). Returns its length, -ENAMETOOLONG when it does not
 * fit (buf is then ""), -EINVAL for a kind below a checkpoint directory or
 * a key missing. */
int fs_path_of(char *buf, size_t size, fs_kind kind, const char *ns, const char *k1, const char *k2);

/* Whether a node of `kind` below a checkpoint directory is one node under
 * both paths of a checkpoint, <ns>/checkpoints/<name>/ and
 * <ns>/by-digest/<hex>/: the files (so `find -samefile`, tar and rsync -H
 * see one file). Directories are not: the kernel keeps one dentry per
 * directory inode and moves it between the two parents on every lookup
 * (d_splice_alias), so the current directory of a shell would change its
 * path under it; the by-digest directories have inode numbers of their own. */
bool fs_kind_shared(fs_kind kind);

/* The path below the mount that names child `spec` of a node at
 * parent_path (NULL: the child is the root) with fs_node.alias
 * parent_alias, for its inode number, and the child's alias (NULL: none),
 * both malloc'd: parent_path/name, except that a shared kind below a
 * by-digest directory takes the path under the canonical name. */
int fs_child_path(const char *parent_path, const char *parent_alias, const fs_node_spec *spec, char **ret_path,
                  char **ret_alias);
