/* ckpt_take(): the checkpoint workflow (see checkpoint.h). The rule that
 * shapes this file: once the task may have been paused by us, every path
 * goes through resume_task() before anything else can fail. */
#include "checkpoint-blobs.h"
#include "checkpoint-crashsafe.h"
#include "checkpoint-report.h"
#include "checkpoint-retention.h"
#include "checkpoint-run.h"
#include "checkpoint-stopped.h"
#include "cleanup.h"
#include "monotime.h"
#include "vocab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* Enters stage `s`: its time in the run, its name in the registry. */
static void enter(ckpt_run *t, enum stage s) {
        run_enter(t, s);
        if (t->entry)
                ckpt_registry_stage(t->reg, t->entry, ckpt_stage_names[s]);
        crashsafe_fault(t, s);
}

/* ---- prepare ---- */

static int make_lease(ckpt_run *t) {
        if (rpc_lease_name("ckptfs-checkpoint-", t->lease, sizeof(t->lease)) < 0)
                return run_fail(t, EIO, "cannot get random bytes: %m");
        /* In the journal before it exists: a death right after the create
         * leaves nothing unknown behind. */
        t->lease_made = true;
        int r = crashsafe_note(t);
        t->lease_made = false;
        if (r < 0)
                return r;

        rpc_error err = { 0 };
        rpc_opts o = run_opts(t, T_SHORT);
        r = rpc_leases_create_expiring(t->c, &o, t->lease, LEASE_EXPIRE_S, &err);
        if (r < 0)
                return run_fail(t, run_errno(r), "creating a lease failed: %s", err.message);
        t->lease_made = true;
        t->o.lease = t->lease;
        return 0;
}

static int make_dirs(ckpt_run *t) {
        const ckpt_request *q = t->req;
        if (q->image_path) {   /* a raw dump: the user's directories, kept */
                snprintf(t->dirs.dump, sizeof(t->dirs.dump), "%s", q->image_path);
                snprintf(t->dirs.work, sizeof(t->dirs.work), "%s", q->work_path ? q->work_path : "");
                return 0;
        }
        const char *root = ckpt_registry_work_dir(t->reg);
        if (!root)
                root = ckpt_pick_work_root(t->task_pid, &t->mem_estimate);
        t->work_root = root;
        int r = ckpt_dirs_make(root, t->id, q->work_path, &t->dirs);
        if (r == -ENAMETOOLONG)
                return run_fail(t, ENAMETOOLONG, "the work directory path %s is too long", root);
        if (r < 0)
                return run_fail(t, -r, "cannot create a dump directory under %s: %s", root, strerror(-r));
        r = crashsafe_note(t);
        return r < 0 ? r : crashsafe_check_room(t);
}

static bool runtime_is_runc(const char *name) {
        return strncmp(name, "io.containerd.runc.", 19) == 0;
}

/* Decides the parts: named ones must be possible; the default takes what
 * the container has (a task is always required by it). */
static int resolve_parts(ckpt_run *t) {
        const rpc_container *cr = t->cr->container;
        bool expl = t->req->parts_explicit;
        t->parts = t->req->parts;
        if ((t->parts & CKPT_PART_IMAGE) && !*t->image_name) {
                if (expl)
                        return run_fail(t, EINVAL, "container %s has no image: the image part is impossible", t->id);
                t->parts &= ~CKPT_PART_IMAGE;
        }
        if ((t->parts & CKPT_PART_RW) && (!*t->snapshot_key || !*t->snapshotter)) {
                if (expl)
                        return run_fail(t, EINVAL, "container %s has no rw snapshot: the rw part is impossible", t->id);
                t->parts &= ~CKPT_PART_RW;
        }
        if ((t->parts & CKPT_PART_RUNTIME) && !(cr->runtime && cr->runtime->options) && !cr->spec) {
                if (expl)
                        return run_fail(t, EINVAL, "container %s has no runtime options or spec", t->id);
                t->parts &= ~CKPT_PART_RUNTIME;
        }
        return 0;
}

