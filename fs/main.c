/* ckptfs: containerd checkpoints as files. main() reads the command line
 * and the environment (nowhere else is either read), sets up logging, the
 * store and the session, and serves until unmounted. */
#include "fs.h"
#include "options.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse_opt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blob.h"
#include "catalog.h"
#include "checkpoint-guard.h"
#include "checkpoint-journal.h"
#include "checkpoint-recover.h"
#include "checkpoint.h"
#include "cleanup.h"
#include "containerd.h"
#include "db.h"
#include "hash.h"
#include "log.h"
#include "path.h"
#include "restore.h"
#include "registry.h"
#include "views.h"
#include "passthrough.h"
#include "views-notify.h"

/* The default cache file: one per containerd socket, so that mounts of
 * different daemons never share (and fight over) one database. */
static char *default_cache_path(const char *address) {
        char *p = NULL;
        if (strcmp(address, RPC_DEFAULT_ADDRESS) == 0)
                return strdup(CKPTFS_CACHE_DIR "/cache.db");
        uint64_t h = fnv1a_str(FNV1A_INIT, address);
        if (asprintf(&p, CKPTFS_CACHE_DIR "/cache-%016llx.db", (unsigned long long) h) < 0)
                return NULL;
        return p;
}

/* A FUSE mount reads ahead 128 KiB unless its bdi says otherwise: raise it
 * for our own mount (found in mountinfo: never stat our own mount point
 * before the loop serves it; options_parse() made it absolute). Best
 * effort. */
static void raise_readahead(const char *real) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        if (!f)
                return;
        char line[8192], dev[64] = "";
        while (fgets(line, sizeof(line), f)) {
                char mp[4096], d[64];
                if (sscanf(line, "%*s %*s %63s %*s %4095s", d, mp) == 2 && strcmp(mp, real) == 0)
                        memcpy(dev, d, sizeof(dev));
        }
        char path[PATH_MAX];
        if (!*dev || path_join(path, sizeof(path), "/sys/class/bdi", dev, "read_ahead_kb", NULL) < 0)
                return;
        _cleanup_fclose_ FILE *ra = fopen(path, "we");
        if (ra)
                fputs("1024\n", ra);
}

/* Going to the background forks, and gRPC does not survive a fork once its
 * threads run. So the process forks first, before any gRPC; the parent
 * waits for the child's word that the mount is up (or for its exit status)
 * and exits with it, so `ckptfs MOUNT` still reports errors synchronously. */
static int fork_background(int *ret_fd) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid > 0) {
                close(p[1]);
                char c;
                ssize_t n;
                do
                        n = read(p[0], &c, 1);
                while (n < 0 && errno == EINTR);
                if (n == 1)
                        _exit(EXIT_SUCCESS);
                int st;
                if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
                        _exit(EXIT_FAILURE);
                _exit(WEXITSTATUS(st));
        }
        close(p[0]);
        *ret_fd = p[1];
        return 0;
}

/* In the child, once mounted: leave the session and the terminal, tell the
 * parent. */
static void detach(int fd) {
        (void) setsid();
        (void) chdir("/");
        int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (nul >= 0) {
                dup2(nul, STDIN_FILENO);
                dup2(nul, STDOUT_FILENO);
                dup2(nul, STDERR_FILENO);
                if (nul > STDERR_FILENO)
                        close(nul);
        }
        char ok = 0;
        (void) !write(fd, &ok, 1);
        close(fd);
}


/* What a running ckptfs holds, torn down in reverse. */
typedef struct ckptfs_daemon {
        fs_ctx ctx;
        char *cache_path;
        views_notifier *notifier;
        bool handlers, mounted;
        int parent_fd;         /* the waiting parent (background), else -1 */
        char *journal_dir;     /* NULL: checkpoints are not journaled */
        int guard_fd;          /* the guardian's pipe, kept open for our life */
        char *registry_auth;   /* absolute --registry-auth */
} ckptfs_daemon;

