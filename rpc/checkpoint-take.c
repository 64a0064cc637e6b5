/* ckpt_take(): the checkpoint workflow (see checkpoint.h). The rule that
 * shapes this file: once the task may have been paused by us, every path
 * goes through resume_task() before anything else can fail. */
#include "checkpoint-internal.h"

#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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
static const char *const stage_names[N_STAGES] = {
        "prepare", "pause", "dump", "rw", "resume", "upload", "index", "image", "cleanup",
};

typedef struct take {
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

        char tmp[PATH_MAX], dump_dir[PATH_MAX], work_dir[PATH_MAX];
        bool tmp_made;
        char view_key[256];
        bool view_made;
        rpc_mounts *lower, *upper;
        rpc_image *base;

        /* index entries, in containerd's order */
        ckpt_desc descs[MAX_DESCS];
        char digests[MAX_DESCS][72];
        size_t n_descs;
        Containerd__Types__Descriptor *rw_desc;
        const char **base_annotations;
        int desc_runtime, desc_criu, desc_config, desc_options;   /* -1: none */
        char index_digest[72];
        size_t index_size;

        enum stage stage;
        struct timespec stage_from, started;
        long stage_ms[N_STAGES];
        bool stage_seen[N_STAGES];
        int failed_stage;                /* -1: none */
        char msg[2048];
        char criu[1024];
        char after[1400];                /* the task's state afterwards */
} take;

static long ms_since(const struct timespec *t) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        return (long) ((now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000);
}

static void enter(take *t, enum stage s) {
        if (t->stage_seen[t->stage])
                t->stage_ms[t->stage] += ms_since(&t->stage_from);
        t->stage = s;
        t->stage_seen[s] = true;
        clock_gettime(CLOCK_MONOTONIC, &t->stage_from);
        if (t->entry)
                ckpt_registry_stage(t->reg, t->entry, stage_names[s]);
}

