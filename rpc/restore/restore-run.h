/* The state of one restore_take() and its kit: stages and their times,
 * the first failure, call options, small blob reads. Internal to
 * rpc/restore. */
#pragma once

#include "containerd.h"
#include "restore-image.h"
#include "restore.h"

#include <limits.h>
#include <stdbool.h>
#include <time.h>

#define R_SHORT 15000                 /* ms: small calls */
#define R_LONG (15 * 60 * 1000)       /* ms: Diff.Apply, Tasks.Create/Start (CRIU) */
#define R_BLOB_MAX (16 * 1024 * 1024) /* the largest JSON/proto blob read whole */
#define R_LEASE_EXPIRE_S (24 * 3600)  /* as containerd's client */

enum rstage { RS_PREPARE, RS_SNAPSHOT, RS_RW, RS_CONTAINER, RS_TASK, RS_START, RS_CLEANUP, RS_MAX };
extern const char *const restore_stage_names[RS_MAX];

typedef struct restore_run {
        rpc_client *c;
        const char *ns, *image;
        const restore_request *req;
        const char *content_root;       /* restore_registry_set_content_root(); NULL: none */
        rpc_opts o;                     /* ns, and the lease once made */
        char id[RESTORE_ID_MAX + 1];
        char lease[64];
        bool lease_made, snapshot_made, container_made, task_made;
        restore_index ix;
        char *base_name;                /* the base image's name */
        char chain[DIGEST_MAX];         /* its chain id: the snapshot's parent */
        Google__Protobuf__Any *spec, *runtime_options;
        rpc_mounts *mounts;             /* of the prepared snapshot */
        char work[PATH_MAX];            /* CRIU's work dir (restore-criu.h); "": none */
        bool dump_unpacked;             /* the CRIU tar unpacked by us into <work>/image */
        uint32_t pid;
        int stage;
        bool stage_seen[RS_MAX];
        long stage_ms[RS_MAX];
        struct timespec stage_from, start;
        int failed_stage;               /* -1: none */
        int error;                      /* its errno (positive) */
        char msg[1024];
} restore_run;

void rrun_enter(restore_run *t, enum rstage s);
/* Notes the first failure (stage, errno, message); returns -abs(error). */
int rrun_fail(restore_run *t, int error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* EIO for what containerd/runc/CRIU did not do; lost-daemon errnos kept. */
int rrun_errno(int r);
rpc_opts rrun_opts(const restore_run *t, int64_t timeout_ms);
/* Reads blob d whole (at most R_BLOB_MAX) into a malloc'd, NUL-terminated
 * buffer. */
int rrun_read_blob(restore_run *t, const restore_desc *d, char **ret, size_t *ret_len, rpc_error *err);
void rrun_clear(restore_run *t);

/* restore-prepare.c: the prepare stage (restore.h). */
int restore_prepare(restore_run *t);
