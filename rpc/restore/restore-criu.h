/* CRIU's side of a restore: a private work directory for runc restore
 * (CRIU writes restore.log there, which would go with the task's bundle
 * otherwise), the task options that point runc at it, and CRIU's own
 * words from that log when the restore fails. Internal to rpc/restore. */
#pragma once

#include "containerd.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

/* A new private directory /var/tmp/ckptfs-restore-XXXXXX into ret. */
int rcriu_workdir_make(char ret[PATH_MAX]);
/* Removes it and what CRIU left in it; "" is a no-op. */
void rcriu_workdir_remove(const char *dir);
/* The same on a detached thread of its own (freeing a dump's extents
 * takes ~0.3 s per GiB: not on the restore's path); in this thread when
 * none can be started. A daemon that exits meanwhile may leave the rest. */
void rcriu_workdir_remove_async(const char *dir);
/* The task options of a restore: the container's runtime options (an Any
 * of containerd.runc.v1.Options, or NULL: empty ones; the shim uses those
 * when a task has none) with criu_work_path = work and, unless NULL,
 * criu_image_path = image (a dump unpacked by us: containerd then unpacks
 * none of its own). *ret_any points into
 * *ret_buf (malloc'd, the caller frees it). -EOPNOTSUPP when the runtime
 * options are of another type, -EBADMSG when they do not decode. */
int rcriu_task_options(const Google__Protobuf__Any *runtime_options, const char *work, const char *image,
                       Google__Protobuf__Any *ret_any, uint8_t **ret_buf);
/* CRIU's error lines of a restore log (text[0..len)): the first `max`
 * (the cause; later ones follow from it), without timestamp and source
 * location, joined by "; ", into buf (truncated to size). Returns how many
 * lines it took; 0: none. Pure. */
int rcriu_log_errors(const char *text, size_t len, size_t max, char *buf, size_t size);
/* The same (max 3) for the first MiB of restore.log in dir `work`; 0
 * when it is absent. */
int rcriu_workdir_errors(const char *work, char *buf, size_t size);