/* Records the first failure: its stage and message. Returns -error. */
static int failf(take *t, int error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int failf(take *t, int error, const char *fmt, ...) {
        if (t->failed_stage < 0) {
                t->failed_stage = (int) t->stage;
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(t->msg, sizeof(t->msg), fmt, ap);
                va_end(ap);
        }
        return -abs(error);
}

/* containerd's errors, as ckpt_take() reports them: a vanished task is
 * ESRCH, a daemon that is gone or too slow keeps its errno, anything else
 * containerd, runc or CRIU did not do is EIO. */
static int daemon_errno(int r) {
        switch (r) {
        case -ENOMEM: case -ETIMEDOUT: case -ENOTCONN: case -ESRCH:
                return r;
        default:
                return -EIO;
        }
}

static rpc_opts opts_with(const take *t, int64_t timeout_ms) {
        rpc_opts o = t->o;
        o.timeout_ms = timeout_ms;
        return o;
}

/* ---- prepare ---- */

static int write_small_blob(take *t, const char *kind, const char *media_type, const ProtobufCMessage *msg,
                            int *ret_index) {
        uint8_t *buf = NULL;
        size_t len = 0;
        int r = rpc_msg_pack(msg, &buf, &len);
        if (r < 0)
                return failf(t, r, "cannot encode the %s", kind);
        size_t i = t->n_descs++;
        ckpt_sha256_digest(buf, len, t->digests[i]);
        char ref[160];
        snprintf(ref, sizeof(ref), "%s-%s", t->lease, kind);
        rpc_error err = { 0 };
        rpc_opts o = opts_with(t, T_SHORT);
        r = rpc_content_write(t->c, &o, ref, t->digests[i], len, buf, NULL, NULL, NULL, 0, &err);
        free(buf);
        if (r < 0)
                return failf(t, daemon_errno(r), "writing the %s failed: %s", kind, err.message);
        t->descs[i] = (ckpt_desc) { .media_type = media_type, .digest = t->digests[i], .size = (int64_t) len,
                                    .platform = true };
        *ret_index = (int) i;
        return 0;
}

static int make_lease(take *t) {
        unsigned char rnd[8];
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        if (fd < 0 || read(fd, rnd, sizeof(rnd)) != (ssize_t) sizeof(rnd)) {
                if (fd >= 0)
                        close(fd);
                return failf(t, EIO, "cannot read /dev/urandom");
        }
        close(fd);
        int n = snprintf(t->lease, sizeof(t->lease), "ckptfs-checkpoint-");
        for (size_t i = 0; i < sizeof(rnd); i++)
                n += snprintf(t->lease + n, sizeof(t->lease) - (size_t) n, "%02x", rnd[i]);

        char expire[64];
        time_t when = time(NULL) + LEASE_EXPIRE_S;
        struct tm tm;
        gmtime_r(&when, &tm);
        strftime(expire, sizeof(expire), "%Y-%m-%dT%H:%M:%SZ", &tm);
        const char *labels[] = { "containerd.io/gc.expire", expire };
        rpc_error err = { 0 };
        rpc_opts o = opts_with(t, T_SHORT);
        int r = rpc_leases_create(t->c, &o, t->lease, labels, 1, &err);
        if (r < 0)
                return failf(t, daemon_errno(r), "creating a lease failed: %s", err.message);
        t->lease_made = true;
        t->o.lease = t->lease;
        return 0;
}

static int make_dirs(take *t) {
        if (t->req->image_path) {
                snprintf(t->dump_dir, sizeof(t->dump_dir), "%s", t->req->image_path);
                if (t->req->work_path)
                        snprintf(t->work_dir, sizeof(t->work_dir), "%s", t->req->work_path);
                return 0;
        }
        const char *root = ckpt_registry_work_dir(t->reg);
        if (!root)
                root = ckpt_pick_work_root(t->task_pid, &t->mem_estimate);
        t->work_root = root;
        /* The container id in the name tells whose dump a leftover is. */
        if ((size_t) snprintf(t->tmp, sizeof(t->tmp), "%s/ckptfs-dump-%.80s-XXXXXX", root, t->id) >= sizeof(t->tmp) - 16)
                return failf(t, ENAMETOOLONG, "the work directory path %s is too long", root);
        if (!mkdtemp(t->tmp))
                return failf(t, errno, "cannot create a dump directory under %s: %s", root, strerror(errno));
        t->tmp_made = true;
        /* t->tmp is short of PATH_MAX by 16 at least (checked above). */
        strcpy(stpcpy(t->dump_dir, t->tmp), "/dump");
        if (t->req->work_path)
                snprintf(t->work_dir, sizeof(t->work_dir), "%s", t->req->work_path);
        else
                strcpy(stpcpy(t->work_dir, t->tmp), "/work");
        if (mkdir(t->dump_dir, 0700) < 0 || (!t->req->work_path && mkdir(t->work_dir, 0700) < 0))
                return failf(t, errno, "cannot create %s: %s", t->dump_dir, strerror(errno));
        return 0;
}

static bool runtime_is_runc(const char *name) {
        return strncmp(name, "io.containerd.runc.", 19) == 0;
}

/* Decides the parts: named ones must be possible; the default takes what
 * the container has (a task is always required by it). */
static int resolve_parts(take *t) {
        const rpc_container *cr = t->cr->container;
        bool expl = t->req->parts_explicit;
        t->parts = t->req->parts;
        if ((t->parts & CKPT_PART_IMAGE) && !*t->image_name) {
                if (expl)
                        return failf(t, EINVAL, "container %s has no image: the image part is impossible", t->id);
                t->parts &= ~CKPT_PART_IMAGE;
        }
        if ((t->parts & CKPT_PART_RW) && (!*t->snapshot_key || !*t->snapshotter)) {
                if (expl)
                        return failf(t, EINVAL, "container %s has no rw snapshot: the rw part is impossible", t->id);
                t->parts &= ~CKPT_PART_RW;
        }
        if ((t->parts & CKPT_PART_RUNTIME) && !(cr->runtime && cr->runtime->options) && !cr->spec) {
                if (expl)
                        return failf(t, EINVAL, "container %s has no runtime options or spec", t->id);
                t->parts &= ~CKPT_PART_RUNTIME;
        }
        return 0;
}

static int prepare(take *t) {
        rpc_error err = { 0 };
        rpc_opts o = opts_with(t, T_SHORT);
        int r = rpc_containers_get(t->c, &o, t->id, &t->cr, &err);
        if (r == -ENOENT)
                return failf(t, ENOENT, "no container %s in namespace %s", t->id, t->ns);
        if (r < 0)
                return failf(t, daemon_errno(r), "reading container %s failed: %s", t->id, err.message);
        const rpc_container *cr = t->cr->container;
        if (!cr)
                return failf(t, EIO, "containerd returned no container record for %s", t->id);
        t->runtime = cr->runtime && cr->runtime->name ? cr->runtime->name : "";
        t->snapshotter = cr->snapshotter ? cr->snapshotter : "";
        t->snapshot_key = cr->snapshot_key ? cr->snapshot_key : "";
        t->image_name = cr->image ? cr->image : "";
        r = resolve_parts(t);
        if (r < 0)
                return r;

        /* The task: to dump it, or to freeze it for a consistent rw diff. */
        _cleanup_rpc_msg_ rpc_task_get *tg = NULL;
        r = rpc_tasks_get(t->c, &o, t->id, &tg, &err);
        if (r < 0 && r != -ENOENT)
                return failf(t, daemon_errno(r), "reading the task of %s failed: %s", t->id, err.message);
        t->have_task = r == 0 && tg->process;
        t->task_status = t->have_task ? (int) tg->process->status : CONTAINERD__V1__TYPES__STATUS__UNKNOWN;
        t->task_pid = t->have_task ? (pid_t) tg->process->pid : 0;
        if (t->task_status == CONTAINERD__V1__TYPES__STATUS__PAUSING)
                return failf(t, EBUSY, "the task of %s is being paused by someone else", t->id);
        bool live = t->task_status == CONTAINERD__V1__TYPES__STATUS__RUNNING ||
                    t->task_status == CONTAINERD__V1__TYPES__STATUS__PAUSED;
        if ((t->parts & CKPT_PART_TASK) && !live)
                return failf(t, ESRCH, "container %s has no running task to dump%s", t->id,
                             t->have_task ? " (its task is not running)" : "");
        if ((t->parts & CKPT_PART_TASK) && !runtime_is_runc(t->runtime))
                return failf(t, EOPNOTSUPP, "runtime %s: only io.containerd.runc.* can be checkpointed",
                             t->runtime);

        if (t->req->name) {
                _cleanup_rpc_msg_ rpc_image *existing = NULL;
                r = rpc_images_get(t->c, &o, t->req->name, &existing, &err);
                if (r == 0)
                        return failf(t, EEXIST, "an image named %s exists already", t->req->name);
                if (r != -ENOENT)
                        return failf(t, daemon_errno(r), "looking up image %s failed: %s", t->req->name,
                                     err.message);
        }
        if (t->parts & CKPT_PART_IMAGE) {
                r = rpc_images_get(t->c, &o, t->image_name, &t->base, &err);
                if (r < 0)
                        return failf(t, r == -ENOENT ? EINVAL : daemon_errno(r), "the image %s of %s: %s",
                                     t->image_name, t->id, err.message);
        }

        r = make_dirs(t);
        if (r < 0)
                return r;
        if (t->req->image_path)
                return 0;   /* a raw dump: nothing goes to the content store */
        r = make_lease(t);
        if (r < 0)
                return r;

        /* The parent side of the rw diff does not change: set it up now,
         * outside the frozen window. */
        if (t->parts & CKPT_PART_RW) {
                _cleanup_rpc_msg_ rpc_snapshot_info *info = NULL;
                r = rpc_snapshots_stat(t->c, &t->o, t->snapshotter, t->snapshot_key, &info, &err);
                if (r < 0)
                        return failf(t, daemon_errno(r), "snapshot %s: %s", t->snapshot_key, err.message);
                snprintf(t->view_key, sizeof(t->view_key), "%.160s-parent-view-%s", info->parent, t->lease);
                r = rpc_snapshots_view(t->c, &t->o, t->snapshotter, t->view_key, info->parent, &t->lower, &err);
                if (r < 0)
                        return failf(t, daemon_errno(r), "a view of the parent snapshot failed: %s", err.message);
                t->view_made = true;
                if (info->kind == CONTAINERD__SERVICES__SNAPSHOTS__V1__KIND__ACTIVE)
                        r = rpc_snapshots_mounts(t->c, &t->o, t->snapshotter, t->snapshot_key, &t->upper, &err);
                else
                        r = failf(t, EINVAL, "snapshot %s is not active", t->snapshot_key);
                if (r < 0)
                        return failf(t, daemon_errno(r), "mounts of snapshot %s: %s", t->snapshot_key, err.message);
        }

        /* The small blobs, in containerd's order: runtime options first. */
        if ((t->parts & CKPT_PART_RUNTIME) && cr->runtime && cr->runtime->options) {
                r = write_small_blob(t, "runtime-options", CKPT_MT_RUNTIME_OPTIONS, &cr->runtime->options->base,
                                     &t->desc_runtime);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The Any that goes to runc (with the dump paths) or into the index
 * (without them, as ctr stores it). Packs into *ret_buf. */
static int pack_options(take *t, bool with_paths, uint8_t **ret_buf, size_t *ret_len) {
        const ckpt_request *q = t->req;
        Containerd__Runc__V1__CheckpointOptions co = CONTAINERD__RUNC__V1__CHECKPOINT_OPTIONS__INIT;
        co.exit = q->exit;
        co.open_tcp = q->tcp;
        co.external_unix_sockets = q->unix_sockets;
        co.terminal = q->terminal;
        co.file_locks = q->file_locks;
        co.n_empty_namespaces = q->n_empty_ns;
        co.empty_namespaces = q->empty_ns;
        co.cgroups_mode = q->cgroups_mode ? q->cgroups_mode : (char *) "";
        co.image_path = with_paths ? t->dump_dir : (char *) "";
        co.work_path = with_paths && *t->work_dir ? t->work_dir : (char *) "";
        return rpc_msg_pack(&co.base, ret_buf, ret_len);
}

/* ---- the frozen window ---- */

static int pause_task(take *t) {
        if (t->task_status != CONTAINERD__V1__TYPES__STATUS__RUNNING)
                return 0;   /* paused by someone else: theirs to resume */
        rpc_error err = { 0 };
        rpc_opts o = opts_with(t, T_PAUSE);
        /* A pause that fails (even by timing out) may still have frozen the
         * task: from here on, resume_task() runs on every path. */
        t->may_have_paused = true;
        clock_gettime(CLOCK_MONOTONIC, &t->frozen_from);
        int r = rpc_tasks_pause(t->c, &o, t->id, &err);
        if (r < 0)
                return failf(t, r == -ENOENT ? ESRCH : daemon_errno(r), "pausing the task failed: %s", err.message);
        return 0;
}

/* Keeps the lines of CRIU's log that say what went wrong. */
static void read_criu_errors(take *t) {
        if (!*t->work_dir)
                return;
        char path[PATH_MAX + 16];
        snprintf(path, sizeof(path), "%s/dump.log", t->work_dir);
        FILE *f = fopen(path, "re");
        if (!f)
                return;
        char line[512];
        size_t n = 0;
        while (fgets(line, sizeof(line), f)) {
                char *e = strstr(line, "Error (");
                if (!e)
                        continue;
                /* "(00.01) Error (criu/sk-inet.c:191): msg" -> "msg (criu/sk-inet.c:191)" */
                char *close_paren = strstr(e, "): ");
                char *text = close_paren ? close_paren + 3 : e;
                text[strcspn(text, "\n")] = 0;
                size_t len = strlen(text);
                if (n + len + 2 > sizeof(t->criu))
                        break;   /* the first errors are the telling ones */
                if (n)
                        t->criu[n++] = '\n';
                memcpy(t->criu + n, text, len + 1);
                n += len;
        }
        fclose(f);
}

static int dump_task(take *t) {
        if (!(t->parts & CKPT_PART_TASK))
                return 0;
        uint8_t *buf = NULL;
        size_t len = 0;
        int r = pack_options(t, true, &buf, &len);
        if (r < 0)
                return failf(t, r, "cannot encode the checkpoint options");
        Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
        any.type_url = (char *) CKPT_RUNC_OPTIONS_TYPE;
        any.value.data = buf;
        any.value.len = len;
        rpc_error err = { 0 };
        rpc_opts o = opts_with(t, T_DUMP);
        _cleanup_rpc_msg_ rpc_task_checkpoint *resp = NULL;
        r = rpc_tasks_checkpoint(t->c, &o, t->id, t->req->parent, &any, &resp, &err);
        free(buf);
        if (r < 0) {
                read_criu_errors(t);
                return failf(t, r == -ENOENT ? ESRCH : daemon_errno(r), "the dump failed: %s", err.message);
        }
        t->dump_ok = true;
        return 0;
}

static int diff_rw(take *t) {
        if (!(t->parts & CKPT_PART_RW) || t->req->image_path)
                return 0;
        char ref[512];
        snprintf(ref, sizeof(ref), "checkpoint-rw-%s", t->snapshot_key);
        rpc_error err = { 0 };
        rpc_opts o = opts_with(t, T_DIFF);
        int r = rpc_diff_diff(t->c, &o, t->lower, t->upper, NULL, ref, &t->rw_desc, &err);
        if (r < 0)
                return failf(t, daemon_errno(r), "the diff of the rw layer failed: %s", err.message);
        return 0;
}

static void sleep_ms(long ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* Never leaves a task we froze frozen, unless it cannot: then it says so
 * loudly. Retries while containerd still reports the task paused. */
static int resume_task(take *t) {
        if (!t->may_have_paused)
                return 0;
        if (t->req->exit && t->dump_ok) {
                /* runc stopped the task after the dump, as asked. */
                t->frozen_ms = ms_since(&t->frozen_from);
                snprintf(t->after, sizeof(t->after), "stopped (exit was asked)");
                return 0;
        }
        rpc_error err = { 0 };
        int r = 0;
        for (int attempt = 0; attempt < 6; attempt++) {
                if (attempt)
                        sleep_ms(100L << attempt);
                rpc_opts o = opts_with(t, T_PAUSE);
                r = rpc_tasks_resume(t->c, &o, t->id, &err);
                if (r == 0)
                        break;
                /* Did it fail because there is nothing to resume? */
                _cleanup_rpc_msg_ rpc_task_get *tg = NULL;
                rpc_error gerr = { 0 };
                o = opts_with(t, T_SHORT);
                int g = rpc_tasks_get(t->c, &o, t->id, &tg, &gerr);
                if (g == -ENOENT || (g == 0 && tg->process &&
                                     tg->process->status != CONTAINERD__V1__TYPES__STATUS__PAUSED &&
                                     tg->process->status != CONTAINERD__V1__TYPES__STATUS__PAUSING)) {
                        r = 0;
                        break;
                }
        }
        t->frozen_ms = ms_since(&t->frozen_from);
        if (r < 0) {
                t->left_paused = true;
                snprintf(t->after, sizeof(t->after), "PAUSED: resuming it failed (%.800s); run `ctr -n %.200s tasks resume %.200s`",
                         err.message, t->ns, t->id);
                return failf(t, daemon_errno(r), "the task stays PAUSED: resuming it failed: %s", err.message);
        }
        t->resumed = true;
        snprintf(t->after, sizeof(t->after), "running");
        return 0;
}

/* ---- after the frozen window ---- */

static int upload_dump(take *t) {
        _ckpt_cleanup_(ckpt_tar_freep) ckpt_tar *tar = NULL;
        int r = ckpt_tar_open(t->dump_dir, &tar);
        if (r < 0)
                return failf(t, r, "reading the dump directory %s failed: %s", t->dump_dir, strerror(-r));
        if (ckpt_tar_members(tar) == 0)
                return failf(t, EIO, "the dump directory %s is empty", t->dump_dir);
        uint64_t size = ckpt_tar_size(tar);
        char ref[160];
        snprintf(ref, sizeof(ref), "%s-criu", t->lease);
        /* ~10 MB/s at worst, plus a minute */
        rpc_opts o = opts_with(t, 60000 + (int64_t) (size / 10000));
        rpc_error err = { 0 };
        size_t i = t->n_descs;
        r = ckpt_content_ingest(t->c, &o, ref, size, ckpt_tar_read, tar, NULL, 0, t->digests[i], &err);
        if (r < 0)
                return failf(t, daemon_errno(r), "storing the dump failed: %s", err.message);
        t->n_descs++;
        t->descs[i] = (ckpt_desc) { .media_type = CKPT_MT_CRIU, .digest = t->digests[i], .size = (int64_t) size,
                                    .platform = true };
        t->desc_criu = (int) i;
        return 0;
}

static int write_task_blobs(take *t) {
        const rpc_container *cr = t->cr->container;
        if (cr->spec && ((t->parts & CKPT_PART_TASK) || (t->parts & CKPT_PART_RUNTIME))) {
                int r = write_small_blob(t, "config", CKPT_MT_CONFIG, &cr->spec->base, &t->desc_config);
                if (r < 0)
                        return r;
        }
        if (t->parts & CKPT_PART_TASK) {
                uint8_t *buf = NULL;
                size_t len = 0;
                int r = pack_options(t, false, &buf, &len);
                if (r < 0)
                        return failf(t, r, "cannot encode the checkpoint options");
                Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
                any.type_url = (char *) CKPT_RUNC_OPTIONS_TYPE;
                any.value.data = buf;
                any.value.len = len;
                r = write_small_blob(t, "checkpoint-options", CKPT_MT_OPTIONS, &any.base, &t->desc_options);
                free(buf);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Orders the descriptors as `ctr c checkpoint` does: runtime options,
 * image manifest, rw layer, CRIU dump, config, checkpoint options. */
static int write_index(take *t) {
        ckpt_desc order[MAX_DESCS];
        size_t n = 0;
        if (t->desc_runtime >= 0)
                order[n++] = t->descs[t->desc_runtime];
        const char **ann = NULL;
        if (t->base) {
                const Containerd__Types__Descriptor *d = t->base->target;
                ann = calloc(2 * d->n_annotations + 1, sizeof(char *));
                if (!ann)
                        return failf(t, ENOMEM, "out of memory");
                for (size_t i = 0; i < d->n_annotations; i++) {
                        ann[2 * i] = d->annotations[i]->key;
                        ann[2 * i + 1] = d->annotations[i]->value;
                }
                t->base_annotations = ann;
                order[n++] = (ckpt_desc) { .media_type = d->media_type, .digest = d->digest, .size = d->size,
                                           .annotations = ann, .n_annotations = d->n_annotations };
        }
        if (t->rw_desc)
                order[n++] = (ckpt_desc) { .media_type = t->rw_desc->media_type, .digest = t->rw_desc->digest,
                                           .size = t->rw_desc->size, .platform = true };
        if (t->desc_criu >= 0)
                order[n++] = t->descs[t->desc_criu];
        if (t->desc_config >= 0)
                order[n++] = t->descs[t->desc_config];
        if (t->desc_options >= 0)
                order[n++] = t->descs[t->desc_options];
        if (n == 0)
                return failf(t, EINVAL, "nothing to checkpoint");

        _ckpt_free_ char *json = NULL;
        size_t len = 0;
        int r = ckpt_index_build(order, n, t->runtime, t->snapshotter, t->image_name, &json, &len);
        if (r < 0)
                return failf(t, r, "cannot build the index");
        /* gc.ref.content.N keeps every blob alive as long as the index is. */
        char keys[MAX_DESCS][48];
        const char *labels[2 * MAX_DESCS];
        for (size_t i = 0; i < n; i++) {
                snprintf(keys[i], sizeof(keys[i]), "containerd.io/gc.ref.content.%zu", i);
                labels[2 * i] = keys[i];
                labels[2 * i + 1] = order[i].digest;
        }
        ckpt_sha256_digest(json, len, t->index_digest);
        t->index_size = len;
        char ref[160];
        snprintf(ref, sizeof(ref), "%s-index", t->lease);
        rpc_error err = { 0 };
        rpc_opts o = opts_with(t, T_SHORT);
        r = rpc_content_write(t->c, &o, ref, t->index_digest, len, (const uint8_t *) json, NULL, NULL, labels, n,
                              &err);
        if (r < 0)
                return failf(t, daemon_errno(r), "writing the index failed: %s", err.message);
        return 0;
}

static int create_image(take *t) {
        Containerd__Types__Descriptor target = CONTAINERD__TYPES__DESCRIPTOR__INIT;
        target.media_type = (char *) CKPT_MT_INDEX;
        target.digest = t->index_digest;
        target.size = (int64_t) t->index_size;
        const char *labels[] = { "containerd.io/checkpoint", "true" };
        rpc_error err = { 0 };
        rpc_opts o = opts_with(t, T_SHORT);
        int r = rpc_images_create(t->c, &o, t->req->name, &target, labels, 1, &err);
        if (r == -EEXIST)
                return failf(t, EEXIST, "an image named %s exists already", t->req->name);
        if (r < 0)
                return failf(t, daemon_errno(r), "creating image %s failed: %s", t->req->name, err.message);
        return 0;
}

/* Undoes what is ours, whatever happened: the parent view, the dump dir,
 * the lease (synchronously after a failure, so that its blobs are gone
 * when the caller sees the error). */
static void cleanup(take *t, bool failed) {
        rpc_error err = { 0 };
        if (t->view_made) {
                rpc_opts o = opts_with(t, T_SHORT);
                (void) rpc_snapshots_remove(t->c, &o, t->snapshotter, t->view_key, &err);
        }
        if (t->tmp_made)
                (void) ckpt_rm_rf(t->tmp);
        if (t->lease_made) {
                rpc_opts o = opts_with(t, failed ? T_GC : T_SHORT);
                o.lease = NULL;
                (void) rpc_leases_delete(t->c, &o, t->lease, failed, &err);
        }
}

static int run(take *t) {
        enter(t, S_PREPARE);
        int r = prepare(t);
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
                r = upload_dump(t);
                if (r < 0)
                        return r;
        }
        r = write_task_blobs(t);
        if (r < 0)
                return r;
        enter(t, S_INDEX);
        r = write_index(t);
        if (r < 0)
                return r;
        enter(t, S_IMAGE);
        return create_image(t);
}

static const char *errno_name(int e) {
        switch (e) {
        case EINVAL: return "EINVAL";
        case EBUSY: return "EBUSY";
        case ENOENT: return "ENOENT";
        case ESRCH: return "ESRCH";
        case EEXIST: return "EEXIST";
        case EIO: return "EIO";
        case ETIMEDOUT: return "ETIMEDOUT";
        case ENOTCONN: return "ENOTCONN";
        case ENOMEM: return "ENOMEM";
        case EOPNOTSUPP: return "EOPNOTSUPP";
        default: return "error";
        }
}

static void parts_text(unsigned parts, char out[64]) {
        snprintf(out, 64, "%s%s%s%s", parts & CKPT_PART_TASK ? " task" : "", parts & CKPT_PART_RW ? " rw" : "",
                 parts & CKPT_PART_IMAGE ? " image" : "", parts & CKPT_PART_RUNTIME ? " runtime" : "");
}

/* The text of `cat checkpoint` and the status line. */
static void make_report(take *t, int r, char **ret_report, char **ret_status) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        if (!f)
                return;
        char parts[64];
        parts_text(t->parts ? t->parts : t->req->parts, parts);
        if (r == 0) {
                fprintf(f, "result: ok\n");
                if (t->req->image_path)
                        fprintf(f, "dump: %s (no image, as asked by image-path)\n", t->req->image_path);
                else {
                        uint64_t total = t->index_size;
                        for (size_t i = 0; i < t->n_descs; i++)
                                total += (uint64_t) t->descs[i].size;
                        if (t->rw_desc)
                                total += (uint64_t) t->rw_desc->size;
                        fprintf(f, "name: %s\nindex: %s\nsize: %llu bytes\n", t->req->name, t->index_digest,
                                (unsigned long long) total);
                }
                fprintf(f, "parts:%s\n", parts);
        } else {
                fprintf(f, "result: failed\nerror: %s (%s)\nstage: %s\nmessage: %s\n", errno_name(-r),
                        strerror(-r), t->failed_stage >= 0 ? stage_names[t->failed_stage] : stage_names[t->stage],
                        t->msg);
                if (*t->criu) {
                        fprintf(f, "criu:");
                        for (const char *p = t->criu; *p;) {
                                size_t n = strcspn(p, "\n");
                                fprintf(f, " %.*s%s", (int) n, p, p[n] ? ";" : "");
                                p += n + (p[n] ? 1 : 0);
                        }
                        fputc('\n', f);
                }
                if (t->req->name)
                        fprintf(f, "name: %s (not created)\n", t->req->name);
                fprintf(f, "parts:%s\n", parts);
        }
        if (t->may_have_paused)
                fprintf(f, "task: %s\nfrozen: %ld ms\n", *t->after ? t->after : "running", t->frozen_ms);
        if (t->work_root)
                fprintf(f, "dump dir: under %s (task memory ~%llu MiB)\n", t->work_root,
                        (unsigned long long) (t->mem_estimate >> 20));
        else if (t->task_status == CONTAINERD__V1__TYPES__STATUS__PAUSED)
                fprintf(f, "task: paused (it was before; left as found)\n");
        for (int s = 0; s < N_STAGES; s++)
                if (t->stage_seen[s])
                        fprintf(f, "stage %s: %ld ms\n", stage_names[s], t->stage_ms[s]);
        fprintf(f, "total: %ld ms\n", ms_since(&t->started));
        if (r == 0 && !t->req->image_path) {
                ckpt_desc all[MAX_DESCS + 1];
                size_t n = 0;
                for (size_t i = 0; i < t->n_descs; i++)
                        all[n++] = t->descs[i];
                if (t->rw_desc)
                        all[n++] = (ckpt_desc) { .media_type = t->rw_desc->media_type, .digest = t->rw_desc->digest,
                                                 .size = t->rw_desc->size };
                for (size_t i = 0; i < n; i++)
                        fprintf(f, "blob: %s %s %lld\n", all[i].media_type, all[i].digest, (long long) all[i].size);
        }
        fclose(f);
        *ret_report = buf;

        char *status = NULL;
        int w;
        if (r == 0)
                w = asprintf(&status, "last_checkpoint: ok %s\n", t->req->name ? t->req->name : t->req->image_path);
        else {
                /* One line: the first line of the message, bounded. */
                size_t n = strcspn(t->msg, "\n");
                w = asprintf(&status, "last_checkpoint: failed (%s, %s): %.*s\n",
                             t->failed_stage >= 0 ? stage_names[t->failed_stage] : "?", errno_name(-r),
                             (int) (n > 300 ? 300 : n), t->msg);
        }
        *ret_status = w < 0 ? NULL : status;
}

int ckpt_take(ckpt_registry *reg, rpc_client *c, const char *ns, const char *id, const ckpt_request *req,
              char **ret_name) {
        if (!reg || !c || !ns || !*ns || !id || !*id || !req)
                return -EINVAL;
        take t = {
                .reg = reg, .c = c, .ns = ns, .id = id, .req = req,
                .o = { .ns = ns },
                .desc_runtime = -1, .desc_criu = -1, .desc_config = -1, .desc_options = -1,
                .failed_stage = -1,
        };
        clock_gettime(CLOCK_MONOTONIC, &t.started);
        int r = ckpt_registry_begin(reg, ns, id, &t.entry);
        if (r < 0)
                return r;

        r = run(&t);
        enter(&t, S_CLEANUP);
        cleanup(&t, r < 0);
        enter(&t, S_CLEANUP);   /* closes the cleanup stage's time */

        char *report = NULL, *status = NULL;
        make_report(&t, r, &report, &status);
        ckpt_registry_end(reg, t.entry, report, status);

        char *name = NULL;
        if (r == 0 && ret_name && req->name && !(name = strdup(req->name)))
                r = -ENOMEM;
        free(t.base_annotations);
        rpc_msg_free(t.rw_desc);
        rpc_msg_free(t.base);
        rpc_msg_free(t.lower);
        rpc_msg_free(t.upper);
        rpc_msg_free(t.cr);
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