/* Settings from the environment, read here only (documented). */
static void settings_from_env(ckptfs_daemon *d) {
        const char *work_dir = getenv("CKPTFS_WORK_DIR");
        if (work_dir && work_dir[0] == '/')
                (void) ckpt_registry_set_work_dir(d->ctx.ckpt, work_dir);
        const char *upload = getenv("CKPTFS_CHECKPOINT_UPLOAD");
        if (upload && strcmp(upload, "stream") == 0)
                (void) ckpt_registry_set_upload_mode(d->ctx.ckpt, CKPT_UPLOAD_STREAM);
        /* Test only: proves the recovery by dying midway. */
        const char *fault = getenv("CKPTFS_TEST_FAULT");
        if (fault && ckpt_registry_set_fault(d->ctx.ckpt, fault) < 0)
                log_warning("CKPTFS_TEST_FAULT=%s: not STAGE[+MS]; ignored", fault);
}

/* The journal of checkpoints of this containerd and the guardian that
 * finishes what we leave if we die: before any thread or gRPC exists (it
 * forks). Without them ckptfs still works, with less safety: said once. */
static void start_guardian(ckptfs_daemon *d, const options *o) {
        const char *address = o->address ? o->address : RPC_DEFAULT_ADDRESS;
        if (strncmp(address, "unix://", 7) == 0)
                address += 7;   /* the same containerd as its path */
        int r = ckpt_journal_dir(NULL, address, &d->journal_dir);
        if (r < 0) {
                log_warning_errno(r, "no journal of checkpoints in " CKPT_JOURNAL_ROOT
                                     ": a task is not resumed if ckptfs dies during its checkpoint");
                return;
        }
        ckpt_guard_config cfg = { .address = address, .timeout_ms = o->timeout_ms, .journal_dir = d->journal_dir,
                                  .detach = !o->foreground };
        r = ckpt_guard_spawn(&cfg, &d->guard_fd, NULL);
        if (r < 0)
                log_warning_errno(r, "no guardian process: a task is resumed only at the next start if ckptfs "
                                     "dies during its checkpoint");
}

/* What an earlier ckptfs on this containerd left midway (it died, and so
 * did its guardian): finished before we serve. */
static void recover_journal(ckptfs_daemon *d) {
        if (!d->journal_dir)
                return;
        int r = ckpt_journal_recover(d->ctx.rpc, d->journal_dir, 0);
        if (r < 0)
                log_warning_errno(r, "checkpoints left midway by an earlier ckptfs could not all be finished");
        (void) ckpt_registry_set_journal_dir(d->ctx.ckpt, d->journal_dir);
}

/* The client, and a daemon that answers: refuse to mount on one we cannot
 * reach (a clear error now beats a tree of EIO later). */
static int connect_containerd(ckptfs_daemon *d, const options *o) {
        const char *address = o->address ? o->address : RPC_DEFAULT_ADDRESS;
        /* gRPC polls a channel with no call in flight this often: so that a
         * reconnect happens within ~1 s after containerd comes back. */
        (void) setenv("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS", "100", 0);
        int r = rpc_client_new(address, o->timeout_ms, &d->ctx.rpc);
        if (r < 0)
                return log_error_errno(r, "bad containerd address '%s'", address);
        rpc_error err = { 0 };
        _cleanup_pb_msg_ rpc_version *ver = NULL;
        r = rpc_version_get(d->ctx.rpc, NULL, &ver, &err);
        if (r < 0) {
                /* rpc names the socket in its "not reachable" message already. */
                const char *sock = rpc_client_address(d->ctx.rpc);
                if (strstr(err.message, sock))
                        log_error("%s", err.message);
                else
                        log_error("cannot reach containerd at %s: %s", sock, err.message);
                return r;
        }
        return 0;
}

