/* restore_take(): the restore workflow (restore.h). The rule that shapes
 * this file: whatever a stage made is noted in the run at once, and a
 * failure undoes all of it in reverse (undo()). */
#include "restore-criu.h"
#include "restore-registry.h"
#include "restore-untar.h"
#include "restore-run.h"
#include "cleanup.h"
#include "log.h"
#include "monotime.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static int make_lease(restore_run *t) {
        if (rpc_lease_name("ckptfs-restore-", t->lease, sizeof(t->lease)) < 0)
                return rrun_fail(t, EIO, "cannot get random bytes");
        rpc_error err = { 0 };
        rpc_opts o = rrun_opts(t, R_SHORT);
        int r = rpc_leases_create_expiring(t->c, &o, t->lease, R_LEASE_EXPIRE_S, &err);
        if (r < 0)
                return rrun_fail(t, rrun_errno(r), "creating a lease failed: %s", err.message);
        t->lease_made = true;
        t->o.lease = t->lease;
        return 0;
}

/* Snapshots.Prepare key=id on the base image's chain id (WithRestoreImage). */
static int make_snapshot(restore_run *t) {
        rpc_error err = { 0 };
        rpc_opts o = rrun_opts(t, R_SHORT);
        int r = rpc_snapshots_prepare(t->c, &o, t->ix.snapshotter, t->id, t->chain, &t->mounts, &err);
        if (r == -EEXIST)
                return rrun_fail(t, EEXIST, "a snapshot %s exists in snapshotter %s: remove it (ctr snapshots "
                                 "rm %s), or restore with id=ANOTHER", t->id, t->ix.snapshotter, t->id);
        if (r == -ENOENT)
                return rrun_fail(t, ENOENT, "the base image %s is not unpacked for snapshotter %s (no snapshot "
                                 "%s): unpack it (ctr images unpack --snapshotter %s %s)", t->base_name,
                                 t->ix.snapshotter, t->chain, t->ix.snapshotter, t->base_name);
        if (r < 0)
                return rrun_fail(t, rrun_errno(r), "preparing snapshot %s failed: %s", t->id, err.message);
        t->snapshot_made = true;
        return 0;
}

static void to_pb_desc(const restore_desc *d, Containerd__Types__Descriptor *pb) {
        *pb = (Containerd__Types__Descriptor) CONTAINERD__TYPES__DESCRIPTOR__INIT;
        pb->media_type = (char *) d->media_type;
        pb->digest = (char *) d->digest;
        pb->size = d->size;
}

/* Diff.Apply of the rw layer onto the new snapshot (WithRestoreRW). */
static int apply_rw(restore_run *t) {
        Containerd__Types__Descriptor d;
        to_pb_desc(&t->ix.rw, &d);
        rpc_error err = { 0 };
        rpc_opts o = rrun_opts(t, R_LONG);
        int r = rpc_diff_apply(t->c, &o, &d, t->mounts, &err);
        if (r < 0)
                return rrun_fail(t, rrun_errno(r), "applying the rw layer %s failed: %s", d.digest, err.message);
        return 0;
}

/* Containers.Create: spec, runtime and its options, image, snapshot
 * (WithRestoreSpec, WithRestoreRuntime, WithRestoreImage). */
static int make_container(restore_run *t) {
        Containerd__Services__Containers__V1__Container__Runtime rt =
                CONTAINERD__SERVICES__CONTAINERS__V1__CONTAINER__RUNTIME__INIT;
        rt.name = t->ix.runtime;
        rt.options = t->runtime_options;
        rpc_container cr = CONTAINERD__SERVICES__CONTAINERS__V1__CONTAINER__INIT;
        cr.id = t->id;
        cr.image = t->base_name;
        cr.runtime = &rt;
        cr.spec = t->spec;
        cr.snapshotter = t->ix.snapshotter;
        cr.snapshot_key = t->id;
        rpc_error err = { 0 };
        rpc_opts o = rrun_opts(t, R_SHORT);
        int r = rpc_containers_create(t->c, &o, &cr, &err);
        if (r == -EEXIST)
                return rrun_fail(t, EEXIST, "a container %s exists in namespace %s", t->id, t->ns);
        if (r < 0)
                return rrun_fail(t, rrun_errno(r), "creating container %s failed: %s", t->id, err.message);
        t->container_made = true;
        return 0;
}