/* Containers.Get: the container record, and the parts it allows. */
static int read_container(ckpt_run *t) {
        rpc_error err = { 0 };
        rpc_opts o = run_opts(t, T_SHORT);
        int r = rpc_containers_get(t->c, &o, t->id, &t->cr, &err);
        if (r == -ENOENT)
                return run_fail(t, ENOENT, "no container %s in namespace %s", t->id, t->ns);
        if (r < 0)
                return run_fail(t, run_errno(r), "reading container %s failed: %s", t->id, err.message);
        const rpc_container *cr = t->cr->container;
        if (!cr)
                return run_fail(t, EIO, "containerd returned no container record for %s", t->id);
        t->runtime = cr->runtime && cr->runtime->name ? cr->runtime->name : "";
        t->snapshotter = cr->snapshotter ? cr->snapshotter : "";
        t->snapshot_key = cr->snapshot_key ? cr->snapshot_key : "";
        t->image_name = cr->image ? cr->image : "";
        return resolve_parts(t);
}

/* Tasks.Get: the task, to dump it or to freeze it for a consistent rw
 * diff. */
static int read_task(ckpt_run *t) {
        rpc_error err = { 0 };
        rpc_opts o = run_opts(t, T_SHORT);
        _cleanup_pb_msg_ rpc_task_get *tg = NULL;
        int r = rpc_tasks_get(t->c, &o, t->id, &tg, &err);
        if (r < 0 && r != -ENOENT)
                return run_fail(t, run_errno(r), "reading the task of %s failed: %s", t->id, err.message);
        t->have_task = r == 0 && tg->process;
        t->task_status = t->have_task ? (int) tg->process->status : CONTAINERD__V1__TYPES__STATUS__UNKNOWN;
        t->task_pid = t->have_task ? (pid_t) tg->process->pid : 0;
        if (t->task_status == CONTAINERD__V1__TYPES__STATUS__PAUSING)
                return run_fail(t, EBUSY, "the task of %s is being paused by someone else", t->id);
        bool live = t->task_status == CONTAINERD__V1__TYPES__STATUS__RUNNING ||
                    t->task_status == CONTAINERD__V1__TYPES__STATUS__PAUSED;
        if ((t->parts & CKPT_PART_TASK) && !live)
                return run_fail(t, ESRCH, "container %s has no running task to dump%s", t->id,
                             t->have_task ? " (its task is not running)" : "");
        if ((t->parts & CKPT_PART_TASK) && !runtime_is_runc(t->runtime))
                return run_fail(t, EDEADLK, "runtime %s: only io.containerd.runc.* can be checkpointed",
                             t->runtime);
        return 0;
}

/* A stopped process would hang CRIU under the cgroup v1 freezer
 * (checkpoint-stopped.h): refused before anything is frozen. */
static int refuse_stopped(ckpt_run *t) {
        if (!(t->parts & CKPT_PART_TASK) || !ckpt_host_v1_freezer())
                return 0;
        rpc_error err = { 0 };
        rpc_opts o = run_opts(t, T_SHORT);
        _cleanup_pb_msg_ rpc_task_pids *p = NULL;
        int r = rpc_tasks_list_pids(t->c, &o, t->id, &p, &err);
        if (r < 0)
                return run_fail(t, run_errno(r), "listing the processes of %s failed: %s", t->id, err.message);
        _cleanup_free_ pid_t *pids = calloc(p->n_processes ? p->n_processes : 1, sizeof(*pids));
        if (!pids)
                return run_fail(t, ENOMEM, "out of memory");
        for (size_t i = 0; i < p->n_processes; i++)
                pids[i] = (pid_t) p->processes[i]->pid;
        pid_t stopped;
        if (ckpt_find_stopped(pids, p->n_processes, &stopped))
                return run_fail(t, EDEADLK,
                                "process %d of %s is stopped (state T): CRIU hangs seizing a stopped process "
                                "that the cgroup v1 freezer holds; continue it (kill -CONT %d) or checkpoint "
                                "without the task part",
                                (int) stopped, t->id, (int) stopped);
        return 0;
}

/* Images.Get: the name must be free, and the base image (for the image
 * part) must exist. */
static int read_images(ckpt_run *t) {
        rpc_error err = { 0 };
        rpc_opts o = run_opts(t, T_SHORT);
        if (t->req->name) {
                _cleanup_pb_msg_ rpc_image *existing = NULL;
                int r = rpc_images_get(t->c, &o, t->req->name, &existing, &err);
                if (r == 0)
                        return run_fail(t, EEXIST, "an image named %s exists already", t->req->name);
                if (r != -ENOENT)
                        return run_fail(t, run_errno(r), "looking up image %s failed: %s", t->req->name,
                                     err.message);
        }
        if (t->parts & CKPT_PART_IMAGE) {
                int r = rpc_images_get(t->c, &o, t->image_name, &t->base, &err);
                if (r < 0)
                        return run_fail(t, r == -ENOENT ? EINVAL : run_errno(r), "the image %s of %s: %s",
                                     t->image_name, t->id, err.message);
        }
        return 0;
}

