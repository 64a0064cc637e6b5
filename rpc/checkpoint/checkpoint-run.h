/* The state of one ckpt_take() and the kit its steps share
 * (checkpoint-run.c): stages and their times, the first failure, the
 * deadlines. checkpoint-take.c runs the workflow and the frozen window,
 * checkpoint-blobs.c writes what goes to the content store,
 * checkpoint-report.c says what happened; the kit calls none of them.
 * Private to those files; one thread owns a ckpt_run. */
#pragma once

#include "checkpoint-index.h"
#include "checkpoint-registry.h"
#include "checkpoint-request.h"
#include "checkpoint-stage.h"
#include "checkpoint-workdir.h"
#include "containerd.h"

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

        ckpt_dirs dirs;
        char view_key[256];
        bool view_made;
        rpc_mounts *lower, *upper;
        rpc_image *base;

        /* index entries, in containerd's order */
        ckpt_desc descs[MAX_DESCS];
        char digests[MAX_DESCS][DIGEST_MAX];
        size_t n_descs;
        Containerd__Types__Descriptor *rw_desc;
        int desc_runtime, desc_criu, desc_config, desc_options;   /* -1: none */
        char index_digest[DIGEST_MAX];
        size_t index_size;

        enum stage stage;
        struct timespec stage_from, started;
        long stage_ms[N_STAGES];
        bool stage_seen[N_STAGES];
        long total_ms;                   /* set once the run is over */
        int failed_stage;                /* -1: none */
        char msg[2048];
        char criu[1024];
        char after[1400];                /* the task's state afterwards */
        char upload_note[1200];          /* how the dump reached the content store */
        char *retention_note;            /* keep=N: what it deleted (malloc'd); NULL: no rule */
        struct {
                bool on;                 /* the run is journaled */
                int lock_fd;             /* the container's lock, -1: none */
                uint64_t owner_start;    /* this process's start time */
        } journal;
} ckpt_run;

/* Closes the current stage's time and enters `s`. */
void run_enter(ckpt_run *t, enum stage s);
/* Records the first failure (stage, message); returns -error. */
int run_fail(ckpt_run *t, int error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* containerd's errors as ckpt_take() reports them (see checkpoint.h). */
int run_errno(int r);
/* The run's rpc options (namespace, lease) with another deadline. */
rpc_opts run_opts(const ckpt_run *t, int64_t timeout_ms);
