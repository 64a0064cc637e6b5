/* Pieces of the checkpoint operation shared between its files and unit
 * tests; not part of the rpc API (see checkpoint.h). All pure functions
 * here are thread-safe. */
#pragma once

#include "checkpoint.h"
#include "cleanup.h"
#include "containerd.h"
#include "digest.h"
#include "monotime.h"
#include "names.h"
#include "vocab.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

enum {
        CKPT_PART_TASK = 1 << 0,
        CKPT_PART_RW = 1 << 1,
        CKPT_PART_IMAGE = 1 << 2,
        CKPT_PART_RUNTIME = 1 << 3,
        CKPT_PARTS_ALL = CKPT_PART_TASK | CKPT_PART_RW | CKPT_PART_IMAGE | CKPT_PART_RUNTIME,
};

struct ckpt_request {
        unsigned parts;          /* CKPT_PART_* */
        bool parts_explicit;     /* named on the command line (else: all, skipping what the container lacks) */
        bool exit, tcp, unix_sockets, terminal, file_locks;
        char **empty_ns;         /* n_empty_ns strings */
        size_t n_empty_ns;
        char *cgroups_mode;      /* NULL: runc's default */
        char *parent;            /* pre-dump parent digest, NULL: none */
        char *image_path;        /* raw dump to this dir: no image */
        char *work_path;         /* CRIU work dir (logs), kept */
        char *name;              /* image name; NULL iff image_path */
};

/* ---- the index (checkpoint-index.c) ---- */

typedef struct ckpt_desc {
        const char *media_type;
        const char *digest;
        int64_t size;
        bool platform;                  /* add "platform": {architecture, os} */
        const char *const *annotations; /* n_annotations key/value pairs */
        size_t n_annotations;
} ckpt_desc;

/* GOARCH of this build ("amd64", "arm64", ...). */
const char *ckpt_goarch(void);

/* The OCI image index JSON, as containerd's client writes it: schemaVersion
 * 2, manifests in the given order (field order mediaType, digest, size,
 * annotations, platform), annotations io.containerd.checkpoint.runtime,
 * io.containerd.checkpoint.snapshotter and (if image_name)
 * org.opencontainers.image.ref.name, keys sorted; a trailing newline.
 * *ret_json is malloc'd, NUL-terminated, *ret_len bytes without the NUL. */
int ckpt_index_build(const ckpt_desc *descs, size_t n, const char *runtime, const char *snapshotter,
                     const char *image_name, char **ret_json, size_t *ret_len);

/* ---- the tar of a dump dir (checkpoint-tar.c) ---- */

typedef struct ckpt_tar ckpt_tar;
/* Scans `dir` (regular files and subdirectories; anything else is -EINVAL)
 * and prepares a ustar stream of its content, members named relative to
 * dir, sorted, regular files with their mode and mtime, owner 0:0; sizes
 * >= 8 GiB in base-256. The exact stream size is known at once. */
int ckpt_tar_open(const char *dir, ckpt_tar **ret);
uint64_t ckpt_tar_size(const ckpt_tar *t);
size_t ckpt_tar_members(const ckpt_tar *t);
/* rpc_pull_cb-compatible: fills buf with up to cap bytes; 0 at the end;
 * -EIO if a file changed size under us. */
ssize_t ckpt_tar_read(void *tar, uint8_t *buf, size_t cap);
ckpt_tar *ckpt_tar_free(ckpt_tar *t);
static inline void ckpt_tar_freep(ckpt_tar **t) { if (*t) ckpt_tar_free(*t); }

/* Removes `path` and everything below it; ENOENT is success. */
int ckpt_rm_rf(const char *path);

/* ---- where dumps go (checkpoint-workdir.c) ---- */

/* From the text of /proc/PID/cgroup: the path of the memory cgroup (v1
 * "N:...memory...:PATH", else v2 "0::PATH"). -ENOENT if none. */
int ckpt_memory_cgroup_path(const char *proc_cgroup, char *out, size_t n, bool *ret_v2);
/* From memory.stat: bytes a CRIU dump takes (v1 total_rss + total_shmem,
 * v2 anon + shmem). */
uint64_t ckpt_memstat_dumpable(const char *memory_stat, bool v2);
/* MemAvailable of /proc/meminfo in bytes (0 if absent). */
uint64_t ckpt_meminfo_available(const char *meminfo);
/* The default parent of the dump dir for task `pid`: /dev/shm when its
 * memory (*ret_estimate, 0 if unknown) fits in that tmpfs and twice in
 * MemAvailable with a margin, else /var/tmp. */
const char *ckpt_pick_work_root(pid_t pid, uint64_t *ret_estimate);

/* ---- the registry, as ckpt_take() drives it (checkpoint-registry.c) ---- */

typedef struct ckpt_entry ckpt_entry;
/* Marks (ns, id) running; -EBUSY if it runs already. *ret stays valid
 * until ckpt_registry_end(). */
int ckpt_registry_begin(ckpt_registry *reg, const char *ns, const char *id, ckpt_entry **ret);
/* The current stage (a static string), shown by status and report. */
void ckpt_registry_stage(ckpt_registry *reg, ckpt_entry *e, const char *stage);
/* Ends the run: takes ownership of `report` and `status` (malloc'd, may be
 * NULL on out-of-memory) as the last result. */
void ckpt_registry_end(ckpt_registry *reg, ckpt_entry *e, char *report, char *status);
int ckpt_registry_upload_mode(ckpt_registry *reg);
/* The parent directory for private dump dirs set by the user (owned by
 * the registry); NULL: choose per checkpoint (ckpt_pick_work_root). */
const char *ckpt_registry_work_dir(ckpt_registry *reg);