/* The base image may be deleted while we run: hold its manifest (and
 * through its gc labels all it refers to) until our index does, and make
 * sure it is still there. */
static int hold_base(ckpt_run *t) {
        if (!t->base)
                return 0;
        const char *d = t->base->target->digest;
        rpc_error err = { 0 };
        rpc_opts o = run_opts(t, T_SHORT);
        _cleanup_pb_msg_ rpc_blob_info *info = NULL;
        int r = rpc_leases_add_resource(t->c, &o, t->lease, "content", d, &err);
        if (r >= 0)
                r = rpc_content_info(t->c, &t->o, d, &info, &err);
        if (r < 0)
                return run_fail(t, r == -ENOENT ? EINVAL : run_errno(r), "the manifest %s of image %s: %s", d,
                                t->image_name, err.message);
        return 0;
}

/* The parent side of the rw diff does not change: set it up now, outside
 * the frozen window. */
static int prepare_rw(ckpt_run *t) {
        if (!(t->parts & CKPT_PART_RW))
                return 0;
        rpc_error err = { 0 };
        _cleanup_pb_msg_ rpc_snapshot_info *info = NULL;
        int r = rpc_snapshots_stat(t->c, &t->o, t->snapshotter, t->snapshot_key, &info, &err);
        if (r < 0)
                return run_fail(t, run_errno(r), "snapshot %s: %s", t->snapshot_key, err.message);
        snprintf(t->view_key, sizeof(t->view_key), "%.160s-parent-view-%s", info->parent, t->lease);
        r = rpc_snapshots_view(t->c, &t->o, t->snapshotter, t->view_key, info->parent, &t->lower, &err);
        if (r < 0)
                return run_fail(t, run_errno(r), "a view of the parent snapshot failed: %s", err.message);
        t->view_made = true;
        if (info->kind != CONTAINERD__SERVICES__SNAPSHOTS__V1__KIND__ACTIVE)
                return run_fail(t, EIO, "snapshot %s is not active", t->snapshot_key);
        r = rpc_snapshots_mounts(t->c, &t->o, t->snapshotter, t->snapshot_key, &t->upper, &err);
        if (r < 0)
                return run_fail(t, run_errno(r), "mounts of snapshot %s: %s", t->snapshot_key, err.message);
        return 0;
}

/* Everything that can be done before the task is frozen. */
static int prepare(ckpt_run *t) {
        int r = read_container(t);
        if (r >= 0)
                r = read_task(t);
        if (r >= 0)
                r = refuse_stopped(t);
        if (r >= 0)
                r = read_images(t);
        if (r >= 0)
                r = make_dirs(t);
        if (r < 0 || t->req->image_path)
                return r;   /* a raw dump: nothing goes to the content store */
        r = make_lease(t);
        if (r >= 0)
                r = hold_base(t);
        if (r >= 0)
                r = prepare_rw(t);
        if (r < 0)
                return r;
        /* The small blobs, in containerd's order: runtime options first. */
        const rpc_container *cr = t->cr->container;
        if ((t->parts & CKPT_PART_RUNTIME) && cr->runtime && cr->runtime->options)
                return run_write_small_blob(t, "runtime-options", MT_RUNTIME_OPTIONS, &cr->runtime->options->base,
                                            &t->desc_runtime);
        return 0;
}

/* ---- the frozen window ---- */

static int pause_task(ckpt_run *t) {
        if (t->task_status != CONTAINERD__V1__TYPES__STATUS__RUNNING)
                return 0;   /* paused by someone else: theirs to resume */
        rpc_error err = { 0 };
        rpc_opts o = run_opts(t, T_PAUSE);
        /* A pause that fails (even by timing out) may still have frozen the
         * task: from here on, resume_task() runs on every path. */
        t->may_have_paused = true;
        int r = crashsafe_note(t);   /* so that a death from here on resumes it */
        if (r < 0) {
                t->may_have_paused = false;
                return r;
        }
        t->frozen_from = monotime_now();
        r = rpc_tasks_pause(t->c, &o, t->id, &err);
        if (r < 0)
                return run_fail(t, r == -ENOENT ? ESRCH : run_errno(r), "pausing the task failed: %s", err.message);
        return 0;
}

