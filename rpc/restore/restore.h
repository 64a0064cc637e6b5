/* Restoring checkpoints: `ctr containers restore --live --rw` as one rpc/
 * operation, with containerd 1.6's client semantics (client.Restore with
 * WithRestoreImage, WithRestoreSpec, WithRestoreRuntime, WithRestoreRW,
 * then NewTask with WithTaskCheckpoint and Task.Start).
 *
 * Workflow of restore_take() (every call has a deadline):
 *   prepare   Images.Get of the checkpoint, its index, spec (config blob)
 *             and runtime options; Containers.Get (the id must be free);
 *             Images.Get of the base image, its manifest and config: the
 *             chain id of its layers (restore_chain_id)
 *   snapshot  a lease; Snapshots.Prepare key=id on the chain id
 *   rw        Diff.Apply of the checkpoint's rw layer onto the snapshot
 *   container Containers.Create (spec, runtime + options, image, snapshotter)
 *   task      runc's: a private work dir under /var/tmp, the CRIU tar
 *             unpacked there from the content store's file
 *             (restore-untar.h), runc options naming both
 *             (restore-criu.h); Tasks.Create from the CRIU tar's
 *             descriptor on the snapshot's mounts
 *   start     Tasks.Start (runc restore: CRIU runs here)
 * Then the lease goes (the container holds its snapshot) and the work dir
 * is removed on a thread of its own. A failure undoes what was made, in
 * reverse (task, container, snapshot, lease): nothing is left behind. Not
 * crash-safe: a process killed midway leaves what it made (the lease
 * expires after 24 h).
 *
 * Errors are -errno: -EINVAL a bad request, or a checkpoint that lacks a
 * part (index annotations, spec, CRIU dump); -EEXIST a container (or
 * snapshot) with the id exists; -ENOENT the checkpoint or its base image
 * is absent (the message names it); -EIO containerd, runc or CRIU failed
 * (their messages, CRIU's first error lines from its log); -EBUSY a
 * restore of this checkpoint runs already (no report then); the rpc
 * layer's -ETIMEDOUT / -ENOTCONN. The message for the user is in the
 * registry's last report.
 *
 * Threads: restore_registry is thread-safe; restore_take() blocks its
 * caller for the whole restore. */
#pragma once

#include "digest.h"
#include "rpc.h"

#include <stdbool.h>
#include <stddef.h>

/* Longest line restore_request_parse() accepts. */
#define RESTORE_COMMAND_MAX 4096
/* Longest container id containerd accepts (identifiers.Validate). */
#define RESTORE_ID_MAX 76

typedef struct restore_request {
        char *id;       /* NULL: the checkpointed container's id */
        bool no_start;  /* the container only: no task */
        bool no_rw;     /* without the rw layer */
} restore_request;

/* Parses one write to `restore`: `[id=ID] [live|no-start] [no-rw]`,
 * whitespace-separated, each word at most once, live and no-start not
 * both; the empty line means the defaults (live: a task from the dump,
 * started; the rw layer applied). `line` is `len` bytes, not necessarily
 * NUL-terminated; a NUL, an unknown word, an id that containerd would
 * refuse ([A-Za-z0-9]+([._-][A-Za-z0-9]+)*, at most RESTORE_ID_MAX) or a
 * line over RESTORE_COMMAND_MAX give -EINVAL and *ret_msg (if not NULL) a
 * malloc'd sentence. On success *ret is owned by the caller. */
int restore_request_parse(const char *line, size_t len, restore_request **ret, char **ret_msg);
restore_request *restore_request_free(restore_request *r);   /* NULL-safe; returns NULL */
static inline void restore_request_freep(restore_request **r) { if (*r) restore_request_free(*r); }
/* Whether s is an identifier containerd accepts as a container id. */
bool restore_id_valid(const char *s);

/* The chain id of an image's layers from their diff ids (the OCI image
 * spec: ChainID(L0) = DiffID(L0), ChainID(Ln) = sha256 of
 * "ChainID(Ln-1) DiffID(Ln)"), into ret. -EINVAL for n == 0 or a diff id
 * that is not a valid digest. */
int restore_chain_id(const char *const *diff_ids, size_t n, char ret[DIGEST_MAX]);

/* ---- the registry: last results per checkpoint ------------------------ */

typedef struct restore_registry restore_registry;

int restore_registry_new(restore_registry **ret);
restore_registry *restore_registry_free(restore_registry *reg);   /* none may run; returns NULL */

/* containerd's content store directory (its content plugin's root): a
 * CRIU tar whose blob file is readable there is unpacked by us into the
 * restore's private work dir, removed afterwards; otherwise containerd
 * unpacks it, into a temporary directory it never removes
 * (containerd#10166). NULL: not known. Call it before any restore. */
int restore_registry_set_content_root(restore_registry *reg, const char *dir);

/* Restores checkpoint image `image` of namespace `ns` as `req` says (the
 * workflow above). Blocks until the task runs (or the container exists,
 * with no-start). On success *ret_id (if not NULL) is the new container's
 * id, malloc'd. The outcome becomes the last report of (ns, image) and one
 * log line. */
int restore_take(restore_registry *reg, rpc_client *c, const char *ns, const char *image, const restore_request *req,
                 char **ret_id);

/* Text for `cat restore`: the last result for (ns, image), "key: value"
 * lines: result, container id, pid, the time of each stage; or the failed
 * stage, the errno name and the message. "result: running" while one
 * runs; "" when none yet (never an error for that). */
int restore_registry_last_report(restore_registry *reg, const char *ns, const char *image, char **ret_text);
/* Records a failure before restore_take() (a line that does not parse). */
int restore_registry_note_error(restore_registry *reg, const char *ns, const char *image, int error,
                                const char *msg);
