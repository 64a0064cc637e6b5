/* ckptfs: containerd checkpoints as files. main() reads the command line
 * and the environment (nowhere else is either read), sets up logging, the
 * store and the session, and serves until unmounted. */
#include "fs.h"

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
#include "checkpoint.h"
#include "cleanup.h"
#include "containerd.h"
#include "db.h"
#include "hash.h"
#include "log.h"
#include "path.h"
#include "views.h"
#include "passthrough.h"
#include "views-notify.h"

#define DEFAULT_CACHE_DIR "/var/lib/ckptfs"

static void usage(FILE *f) {
        fprintf(f,
                "usage: ckptfs [OPTIONS] [SOURCE] MOUNTPOINT\n"
                "Shows the containers and checkpoints of a containerd as files.\n\n"
                "  -a, --address SOCKET   containerd socket (default %s)\n"
                "  -n, --namespace NS     show only this namespace (default: all)\n"
                "  -t, --timeout MS       deadline of each containerd call (default %d)\n"
                "      --cache FILE       the sqlite metadata cache (default " DEFAULT_CACHE_DIR "/cache.db,\n"
                "                         or cache-<hash of the socket>.db for other sockets)\n"
                "      --content-root DIR containerd's content store (the directory holding\n"
                "                         blobs/sha256) when containerd cannot tell us\n"
                "      --no-passthrough   serve whole blobs by READ, not by FUSE passthrough\n"
                "      --log-level LEVEL  error, warning, info (default) or debug\n"
                "  -f                     stay in the foreground\n"
                "  -d                     debug: foreground, log every FUSE request, level debug\n"
                "  -o OPTS                mount options (e.g. allow_other; the mount is\n"
                "                         private to root unless allow_other is given), and\n"
                "                         the settings above as address=, namespace=, timeout=,\n"
                "                         cache=, content_root=, no_passthrough, log_level=\n"
                "  -h, --help             this text\n"
                "  -V, --version          the version\n"
                "SOURCE is ignored: mount -t fuse.ckptfs none MOUNTPOINT -o address=SOCKET\n",
                RPC_DEFAULT_ADDRESS, RPC_DEFAULT_TIMEOUT_MS);
}

typedef struct options {
        char *address;         /* NULL: RPC_DEFAULT_ADDRESS */
        char *ns;
        long timeout_ms;
        char *cache;
        char *content_root;
        int log_level;         /* -1: not given */
        bool foreground, debug, no_passthrough, allow_other, help, version;
        char *source;          /* ignored: mount(8) passes one */
        char *mountpoint;
} options;

static void options_done(options *o) {
        free(o->address);
        free(o->ns);
        free(o->cache);
        free(o->content_root);
        free(o->source);
        free(o->mountpoint);
}

enum {
        KEY_ADDRESS,
        KEY_NAMESPACE,
        KEY_TIMEOUT,
        KEY_CACHE,
        KEY_CONTENT_ROOT,
        KEY_LOG_LEVEL,
        KEY_NO_PASSTHROUGH,
        KEY_FOREGROUND,
        KEY_DEBUG,
        KEY_HELP,
        KEY_VERSION,
        KEY_ALLOW_OTHER,
};

/* Each setting three ways: "-x VALUE" or "--name VALUE" (also
 * "--name=VALUE", which the same template matches) on the command line,
 * and "name=VALUE" among the -o options (for mount -t fuse.ckptfs). */
#define SETTING(s, l, o, key) FUSE_OPT_KEY(s, key), FUSE_OPT_KEY(l, key), FUSE_OPT_KEY(o, key)
static const struct fuse_opt option_spec[] = {
        SETTING("-a ", "--address ", "address=", KEY_ADDRESS),
        SETTING("-n ", "--namespace ", "namespace=", KEY_NAMESPACE),
        SETTING("-t ", "--timeout ", "timeout=", KEY_TIMEOUT),
        FUSE_OPT_KEY("--cache ", KEY_CACHE),
        FUSE_OPT_KEY("cache=", KEY_CACHE),
        FUSE_OPT_KEY("--content-root ", KEY_CONTENT_ROOT),
        FUSE_OPT_KEY("content_root=", KEY_CONTENT_ROOT),
        FUSE_OPT_KEY("--log-level ", KEY_LOG_LEVEL),
        FUSE_OPT_KEY("log_level=", KEY_LOG_LEVEL),
        FUSE_OPT_KEY("--no-passthrough", KEY_NO_PASSTHROUGH),
        FUSE_OPT_KEY("no_passthrough", KEY_NO_PASSTHROUGH),
        FUSE_OPT_KEY("-f", KEY_FOREGROUND),
        FUSE_OPT_KEY("-d", KEY_DEBUG),
        FUSE_OPT_KEY("-h", KEY_HELP),
        FUSE_OPT_KEY("--help", KEY_HELP),
        FUSE_OPT_KEY("-V", KEY_VERSION),
        FUSE_OPT_KEY("--version", KEY_VERSION),
        FUSE_OPT_KEY("allow_other", KEY_ALLOW_OTHER),
        FUSE_OPT_END,
};