static int dump_task(ckpt_run *t) {
        if (!(t->parts & CKPT_PART_TASK))
                return 0;
        Google__Protobuf__Any any;
        int r = run_options_any(t, true, &any);
        if (r < 0)
                return run_fail(t, r, "cannot encode the checkpoint options");
        rpc_error err = { 0 };
        rpc_opts o = run_opts(t, T_DUMP);
        _cleanup_pb_msg_ rpc_task_checkpoint *resp = NULL;
        r = rpc_tasks_checkpoint(t->c, &o, t->id, t->req->parent, &any, &resp, &err);
        free(any.value.data);
        if (r < 0) {
                if (*t->dirs.work)
                        ckpt_criu_errors(t->dirs.work, t->criu, sizeof(t->criu));
                return run_fail(t, r == -ENOENT ? ESRCH : run_errno(r), "the dump failed: %s", err.message);
        }
        t->dump_ok = true;
        return 0;
}

static int diff_rw(ckpt_run *t) {
        if (!(t->parts & CKPT_PART_RW))   /* never set with image-path */
                return 0;
        char ref[512];
        snprintf(ref, sizeof(ref), "checkpoint-rw-%s", t->snapshot_key);
        rpc_error err = { 0 };
        rpc_opts o = run_opts(t, T_DIFF);
        int r = rpc_diff_diff(t->c, &o, t->lower, t->upper, NULL, ref, &t->rw_desc, &err);
        if (r < 0)
                return run_fail(t, run_errno(r), "the diff of the rw layer failed: %s", err.message);
        return 0;
}

/* Never leaves a task we froze frozen, unless it cannot: then it says so
 * loudly. Retries while containerd still reports the task paused or does
 * not answer (killed, restarting), for T_PAUSE in all. */
static int resume_task(ckpt_run *t) {
        if (!t->may_have_paused)
                return 0;
        if (t->req->exit && t->dump_ok) {
                /* runc stopped the task after the dump, as asked. */
                t->frozen_ms = monotime_ms_since(&t->frozen_from);
                snprintf(t->after, sizeof(t->after), "stopped (exit was asked)");
                return 0;
        }
        rpc_error err = { 0 };
        int r = 0;
        struct timespec t0 = monotime_now();
        for (int attempt = 0; attempt == 0 || monotime_ms_since(&t0) < T_PAUSE; attempt++) {
                if (attempt)
                        monotime_sleep_ms(attempt < 4 ? 100L << attempt : 1000);
                rpc_opts o = run_opts(t, T_PAUSE);
                r = rpc_tasks_resume(t->c, &o, t->id, &err);
                if (r == 0)
                        break;
                /* Did it fail because there is nothing to resume? */
                rpc_error gerr = { 0 };
                o = run_opts(t, T_SHORT);
                if (rpc_tasks_frozen(t->c, &o, t->id, &gerr) == 0) {
                        r = 0;
                        break;
                }
        }
        t->frozen_ms = monotime_ms_since(&t->frozen_from);
        if (r < 0) {
                t->left_paused = true;
                snprintf(t->after, sizeof(t->after), "PAUSED: resuming it failed (%.800s); run `ctr -n %.200s tasks resume %.200s`",
                         err.message, t->ns, t->id);
                return run_fail(t, run_errno(r), "the task stays PAUSED: resuming it failed: %s", err.message);
        }
        t->resumed = true;
        (void) crashsafe_note(t);
        snprintf(t->after, sizeof(t->after), "running");
        return 0;
}

/* Undoes what is ours, whatever happened: the parent view, the dump dir,
 * the lease (synchronously after a failure, so that its blobs are gone
 * when the caller sees the error). */
static void cleanup(ckpt_run *t, bool failed) {
        rpc_error err = { 0 };
        if (t->view_made) {
                rpc_opts o = run_opts(t, T_SHORT);
                (void) rpc_snapshots_remove(t->c, &o, t->snapshotter, t->view_key, &err);
        }
        if (*t->dirs.top && ckpt_rm_rf(t->dirs.top) == 0)
                *t->dirs.top = '\0';
        if (t->lease_made) {
                rpc_opts o = run_opts(t, failed ? T_GC : T_SHORT);
                o.lease = NULL;
                int r = rpc_leases_delete(t->c, &o, t->lease, failed, &err);
                /* Gone either way: a lease the daemon does not know is no leak. */
                if (r == 0 || r == -ENOENT)
                        t->lease_made = false;
        }
}