/* The live view, inode table, checkpoint registry, and for checkpoint
 * images the cache, blobs, views and catalog (loaded from the cache now;
 * synced by its thread once we serve). */
static int open_store(ckptfs_daemon *d, const options *o) {
        fs_ctx *ctx = &d->ctx;
        int r;
        if ((r = store_live_new(ctx->rpc, o->ns, &ctx->live)) < 0 || (r = inode_table_new(&ctx->inodes)) < 0 ||
            (r = ckpt_registry_new(&ctx->ckpt)) < 0 || (r = restore_registry_new(&ctx->restore)) < 0)
                return log_error_errno(r, "cannot set up");
        settings_from_env(d);
        (void) ckpt_registry_set_keep(ctx->ckpt, o->keep);
        recover_journal(d);
        d->cache_path = o->cache ? strdup(o->cache) : default_cache_path(rpc_client_address(ctx->rpc));
        if (!d->cache_path)
                return log_error_errno(ENOMEM, "cannot set up");
        if ((r = store_db_open(d->cache_path, &ctx->db)) < 0)
                return log_error_errno(r, "cannot open the cache %s", d->cache_path);
        if ((r = store_blobs_new(ctx->rpc, o->content_root, &ctx->blobs)) < 0 ||
            (r = store_views_new(ctx->db, ctx->blobs, &ctx->views)) < 0)
                return log_error_errno(r, "cannot set up the blob store");
        if (!o->content_root)
                (void) store_blobs_discover_root(ctx->blobs);
        (void) ckpt_registry_set_content_root(ctx->ckpt, store_blobs_root(ctx->blobs));
        (void) restore_registry_set_content_root(ctx->restore, store_blobs_root(ctx->blobs));
        if ((r = store_catalog_new(ctx->rpc, ctx->db, ctx->blobs, o->ns, &ctx->catalog)) < 0)
                return log_error_errno(r, "cannot set up the catalog");
        if ((r = registry_reports_new(&ctx->reports)) < 0)
                return log_error_errno(r, "cannot set up");
        /* absolute: the daemon leaves its working directory */
        if (o->registry_auth && !(d->registry_auth = realpath(o->registry_auth, NULL)))
                return log_error_errno(errno, "--registry-auth %s", o->registry_auth);
        ctx->registry_auth = d->registry_auth;
        return 0;
}

/* The session, mounted; in the background, detached from the terminal
 * (logging to syslog from then on); then the threads (fork keeps none). */
static int start_session(ckptfs_daemon *d, const options *o, struct fuse_args *args, int level) {
        fs_ctx *ctx = &d->ctx;
        ctx->se = fuse_session_new(args, &fs_ops, sizeof(fs_ops), ctx);
        if (!ctx->se)
                return -EINVAL;   /* libfuse said why */
        if (fuse_set_signal_handlers(ctx->se) != 0)
                return -EINVAL;
        d->handlers = true;
        if (fuse_session_mount(ctx->se, o->mountpoint) != 0)
                return -EINVAL;
        d->mounted = true;
        if (d->parent_fd >= 0) {
                detach(TAKE_FD(d->parent_fd));
                log_setup(LOG_TARGET_SYSLOG, level, "ckptfs");
        }
        raise_readahead(o->mountpoint);
        int r;
        if ((r = views_notifier_new(ctx, &d->notifier)) < 0 ||
            (r = store_catalog_start(ctx->catalog, views_notify_cb, d->notifier)) < 0)
                return log_error_errno(r, "cannot start");
        return 0;
}