/* The value of a setting: what follows the template it matched ("-aVALUE";
 * "--address VALUE" reaches us as "--addressVALUE"; "--address=VALUE",
 * "address=VALUE"). */
static const char *value_of(const char *arg, int key) {
        for (const struct fuse_opt *t = option_spec; t->templ; t++) {
                size_t n = strlen(t->templ);
                bool spaced = n > 0 && t->templ[n - 1] == ' ';
                if (t->value != key || strncmp(arg, t->templ, spaced ? n - 1 : n) != 0)
                        continue;
                const char *v = arg + (spaced ? n - 1 : n);
                return spaced && *v == '=' ? v + 1 : v;
        }
        return arg;
}

static int set_string(char **dst, const char *v) {
        char *c = strdup(v);
        if (!c)
                return -ENOMEM;
        free(*dst);
        *dst = c;
        return 0;
}

static int parse_timeout(const char *v, long *ret) {
        char *end;
        errno = 0;
        long t = strtol(v, &end, 10);
        if (errno || end == v || *end || t <= 0) {
                log_error("--timeout wants a positive number of milliseconds, not '%s'", v);
                return -EINVAL;
        }
        *ret = t;
        return 0;
}

static int parse_log_level(const char *v, int *ret) {
        int l = log_level_from_string(v);
        if (l < 0) {
                log_error("--log-level wants error, warning, info or debug, not '%s'", v);
                return -EINVAL;
        }
        *ret = l;
        return 0;
}

/* A setting with a value. 0 or -errno. */
static int set_option(options *o, int key, const char *v) {
        switch (key) {
        case KEY_ADDRESS: return set_string(&o->address, v);
        case KEY_NAMESPACE: return set_string(&o->ns, v);
        case KEY_TIMEOUT: return parse_timeout(v, &o->timeout_ms);
        case KEY_CACHE: return set_string(&o->cache, v);
        case KEY_CONTENT_ROOT: return set_string(&o->content_root, v);
        case KEY_LOG_LEVEL: return parse_log_level(v, &o->log_level);
        default: return -EINVAL;
        }
}

/* fuse_opt_parse()'s callback: 0 drops the argument, 1 keeps it for the
 * session (mount options), -1 fails the parse. */
static int option_proc(void *data, const char *arg, int key, struct fuse_args *outargs) {
        options *o = data;
        switch (key) {
        case FUSE_OPT_KEY_NONOPT:
                /* "SOURCE MOUNTPOINT", as mount.fuse3 runs us: the source
                 * names nothing (the socket is an option). */
                if (o->mountpoint && !o->source)
                        o->source = TAKE_PTR(o->mountpoint);
                else if (o->mountpoint) {
                        fprintf(stderr, "ckptfs: too many arguments\n");
                        return -1;
                }
                return set_string(&o->mountpoint, arg) < 0 ? -1 : 0;
        case FUSE_OPT_KEY_OPT:
                /* Unknown -o options are libfuse's to judge; unknown
                 * arguments are ours. */
                if (arg[0] != '-')
                        return 1;
                fprintf(stderr, "ckptfs: unknown option '%s'\n", arg);
                return -1;
        case KEY_NO_PASSTHROUGH: o->no_passthrough = true; return 0;
        case KEY_FOREGROUND: o->foreground = true; return 0;
        case KEY_DEBUG: o->debug = o->foreground = true; return 0;
        case KEY_HELP: o->help = true; return 0;
        case KEY_VERSION: o->version = true; return 0;
        case KEY_ALLOW_OTHER: o->allow_other = true; return 1;
        default: return set_option(o, key, value_of(arg, key)) < 0 ? -1 : 0;
        }
}