/* keep=N, once the new image exists: a failure to delete older ones does
 * not fail the checkpoint (it is said in the report and the log). */
static void apply_retention(ckpt_run *t) {
        ckpt_retention rule = { .keep = t->req->keep ? t->req->keep : ckpt_registry_keep(t->reg),
                                .all_names = t->req->keep_all_names };
        if (rule.keep == 0)
                return;
        rpc_opts o = run_opts(t, T_SHORT);
        o.lease = NULL;
        char *deleted = NULL;
        int r = ckpt_retention_apply(t->c, &o, t->id, t->req->name, &rule, &deleted);
        const char *what = r < 0 ? "none (the images could not be listed)" : r > 0 ? deleted : "none";
        if (asprintf(&t->retention_note, "keep=%u%s, deleted: %s", rule.keep,
                     rule.all_names ? " (default names of any maker too)" : "", what) < 0)
                t->retention_note = NULL;
        free(deleted);
}

static int run(ckpt_run *t) {
        enter(t, S_PREPARE);
        int r = crashsafe_begin(t);
        if (r < 0)
                return r;
        r = prepare(t);
        if (r < 0)
                return r;

        /* The frozen window: nothing in it may skip resume_task(). */
        enter(t, S_PAUSE);
        r = pause_task(t);
        if (r >= 0) {
                enter(t, S_DUMP);
                r = dump_task(t);
        }
        if (r >= 0) {
                enter(t, S_RW);
                r = diff_rw(t);
        }
        enter(t, S_RESUME);
        int k = resume_task(t);
        if (r < 0)
                return r;
        if (k < 0)
                return k;
        if (t->req->image_path)
                return 0;

        enter(t, S_UPLOAD);
        if (t->parts & CKPT_PART_TASK) {
                r = run_upload_dump(t);
                if (r < 0)
                        return r;
        }
        r = run_write_task_blobs(t);
        if (r < 0)
                return r;
        enter(t, S_INDEX);
        r = run_write_index(t);
        if (r < 0)
                return r;
        enter(t, S_IMAGE);
        r = run_create_image(t);
        if (r < 0)
                return r;
        apply_retention(t);
        return 0;
}

int ckpt_take(ckpt_registry *reg, rpc_client *c, const char *ns, const char *id, const ckpt_request *req,
              char **ret_name) {
        if (!reg || !c || !ns || !*ns || !id || !*id || !req)
                return -EINVAL;
        ckpt_run t = {
                .reg = reg, .c = c, .ns = ns, .id = id, .req = req,
                .o = { .ns = ns },
                .desc_runtime = -1, .desc_criu = -1, .desc_config = -1, .desc_options = -1,
                .failed_stage = -1,
        };
        t.started = monotime_now();
        int r = ckpt_registry_begin(reg, ns, id, &t.entry);
        if (r < 0)
                return r;

        r = run(&t);
        /* containerd lost midway (killed, restarting) is a failed
         * checkpoint, EIO as for any daemon failure; before anything was
         * done it is the mount's ENOTCONN/ETIMEDOUT. */
        if ((r == -ENOTCONN || r == -ETIMEDOUT) && t.failed_stage > S_PREPARE)
                r = -EIO;
        enter(&t, S_CLEANUP);
        cleanup(&t, r < 0);
        crashsafe_end(&t);
        run_enter(&t, S_CLEANUP);   /* closes the cleanup stage's time */
        t.total_ms = monotime_ms_since(&t.started);

        char *report = NULL, *status = NULL;
        run_report(&t, r, &report, &status);
        ckpt_registry_end(reg, t.entry, report, status, r == 0 && req->name ? t.index_digest : NULL);
        run_log(&t, r);

        char *name = NULL;
        if (r == 0 && ret_name && req->name && !(name = strdup(req->name)))
                r = -ENOMEM;
        pb_msg_free(t.rw_desc);
        pb_msg_free(t.base);
        pb_msg_free(t.lower);
        pb_msg_free(t.upper);
        pb_msg_free(t.cr);
        free(t.retention_note);
        if (r < 0)
                return r;
        if (ret_name)
                *ret_name = name;
        return 0;
}

int ckpt_delete_image(rpc_client *c, const char *ns, const char *name, rpc_error *err) {
        if (!c || !ns || !name || !*name)
                return rpc_error_set(err, EINVAL, "no image name");
        rpc_opts o = { .ns = ns, .timeout_ms = T_SHORT };
        return rpc_images_delete(c, &o, name, false, err);
}