/* Serves until unmounted or signalled. EXIT_SUCCESS or EXIT_FAILURE. */
static int serve(ckptfs_daemon *d) {
        struct fuse_loop_config *cfg = fuse_loop_cfg_create();
        if (!cfg)
                return EXIT_FAILURE;
        /* Checkpoints block their writer for seconds: keep enough threads
         * that browsing goes on meanwhile. */
        fuse_loop_cfg_set_max_threads(cfg, 16);
        /* FUSE_USE_VERSION >= 312 matters: with an older one this is the
         * 3.2 entry point, which reads this config as the old struct (clone_fd
         * on, no idle threads: a thread and a /dev/fuse clone per request, a
         * warm `find` 10x slower). */
        int r = fuse_session_loop_mt(d->ctx.se, cfg);
        fuse_loop_cfg_destroy(cfg);
        /* libfuse returns the number of the signal that ended the loop
         * (SIGTERM, SIGINT, SIGHUP): a clean stop, not a failure. */
        return r >= 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

static void teardown(ckptfs_daemon *d) {
        fs_ctx *ctx = &d->ctx;
        /* The catalog's thread feeds the notifier, which uses the session. */
        ctx->catalog = store_catalog_free(ctx->catalog);
        d->notifier = views_notifier_free(d->notifier);
        if (d->mounted) {
                fuse_session_unmount(ctx->se);
                log_info("unmounted %s", ctx->mountpoint);
        }
        if (d->handlers)
                fuse_remove_signal_handlers(ctx->se);
        if (ctx->se)
                fuse_session_destroy(ctx->se);
        fs_passthrough_free(ctx->pt);
        ckpt_registry_free(ctx->ckpt);
        restore_registry_free(ctx->restore);
        registry_reports_free(ctx->reports);
        free(d->registry_auth);
        inode_table_free(ctx->inodes);
        store_live_free(ctx->live);
        store_views_free(ctx->views);
        store_blobs_free(ctx->blobs);
        store_db_close(ctx->db);
        free(d->cache_path);
        rpc_client_free(ctx->rpc);
        /* Last: the guardian then finds nothing left to do, and exits. */
        if (d->guard_fd >= 0)
                close(d->guard_fd);
        free(d->journal_dir);
}

static int run(const options *o, struct fuse_args *args, int level) {
        ckptfs_daemon d = {
                .ctx = { .uid = getuid(), .gid = getgid(), .allow_other = o->allow_other,
                         .no_passthrough = o->no_passthrough, .mountpoint = o->mountpoint },
                .parent_fd = -1,
                .guard_fd = -1,
        };
        clock_gettime(CLOCK_REALTIME, &d.ctx.mount_time);
        int r;
        if (!o->foreground && (r = fork_background(&d.parent_fd)) < 0) {
                log_error_errno(r, "cannot go to the background");
                return EXIT_FAILURE;
        }
        start_guardian(&d, o);
        int status = EXIT_FAILURE;
        if (connect_containerd(&d, o) >= 0 && open_store(&d, o) >= 0) {
                d.ctx.cache_path = d.cache_path;
                if (start_session(&d, o, args, level) >= 0)
                        status = serve(&d);
        }
        teardown(&d);
        return status;
}

int main(int argc, char **argv) {
        options o = { .timeout_ms = RPC_DEFAULT_TIMEOUT_MS, .log_level = -1 };
        struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
        int status = 2;
        if (options_parse(&args, &o) < 0)
                options_usage(stderr);
        else if (o.help) {
                options_usage(stdout);
                status = EXIT_SUCCESS;
        } else if (o.version) {
                printf("ckptfs %s (libfuse %s, FUSE passthrough %s)\n", CKPTFS_VERSION, fuse_pkgversion(),
                       CKPTFS_FUSE_PASSTHROUGH ? "built in" : "not built in");
                status = EXIT_SUCCESS;
        } else {
                /* -d is for debugging: every message too, unless a level was asked for. */
                int level = o.log_level >= 0 ? o.log_level : o.debug ? LOG_DEBUG : LOG_INFO;
                log_setup(LOG_TARGET_STDERR, level, "ckptfs");
                status = run(&o, &args, level);
        }
        fuse_opt_free_args(&args);
        options_done(&o);
        return status;
}
