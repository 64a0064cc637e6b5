/* The naming rule of the fixed part of the tree: the entry names of the
 * kinds whose name is fixed, and the path below the mount of a node of the
 * namespace and container part, built from its keys. tree.c lists entries
 * by these names and views-notify.c finds the nodes to invalidate by these
 * paths: one rule for both. Pure, thread-safe. */
#pragma once

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
