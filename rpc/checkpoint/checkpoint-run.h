/* The state of one ckpt_take() and the steps that share it, split over
 * checkpoint-take.c (the workflow and the frozen window),
 * checkpoint-blobs.c (what goes to the content store) and
 * checkpoint-report.c (what the user reads). Private to those files; one
 * thread owns a ckpt_run. */
#pragma once

#include "checkpoint-internal.h"

#include <limits.h>
#include <time.h>

/* Deadlines (ms). A dump is bounded by memory size; these are generous
 * upper bounds, not expectations. */
#define T_SHORT 15000
#define T_PAUSE 30000
#define T_DUMP (15 * 60 * 1000)
#define T_DIFF (10 * 60 * 1000)
#define T_GC 60000
#define LEASE_EXPIRE_S (24 * 3600)   /* as containerd's client */
#define MAX_DESCS 8

enum stage { S_PREPARE, S_PAUSE, S_DUMP, S_RW, S_RESUME, S_UPLOAD, S_INDEX, S_IMAGE, S_CLEANUP, N_STAGES };
/* "prepare", "pause", ... for reports and status */
extern const char *const ckpt_stage_names[N_STAGES];

typedef struct ckpt_run {
        ckpt_registry *reg;
        ckpt_entry *entry;
        rpc_client *c;
        const char *ns, *id;
        const ckpt_request *req;
        rpc_opts o;                      /* namespace (+ lease once made) */
        char lease[80];
        bool lease_made;
        unsigned parts;

        rpc_container_get *cr;
        const char *runtime, *snapshotter, *snapshot_key, *image_name;
        bool have_task;
        int task_status;
        pid_t task_pid;
        const char *work_root;           /* parent of the private dump dir */
        uint64_t mem_estimate;

        /* the frozen window */
        bool may_have_paused, dump_ok, resumed, left_paused;
        struct timespec frozen_from;
        long frozen_ms;

        char tmp[PATH_MAX], dump_dir[PATH_MAX], work_dir[PATH_MAX], empty_dir[PATH_MAX];
        bool tmp_made;
        char view_key[256];
        bool view_made;
        rpc_mounts *lower, *upper;
        rpc_image *base;

        /* index entries, in containerd's order */
        ckpt_desc descs[MAX_DESCS];
        char digests[MAX_DESCS][RPC_DIGEST_MAX];
        size_t n_descs;
        Containerd__Types__Descriptor *rw_desc;
        int desc_runtime, desc_criu, desc_config, desc_options;   /* -1: none */
        char index_digest[RPC_DIGEST_MAX];
        size_t index_size;

        enum stage stage;
        struct timespec stage_from, started;
        long stage_ms[N_STAGES];
        bool stage_seen[N_STAGES];
        int failed_stage;                /* -1: none */
        char msg[2048];
        char criu[1024];
        char after[1400];                /* the task's state afterwards */
        char upload_note[1200];          /* how the dump reached the content store */
} ckpt_run;

/* Closes the current stage's time and enters `s` (also in the registry). */
void run_enter(ckpt_run *t, enum stage s);
/* Records the first failure (stage, message); returns -error. */
int run_fail(ckpt_run *t, int error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* containerd's errors as ckpt_take() reports them (see checkpoint.h). */
int run_errno(int r);
/* The run's rpc options (namespace, lease) with another deadline. */
rpc_opts run_opts(const ckpt_run *t, int64_t timeout_ms);

/* checkpoint-blobs.c */
/* The runc CheckpointOptions in an Any, as runc and the index want them:
 * with the dump paths (for runc) or without them (for the index, as ctr
 * stores them). ret_any->value.data is malloc'd: the caller frees it. */
int run_options_any(ckpt_run *t, bool with_paths, Google__Protobuf__Any *ret_any);
/* Writes a small message as a blob of `media_type`; *ret_index: its slot. */
int run_write_small_blob(ckpt_run *t, const char *kind, const char *media_type, const ProtobufCMessage *msg,
                         int *ret_index);
int run_upload_dump(ckpt_run *t);
int run_write_task_blobs(ckpt_run *t);
int run_write_index(ckpt_run *t);
int run_create_image(ckpt_run *t);

/* checkpoint-report.c: the text of `cat checkpoint` and the status line
 * (both malloc'd; NULL on out-of-memory). */
void run_report(ckpt_run *t, int r, char **ret_report, char **ret_status);