/* The CRIU tar unpacked into <work>/image from its file in the content
 * store; false (containerd unpacks it) when that file is not readable
 * here or the unpacking fails. */
static bool unpack_dump(restore_run *t, char image[PATH_MAX]) {
        if (!t->content_root || snprintf(image, PATH_MAX, "%s/image", t->work) >= PATH_MAX)
                return false;
        char blob[PATH_MAX];
        const char *hex = t->ix.criu.digest + strlen(DIGEST_PREFIX);
        if (snprintf(blob, sizeof(blob), "%s/blobs/sha256/%s", t->content_root, hex) >= (int) sizeof(blob))
                return false;
        _cleanup_close_ int fd = open(blob, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || mkdir(image, 0700) < 0)
                return false;
        _cleanup_close_ int dfd = open(image, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r = dfd < 0 ? -errno : rtar_extract(fd, dfd);
        if (r < 0)
                log_warning_errno(r, "restore %s: cannot unpack the CRIU tar %s (containerd unpacks it): %m",
                                  t->image, blob);
        return r >= 0;
}

/* runc's task options with a work dir of ours, where CRIU's restore.log
 * stays for us to read (other runtimes: none, as ctr sends). */
static int task_options(restore_run *t, Google__Protobuf__Any *any, uint8_t **buf) {
        if (strncmp(t->ix.runtime, "io.containerd.runc.", 19) != 0)
                return 0;
        int r = rcriu_workdir_make(t->work);
        if (r < 0) {
                t->work[0] = '\0';
                return rrun_fail(t, -r, "cannot create a work directory under /var/tmp: %s", strerror(-r));
        }
        char image[PATH_MAX];
        t->dump_unpacked = unpack_dump(t, image);
        r = rcriu_task_options(t->runtime_options, t->work, t->dump_unpacked ? image : NULL, any, buf);
        if (r == -EOPNOTSUPP)
                return 0;   /* runtime options of another type: the shim's own work dir */
        if (r < 0)
                return rrun_fail(t, EINVAL, "the runtime options of %s do not decode", t->image);
        return 1;
}

/* A failure of runc restore, with CRIU's own words when its log has them
 * (then without runc's pointer to that log: the directory goes). */
static int task_failed(restore_run *t, int r, const char *what, const rpc_error *err) {
        char criu[512], runc[sizeof(err->message)];
        snprintf(runc, sizeof(runc), "%s", err->message);
        if (rcriu_workdir_errors(t->work, criu, sizeof(criu)) <= 0)
                return rrun_fail(t, rrun_errno(r), "%s the task of %s failed: %s", what, t->id, runc);
        char *log = strstr(runc, "log file: ");
        if (log)
                *log = '\0';
        for (size_t n = strlen(runc); n > 0 && (runc[n - 1] == '\n' || runc[n - 1] == ' ');)
                runc[--n] = '\0';
        return rrun_fail(t, rrun_errno(r), "%s the task of %s failed: %s; CRIU: %s", what, t->id, runc, criu);
}

/* Tasks.Create from the CRIU tar (WithTaskCheckpoint), then Start:
 * runc restore, CRIU's errors come back here. */
static int make_task(restore_run *t) {
        Containerd__Types__Descriptor d;
        to_pb_desc(&t->ix.criu, &d);
        Google__Protobuf__Any any;
        _cleanup_free_ uint8_t *buf = NULL;
        int r = task_options(t, &any, &buf);
        if (r < 0)
                return r;
        rpc_error err = { 0 };
        rpc_opts o = rrun_opts(t, R_LONG);
        /* Undone even when the create fails: a deadline may pass after the
         * shim made it (deleting none is ENOENT, ignored). */
        t->task_made = true;
        r = rpc_tasks_create(t->c, &o, t->id, t->mounts, &d, r > 0 ? &any : NULL, &t->pid, &err);
        if (r < 0)
                return task_failed(t, r, "creating", &err);
        rrun_enter(t, RS_START);
        r = rpc_tasks_start(t->c, &o, t->id, &t->pid, &err);
        return r < 0 ? task_failed(t, r, "restoring", &err) : 0;
}

/* Tasks.Delete; a task that runs (a start that failed late) is killed
 * first, and given a few seconds to stop. */
static int delete_task(restore_run *t, rpc_error *err) {
        rpc_opts o = rrun_opts(t, R_SHORT);
        int r = rpc_tasks_delete(t->c, &o, t->id, err);
        if (r >= 0 || r == -ENOENT)
                return 0;
        (void) rpc_tasks_kill(t->c, &o, t->id, SIGKILL, NULL);
        for (int i = 0; i < 50 && r < 0 && r != -ENOENT; i++) {
                monotime_sleep_ms(100);
                r = rpc_tasks_delete(t->c, &o, t->id, err);
        }
        return r == -ENOENT ? 0 : r;
}

/* Undoes what the run made, in reverse; a failure to undo is logged
 * (the restore's own error stays the report's). */
static void undo(restore_run *t) {
        rpc_error err = { 0 };
        rpc_opts o = rrun_opts(t, R_SHORT);
        o.lease = NULL;
        int r;
        if (t->task_made && (r = delete_task(t, &err)) < 0)
                log_error_errno(r, "restore %s: cannot delete the task of %s: %s", t->image, t->id, err.message);
        if (t->container_made && (r = rpc_containers_delete(t->c, &o, t->id, &err)) < 0 && r != -ENOENT)
                log_error_errno(r, "restore %s: cannot delete container %s: %s", t->image, t->id, err.message);
        if (t->snapshot_made && (r = rpc_snapshots_remove(t->c, &o, t->ix.snapshotter, t->id, &err)) < 0 &&
            r != -ENOENT)
                log_error_errno(r, "restore %s: cannot remove snapshot %s: %s", t->image, t->id, err.message);
        t->task_made = t->container_made = t->snapshot_made = false;
}

static void drop_lease(restore_run *t) {
        if (!t->lease_made)
                return;
        rpc_error err = { 0 };
        rpc_opts o = rrun_opts(t, R_SHORT);
        o.lease = NULL;
        int r = rpc_leases_delete(t->c, &o, t->lease, false, &err);
        if (r < 0 && r != -ENOENT)
                log_error_errno(r, "restore %s: cannot delete lease %s: %s", t->image, t->lease, err.message);
        t->lease_made = false;
}

static int run_stages(restore_run *t) {
        int r = restore_prepare(t);
        if (r < 0)
                return r;
        rrun_enter(t, RS_SNAPSHOT);
        if ((r = make_lease(t)) < 0 || (r = make_snapshot(t)) < 0)
                return r;
        if (!t->req->no_rw) {
                rrun_enter(t, RS_RW);
                if ((r = apply_rw(t)) < 0)
                        return r;
        }
        rrun_enter(t, RS_CONTAINER);
        if ((r = make_container(t)) < 0)
                return r;
        if (t->req->no_start)
                return 0;
        rrun_enter(t, RS_TASK);
        return make_task(t);
}

int restore_take(restore_registry *reg, rpc_client *c, const char *ns, const char *image, const restore_request *req,
                 char **ret_id) {
        int r = rreg_begin(reg, ns, image);
        if (r < 0)
                return r;
        restore_run t = { .c = c, .ns = ns, .image = image, .req = req, .failed_stage = -1,
                          .content_root = rreg_content_root(reg) };
        t.o.ns = ns;
        t.start = monotime_now();
        rrun_enter(&t, RS_PREPARE);
        r = run_stages(&t);
        rrun_enter(&t, RS_CLEANUP);
        if (r < 0)
                undo(&t);
        drop_lease(&t);
        rcriu_workdir_remove_async(t.work);
        rrun_enter(&t, RS_CLEANUP);
        _cleanup_free_ char *id = NULL;
        if (r >= 0 && ret_id && !(id = strdup(t.id)))
                r = -ENOMEM;   /* the container runs; only our copy of its name failed */
        if (r < 0)
                log_error_errno(r, "restore of %s in %s as %s failed (%s): %s", image, ns, *t.id ? t.id : "?",
                                restore_stage_names[t.failed_stage >= 0 ? t.failed_stage : t.stage], t.msg);
        else
                log_info("restored %s in %s as container %s, pid %u, in %ld ms", image, ns, t.id, t.pid,
                         monotime_ms_since(&t.start));
        rreg_finish(reg, ns, image, &t, r);
        rrun_clear(&t);
        if (r >= 0 && ret_id)
                *ret_id = TAKE_PTR(id);
        return r;
}
