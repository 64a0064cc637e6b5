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
        FS_PIDS,               /* <ns>/containers/<id>/pids */
        FS_METRICS_JSON,       /* <ns>/containers/<id>/metrics.json */
        FS_CTL_CHECKPOINT,     /* <ns>/containers/<id>/checkpoint */
        FS_CONTAINER_CKPTS,    /* <ns>/containers/<id>/checkpoints/ */
        FS_CONTAINER_CKPT,     /* <ns>/containers/<id>/checkpoints/<tag>/: a checkpoint dir */
        FS_CTL_PULL,           /* <ns>/pull: fs/ctl-registry.c */
        /* Checkpoint images (fs/views*.c). Below a checkpoint dir, keys are
         * (ns, image name, kind-specific key). */
        FS_NS_CKPTS,           /* <ns>/checkpoints/ */
        FS_BY_DIGEST,          /* <ns>/by-digest/: its entries are FS_CKPT dirs named by the index's hex */
        FS_CTL_IMPORT,         /* <ns>/import: the control file importing an OCI layout */
        FS_CKPT_PREFIX,        /* <ns>/checkpoints/<a>/<b>/: key1 = "a/b" */
        FS_CKPT,               /* <ns>/checkpoints/<name...:tag>/: key1 = image name */
        FS_CK_BLOB,            /* a whole blob (index.json, layout blob, manifests entry): key2 = digest */
        FS_CK_LAYOUT,          /* layout/ */
        FS_CK_OCI_LAYOUT,      /* layout/oci-layout */
        FS_CK_LAYOUT_INDEX,    /* layout/index.json */
        FS_CK_LAYOUT_BLOBS,    /* layout/blobs/ */
        FS_CK_LAYOUT_SHA256,   /* layout/blobs/sha256/ */
        FS_CK_MANIFESTS,       /* manifests/ */
        FS_CK_CACHEDIR_TAG,    /* CACHEDIR.TAG of manifests/, task/, rw/ */
        FS_CK_CONFIG_JSON,     /* config.json */
        FS_CK_OPTIONS_JSON,    /* options.json */
        FS_CK_TAR_DIR,         /* task/, rw/ and their subdirs: key2 = "<digest>/<path>" */
        FS_CK_TAR_FILE,        /* a regular member (or hard link): key2 as above */
        FS_CK_TAR_SYMLINK,
        FS_CK_TAR_SPECIAL,     /* devices, fifos */
        FS_CK_DECODED,         /* decoded/: key2 = the CRIU tar's digest */
        FS_CK_DECODED_FILE,    /* decoded/<image>.json: key2 = "<digest>/<member>" */
        FS_CK_PROC,            /* proc/: key2 = the CRIU tar's digest */
        FS_CK_PROC_PID,        /* proc/<pid>/: key2 = "<digest>/<pid>" */
        FS_CK_PROC_CORE,       /* proc/<pid>/core: key2 = "<digest>/<pid>/core" */
        FS_CK_PROC_FILE,       /* proc/{ps,sockets,mounts}[.json], <pid>/{comm,status,fds[.json]}: key2 "<digest>/<f>" */
        FS_CK_PROC_MEMTEXT,    /* proc/<pid>/cmdline, maps: key2 = "<digest>/<pid>/<file>" */
        FS_CK_PROC_SECRET,     /* proc/<pid>/environ (0400), key2 as above */
        FS_CK_PROC_MEM,        /* proc/<pid>/mem (0400, sparse), key2 as above */
        FS_CK_PROC_VMAS,       /* proc/<pid>/vmas/: key2 = "<digest>/<pid>/vmas" */
        FS_CK_PROC_VMA,        /* proc/<pid>/vmas/<start>-<end> (0400): key2 = "<digest>/<pid>/vmas/<name>" */
        FS_CK_CRI_TAR,         /* cri.tar: the checkpoint as containerd's CRI plugin archives it */
        FS_CK_SUMMARY,         /* summary of a checkpoint dir (keys as FS_CKPT) */
        FS_CK_INSPECT_JSON,    /* inspect.json of a checkpoint dir with a CRIU dump: key2 = the CRIU tar's digest */
        FS_CK_CTL_RESTORE,     /* restore in a checkpoint dir (both trees): keys (ns, image name) */
        FS_CTL_PUSH,           /* push in a checkpoint dir (fs/ctl-registry.c): keys (ns, image name) */
        FS_KIND_MAX,
} fs_kind;

typedef struct fs_node_spec {
        fs_kind kind;
        const char *name;      /* the entry name in its parent */
        const char *key[3];    /* kind-specific keys, NULL where unused */
        const char *salt;      /* see fs_node.salt; NULL: the parent's */
        const char *alias;     /* see fs_node.alias; NULL: the parent's rule */
} fs_node_spec;

typedef struct fs_node {
        uint64_t ino;
        uint64_t nlookup;      /* guarded by the inode table's mutex */
        int writers;           /* open write handles (atomic): control files take one */
        fs_kind kind;
        char *path;            /* below the mount, "" for the root */
        char *name;
        char *key[3];
        /* What the inode numbers of this subtree depend on besides the path
         * (a checkpoint dir: its target digest, so that a re-pointed name
         * gets new inodes and no stale kernel cache); NULL: the path only. */
        char *salt;
        /* A directory below <ns>/by-digest/<hex>/ (and that dir itself): the
         * path of the same directory under the checkpoint's canonical name.
         * Files below take their path from it, so a file has one node (one
         * inode number) under both names; directories keep their own
         * (paths.h says why). NULL elsewhere. */
        char *alias;
} fs_node;

#define NODE_NS(n) ((n)->key[0])
#define NODE_ID(n) ((n)->key[1])
#define NODE_KEY3(n) ((n)->key[2])