/* Parses the command line into *o and leaves in *args what the FUSE
 * session gets: our own mount options first, the user's after them (they
 * win), -d for libfuse's request log. 0, or -EINVAL on bad usage (said). */
static int parse_args(struct fuse_args *args, options *o) {
        if (fuse_opt_parse(args, o, option_spec, option_proc) != 0)
                return -EINVAL;
        if (o->help || o->version)
                return 0;
        if (!o->mountpoint) {
                fprintf(stderr, "ckptfs: missing MOUNTPOINT\n");
                return -EINVAL;
        }
        /* Absolute, for the paths `cat checkpoint` shows; a missing one is
         * for the mount to report. */
        char *abs = realpath(o->mountpoint, NULL);
        if (abs) {
                free(o->mountpoint);
                o->mountpoint = abs;
        }
        if (fuse_opt_insert_arg(args, 1, "-ofsname=ckptfs,subtype=ckptfs,default_permissions") != 0 ||
            (o->debug && fuse_opt_add_arg(args, "-d") != 0))
                return log_error_errno(ENOMEM, "cannot parse the options");
        return 0;
}

/* The default cache file: one per containerd socket, so that mounts of
 * different daemons never share (and fight over) one database. */
static char *default_cache_path(const char *address) {
        char *p = NULL;
        if (strcmp(address, RPC_DEFAULT_ADDRESS) == 0)
                return strdup(DEFAULT_CACHE_DIR "/cache.db");
        uint64_t h = fnv1a_str(FNV1A_INIT, address);
        if (asprintf(&p, DEFAULT_CACHE_DIR "/cache-%016llx.db", (unsigned long long) h) < 0)
                return NULL;
        return p;
}

/* A FUSE mount reads ahead 128 KiB unless its bdi says otherwise: raise it
 * for our own mount (found in mountinfo: never stat our own mount point
 * before the loop serves it). Best effort. */
static void raise_readahead(const char *mountpoint) {
        char real[PATH_MAX];
        if (!realpath(mountpoint, real))
                return;
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
} ckptfs_daemon;

/* Settings from the environment, read here only (documented). */
static void settings_from_env(ckptfs_daemon *d) {
        const char *work_dir = getenv("CKPTFS_WORK_DIR");
        if (work_dir && work_dir[0] == '/')
                (void) ckpt_registry_set_work_dir(d->ctx.ckpt, work_dir);
        const char *upload = getenv("CKPTFS_CHECKPOINT_UPLOAD");
        if (upload && strcmp(upload, "stream") == 0)
                (void) ckpt_registry_set_upload_mode(d->ctx.ckpt, CKPT_UPLOAD_STREAM);
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
            (r = ckpt_registry_new(&ctx->ckpt)) < 0)
                return log_error_errno(r, "cannot set up");
        settings_from_env(d);
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
        if ((r = store_catalog_new(ctx->rpc, ctx->db, ctx->blobs, o->ns, &ctx->catalog)) < 0)
                return log_error_errno(r, "cannot set up the catalog");
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
        inode_table_free(ctx->inodes);
        store_live_free(ctx->live);
        store_views_free(ctx->views);
        store_blobs_free(ctx->blobs);
        store_db_close(ctx->db);
        free(d->cache_path);
        rpc_client_free(ctx->rpc);
}

static int run(const options *o, struct fuse_args *args, int level) {
        ckptfs_daemon d = {
                .ctx = { .uid = getuid(), .gid = getgid(), .allow_other = o->allow_other,
                         .no_passthrough = o->no_passthrough, .mountpoint = o->mountpoint },
                .parent_fd = -1,
        };
        clock_gettime(CLOCK_REALTIME, &d.ctx.mount_time);
        int r;
        if (!o->foreground && (r = fork_background(&d.parent_fd)) < 0) {
                log_error_errno(r, "cannot go to the background");
                return EXIT_FAILURE;
        }
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
        if (parse_args(&args, &o) < 0)
                usage(stderr);
        else if (o.help) {
                usage(stdout);
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
