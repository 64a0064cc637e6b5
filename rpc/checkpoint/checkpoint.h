/* Taking checkpoints of containers: containerd's task.Checkpoint and
 * `ctr containers checkpoint` as one rpc/ operation, with a shorter frozen
 * window than containerd's client.
 *
 * Workflow of ckpt_take() (all under one containerd lease, deleted at the
 * end so that nothing written midway survives a failure):
 *   prepare  Containers.Get, Tasks.Get, Images.Get (name free? base image),
 *            lease, private work dir, parent view of the rw snapshot, and
 *            the small blobs (spec, checkpoint and runtime options)
 *   pause    Tasks.Pause unless the task is paused already
 *   dump     Tasks.Checkpoint with runc's image_path = the private work dir
 *   rw       Diff.Diff of the rw snapshot against its parent
 *   resume   Tasks.Resume: always, on every path, unless `exit` dumped it
 *   upload   the dump dir as a tar into the content store: by containerd's
 *            own differ (Diff.Diff of an empty dir against the dump dir, an
 *            uncompressed layer: containerd's checkpoint tar, written
 *            in-process), else streamed by us (ustar, Content.Write)
 *   index    the OCI image index (runtime, snapshotter, image name
 *            annotations; gc.ref.content.N labels)
 *   image    Images.Create NAME -> index, label containerd.io/checkpoint=true
 * The task is frozen only from pause to resume (CRIU dump + rw diff); the
 * tar of the dump reaches the content store while it runs again.
 *
 * Errors are -errno: -EINVAL bad request or a part the container lacks,
 * -EBUSY a checkpoint of this container runs already (or its task is
 * pausing), -ENOENT no such container, -ESRCH no running task to dump,
 * -EEXIST an image of that name exists, -EOPNOTSUPP a runtime other than
 * io.containerd.runc.*, -ENOSPC no room for the dump (before the pause),
 * -EDEADLK a process of the task is stopped and the host freezes with the
 * cgroup v1 freezer, where CRIU would hang (checkpoint-stopped.h),
 * -EIO containerd/runc/CRIU failed (also containerd lost after the
 * prepare stage), or the rpc layer's -ETIMEDOUT/-ENOTCONN when containerd
 * is away from the start. The message for the user is
 * in the registry's last report.
 *
 * Threads: ckpt_request is immutable after parse (share it read-only);
 * ckpt_registry is thread-safe; ckpt_take() blocks the calling thread for
 * the whole checkpoint, and every containerd call in it has a deadline. */
#pragma once

#include "digest.h"
#include "rpc.h"

#include <stdbool.h>
#include <stddef.h>

/* Longest command accepted by ckpt_request_parse(). */
#define CKPT_COMMAND_MAX 4096

/* ---- requests -------------------------------------------------------- */

typedef struct ckpt_request ckpt_request;

/* Parses one control-file write: whitespace-separated words, the empty line
 * meaning the defaults (all parts, default name). `line` is `len` bytes and
 * need not be NUL-terminated; a NUL inside, a word not in the grammar, a bad
 * value or a command longer than CKPT_COMMAND_MAX give -EINVAL.
 *   parts:   task rw image runtime (default: all four)
 *   options: exit tcp unix-sockets terminal file-locks empty-ns=NS[,NS]
 *            cgroups=soft|full|strict parent=DIGEST image-path=DIR
 *            work-path=DIR name=REF keep=N keep-all-names
 * image-path makes a raw dump to DIR (no image, no other part); the CRIU
 * options need the task part. Passed on as containerd defines them, though
 * containerd 1.6 drops two on the way: parent (Tasks.Checkpoint's
 * parent_checkpoint) and cgroups (the runc shim does not forward it).
 * Unlike `ctr c checkpoint`, file-locks is off unless asked. `container_id` is used for the default name
 * containerd.io/checkpoint/<id>:<MM-DD-YYYY-HH:MM:SS> (local time, now).
 * On success *ret owns the request; on -EINVAL *ret_msg (if not NULL) gets
 * a malloc'd sentence saying what is wrong. -ENOMEM possible. */
int ckpt_request_parse(const char *line, size_t len, const char *container_id, ckpt_request **ret,
                       char **ret_msg);

/* The default request named containerd.io/checkpoint/<id>:<tag> (mkdir
 * checkpoints/<tag>). -EINVAL (+ *ret_msg) if `tag` is not a valid
 * reference tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}). */
int ckpt_request_for_tag(const char *container_id, const char *tag, ckpt_request **ret, char **ret_msg);

ckpt_request *ckpt_request_free(ckpt_request *r);   /* NULL-safe; returns NULL */
static inline void ckpt_request_freep(ckpt_request **r) { if (*r) ckpt_request_free(*r); }

/* ---- the registry: who runs, in which stage, last results ------------ */

typedef struct ckpt_registry ckpt_registry;

