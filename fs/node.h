/* Nodes of the virtual tree and what each kind of node can do.
 *
 * A node is addressed by its kind and up to three keys (namespace,
 * container id, and a kind-specific third key, e.g. a checkpoint tag or a
 * path inside a checkpoint). Its path below the mount names it for the
 * inode number. The behaviour of each kind lives in a table of fs_kind_ops
 * (tree.c and friends); fs/ops.c only dispatches. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

typedef enum fs_kind {
        FS_ROOT,
        FS_NAMESPACE,          /* <ns>/ */
        FS_CONTAINERS,         /* <ns>/containers/ */
        FS_CONTAINER,          /* <ns>/containers/<id>/ */
        FS_STATUS,             /* <ns>/containers/<id>/status */
        FS_CONTAINER_JSON,     /* <ns>/containers/<id>/container.json */
        FS_CTL_CHECKPOINT,     /* <ns>/containers/<id>/checkpoint */
        FS_CONTAINER_CKPTS,    /* <ns>/containers/<id>/checkpoints/ */
        FS_CONTAINER_CKPT,     /* <ns>/containers/<id>/checkpoints/<tag>/ */
        FS_KIND_MAX,
} fs_kind;

typedef struct fs_node_spec {
        fs_kind kind;
        const char *name;      /* the entry name in its parent */
        const char *key[3];    /* kind-specific keys, NULL where unused */
} fs_node_spec;

typedef struct fs_node {
        uint64_t ino;
        uint64_t nlookup;      /* guarded by the inode table's mutex */
        fs_kind kind;
        char *path;            /* below the mount, "" for the root */
        char *name;
        char *key[3];
} fs_node;

#define NODE_NS(n) ((n)->key[0])
#define NODE_ID(n) ((n)->key[1])
#define NODE_KEY3(n) ((n)->key[2])
