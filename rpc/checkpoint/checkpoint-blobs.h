/* What a checkpoint puts into the content store (checkpoint-blobs.c): the
 * small blobs, the dump's tar, the index, and the image that names it all.
 * Each step records its failure in the run (run_fail) and returns -errno. */
#pragma once

#include "checkpoint-run.h"

/* The runc CheckpointOptions in an Any, as runc and the index want them:
 * with the dump paths (for runc) or without them (for the index, as ctr
 * stores them). ret_any->value.data is malloc'd: the caller frees it. */
int run_options_any(ckpt_run *t, bool with_paths, Google__Protobuf__Any *ret_any);
/* Writes a small message as a blob of `media_type`; *ret_index: its slot. */
int run_write_small_blob(ckpt_run *t, const char *kind, const char *media_type, const ProtobufCMessage *msg,
                         int *ret_index);
/* The dump dir as a tar: by containerd's differ (the registry's default
 * upload mode), else, or when the differ fails, streamed by us. */
int run_upload_dump(ckpt_run *t);
/* The spec and the checkpoint options, as the parts ask. */
int run_write_task_blobs(ckpt_run *t);
int run_write_index(ckpt_run *t);
int run_create_image(ckpt_run *t);