/* A new, empty registry (one per process). Private dump directories go
 * under the directory set with ckpt_registry_set_work_dir() if any; else, per checkpoint,
 * under /dev/shm when the task's memory fits there (and twice in
 * MemAvailable), since the task stays frozen while CRIU writes; else under
 * /var/tmp. runc's shim writes there, so it must see that path (same mount
 * namespace). */
int ckpt_registry_new(ckpt_registry **ret);
/* Sets the parent of the private dump directories (absolute path), for
 * all checkpoints; call it before any ckpt_take() runs. */
int ckpt_registry_set_work_dir(ckpt_registry *reg, const char *dir);
/* How the dump reaches the content store: through containerd's differ
 * (CKPT_UPLOAD_DIFF, the default; falls back to streaming), or streamed by
 * us through Content.Write (CKPT_UPLOAD_STREAM). Call it before any
 * ckpt_take() runs. -EINVAL for another value. */
enum { CKPT_UPLOAD_DIFF, CKPT_UPLOAD_STREAM };
int ckpt_registry_set_upload_mode(ckpt_registry *reg, int mode);
/* The journal directory of this containerd (ckpt_journal_dir() in
 * checkpoint-journal.h), absolute; NULL: none. With one, every checkpoint
 * is journaled (a death at any point is finished by the guardian or the
 * next start) and takes the container's lock there, so two processes on
 * one containerd never checkpoint a container at once (-EBUSY). */
int ckpt_registry_set_journal_dir(ckpt_registry *reg, const char *dir);
/* containerd's content store directory, for the room check before a
 * dump; NULL: not checked. */
int ckpt_registry_set_content_root(ckpt_registry *reg, const char *dir);
/* Retention for every checkpoint whose command names no keep=N: after it,
 * only the newest `keep` checkpoints ckptfs made of that container stay
 * (checkpoint-retention.h); 0 (the default): all stay. -EINVAL above
 * CKPT_KEEP_MAX (1000). */
int ckpt_registry_set_keep(ckpt_registry *reg, unsigned keep);
/* For tests only: "STAGE[+MS]" (a stage name of the report: prepare,
 * pause, dump, rw, resume, upload, index, image, cleanup) makes the process
 * SIGKILL itself MS ms (default 0) after a checkpoint enters STAGE, to
 * prove the recovery. -EINVAL for another spec. */
int ckpt_registry_set_fault(ckpt_registry *reg, const char *spec);
/* Frees the registry; no ckpt_take() may be running on it. Returns NULL. */
ckpt_registry *ckpt_registry_free(ckpt_registry *reg);

/* Takes the checkpoint described by `req` of container `id` in namespace
 * `ns` (see the workflow above). Blocks until the image exists (or the raw
 * dump is done). -EBUSY at once if one runs for (ns, id) in this registry.
 * On success *ret_name (if not NULL) is a malloc'd copy of the image name
 * (NULL for a raw image-path dump). The outcome becomes the last report,
 * and one line of the log (store/base/log.h): info for a checkpoint made,
 * error for one that failed, and error again for a task left paused. */
int ckpt_take(ckpt_registry *reg, rpc_client *c, const char *ns, const char *id, const ckpt_request *req,
              char **ret_name);

/* Text for `cat checkpoint`: the last result for (ns, id), "key: value"
 * lines. Success: image name, index digest, size, each blob, duration of
 * each stage and of the frozen window. Failure: the stage, the errno name
 * and containerd's/CRIU's message in plain words, and the task's state
 * afterwards. While one runs, the report says so. -ENOENT if none yet. */
int ckpt_registry_last_report(ckpt_registry *reg, const char *ns, const char *id, char **ret_text);

/* Lines for `status`: "checkpoint: running (stage: dump)\n" while one runs,
 * and "last_checkpoint: ok <name>\n" or "last_checkpoint: failed (<stage>):
 * <message>\n" after one; "" if nothing. *ret_text is malloc'd. */
int ckpt_registry_status_lines(ckpt_registry *reg, const char *ns, const char *id, char **ret_text);

/* Records a failure that happened before ckpt_take() (a command that does
 * not parse, a bad tag) as the last result of (ns, id), so that `cat
 * checkpoint` and status explain the EINVAL. -ENOMEM possible. */
int ckpt_registry_note_error(ckpt_registry *reg, const char *ns, const char *id, const char *msg);
/* The index digest of the image the last checkpoint of (ns, id) made, into
 * ret_digest: -ENOENT when it made none (it failed, dumped to a directory)
 * or one runs now. */
int ckpt_registry_last_index(ckpt_registry *reg, const char *ns, const char *id, char ret_digest[DIGEST_MAX]);

/* rmdir checkpoints/<tag>: Images.Delete of `name` (containerd's garbage
 * collector then frees the blobs). -ENOENT if absent. */
int ckpt_delete_image(rpc_client *c, const char *ns, const char *name, rpc_error *err);
