/* ckptfs: containerd checkpoints as files. */
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blob.h"
#include "catalog.h"
#include "checkpoint.h"
#include "containerd.h"
#include "db.h"
#include "views.h"
#include "passthrough.h"
#include "views-notify.h"

#define DEFAULT_CACHE_DIR "/var/lib/ckptfs"

static void usage(FILE *f) {
        fprintf(f,
                "usage: ckptfs [OPTIONS] MOUNTPOINT\n"
                "Shows the containers and checkpoints of a containerd as files.\n\n"
                "  -a, --address SOCKET   containerd socket (default %s)\n"
                "  -n, --namespace NS     show only this namespace (default: all)\n"
                "  -t, --timeout MS       deadline of each containerd call (default %d)\n"
                "      --cache FILE       the sqlite metadata cache (default " DEFAULT_CACHE_DIR "/cache.db,\n"
                "                         or cache-<hash of the socket>.db for other sockets)\n"
                "      --content-root DIR containerd's content store (the directory holding\n"
                "                         blobs/sha256) when containerd cannot tell us\n"
                "      --no-passthrough   serve whole blobs by READ, not by FUSE passthrough\n"
                "  -f                     stay in the foreground\n"
                "  -d                     debug: foreground, log every FUSE request\n"
                "  -o OPTS                mount options (e.g. allow_other; the mount is\n"
                "                         private to root unless allow_other is given)\n"
                "  -h, --help             this text\n"
                "  -V, --version          the version\n",
                RPC_DEFAULT_ADDRESS, RPC_DEFAULT_TIMEOUT_MS);
}

typedef struct options {
        const char *address;
        const char *ns;
        long timeout_ms;
        const char *cache;
        const char *content_root;
        bool foreground, debug, no_passthrough;
        char *mount_opts;    /* comma-separated, user's -o joined */
        const char *mountpoint;
} options;

/* 0 to go on, 1 to exit 0 (help/version), -EINVAL on bad usage. */
static int parse_args(int argc, char **argv, options *o) {
        static const struct option longopts[] = {
                { "address", required_argument, NULL, 'a' },
                { "namespace", required_argument, NULL, 'n' },
                { "timeout", required_argument, NULL, 't' },
                { "cache", required_argument, NULL, 'C' },
                { "content-root", required_argument, NULL, 'R' },
                { "no-passthrough", no_argument, NULL, 'P' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        *o = (options) { .address = RPC_DEFAULT_ADDRESS, .timeout_ms = RPC_DEFAULT_TIMEOUT_MS };
        int c;
        while ((c = getopt_long(argc, argv, "a:n:t:fdo:hV", longopts, NULL)) >= 0) {
                switch (c) {
                case 'a':
                        o->address = optarg;
                        break;
                case 'n':
                        o->ns = optarg;
                        break;
                case 't': {
                        char *end;
                        errno = 0;
                        o->timeout_ms = strtol(optarg, &end, 10);
                        if (errno || *end || o->timeout_ms <= 0) {
                                fprintf(stderr, "ckptfs: --timeout wants a positive number of milliseconds, not '%s'\n",
                                        optarg);
                                return -EINVAL;
                        }
                        break;
                }
                case 'C':
                        o->cache = optarg;
                        break;
                case 'R':
                        o->content_root = optarg;
                        break;
                case 'P':
                        o->no_passthrough = true;
                        break;
                case 'f':
                        o->foreground = true;
                        break;
                case 'd':
                        o->debug = o->foreground = true;
                        break;
                case 'o': {
                        char *joined;
                        if (asprintf(&joined, "%s%s%s", o->mount_opts ? o->mount_opts : "", o->mount_opts ? "," : "",
                                     optarg) < 0)
                                return -ENOMEM;
                        free(o->mount_opts);
                        o->mount_opts = joined;
                        break;
                }
                case 'h':
                        usage(stdout);
                        return 1;
                case 'V':
                        printf("ckptfs %s (libfuse %s, FUSE passthrough %s)\n", CKPTFS_VERSION, fuse_pkgversion(),
                               CKPTFS_FUSE_PASSTHROUGH ? "built in" : "not built in");
                        return 1;
                default:
                        usage(stderr);
                        return -EINVAL;
                }
        }
        if (optind != argc - 1) {
                fprintf(stderr, "ckptfs: %s\n", optind >= argc ? "missing MOUNTPOINT" : "too many arguments");
                usage(stderr);
                return -EINVAL;
        }
        o->mountpoint = argv[optind];
        return 0;
}

static bool has_mount_opt(const char *opts, const char *name) {
        size_t n = strlen(name);
        for (const char *p = opts; p && *p;) {
                if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == 0))
                        return true;
                p = strchr(p, ',');
                p = p ? p + 1 : NULL;
        }
        return false;
}

/* The default cache file: one per containerd socket, so that mounts of
 * different daemons never share (and fight over) one database. */
static char *default_cache_path(const char *address) {
        char *p = NULL;
        if (strcmp(address, RPC_DEFAULT_ADDRESS) == 0)
                return strdup(DEFAULT_CACHE_DIR "/cache.db");
        uint64_t h = 1469598103934665603ULL;
        for (const char *c = address; *c; c++)
                h = (h ^ (unsigned char) *c) * 1099511628211ULL;
        if (asprintf(&p, DEFAULT_CACHE_DIR "/cache-%016llx.db", (unsigned long long) h) < 0)
                return NULL;
        return p;
}

/* A FUSE mount reads ahead 128 KiB unless its bdi says otherwise: raise it
 * for our own mount (found in mountinfo: never stat our own mount point
 * before the loop serves it). Best effort. */
static void raise_readahead(const char *mountpoint) {
        char real[4096];
        if (!realpath(mountpoint, real))
                return;
        FILE *f = fopen("/proc/self/mountinfo", "re");
        if (!f)
                return;
        char line[8192], dev[64] = "";
        while (fgets(line, sizeof(line), f)) {
                char mp[4096], d[64];
                if (sscanf(line, "%*s %*s %63s %*s %4095s", d, mp) == 2 && strcmp(mp, real) == 0)
                        snprintf(dev, sizeof(dev), "%s", d);
        }
        fclose(f);
        if (!*dev)
                return;
        char path[128];
        snprintf(path, sizeof(path), "/sys/class/bdi/%s/read_ahead_kb", dev);
        FILE *ra = fopen(path, "we");
        if (ra) {
                fputs("1024\n", ra);
                fclose(ra);
        }
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

int main(int argc, char **argv) {
        options o;
        int r = parse_args(argc, argv, &o);
        if (r != 0)
                return r > 0 ? EXIT_SUCCESS : 2;

        fs_ctx ctx = { .uid = getuid(), .gid = getgid(), .allow_other = has_mount_opt(o.mount_opts, "allow_other"),
                       .no_passthrough = o.no_passthrough };
        clock_gettime(CLOCK_REALTIME, &ctx.mount_time);

        int status = EXIT_FAILURE;
        int parent_fd = -1;
        if (!o.foreground && (r = fork_background(&parent_fd)) < 0) {
                fprintf(stderr, "ckptfs: cannot go to the background: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        struct fuse_session *se = NULL;
        bool mounted = false, handlers = false;
        char *fuse_opts = NULL, *cache_path = NULL;
        views_notifier *notifier = NULL;

        r = rpc_client_new(o.address, o.timeout_ms, &ctx.rpc);
        if (r < 0) {
                fprintf(stderr, "ckptfs: bad containerd address '%s': %s\n", o.address, strerror(-r));
                goto out;
        }
        /* Refuse to mount on a daemon we cannot reach: a clear error now
         * beats a tree of EIO later. */
        rpc_error err = { 0 };
        _cleanup_pb_msg_ rpc_version *ver = NULL;
        r = rpc_version_get(ctx.rpc, NULL, &ver, &err);
        if (r < 0) {
                /* rpc names the socket in its "not reachable" message already. */
                if (strstr(err.message, rpc_client_address(ctx.rpc)))
                        fprintf(stderr, "ckptfs: %s\n", err.message);
                else
                        fprintf(stderr, "ckptfs: cannot reach containerd at %s: %s\n", rpc_client_address(ctx.rpc),
                                err.message);
                goto out;
        }
        if ((r = store_live_new(ctx.rpc, o.ns, &ctx.live)) < 0 || (r = inode_table_new(&ctx.inodes)) < 0 ||
            (r = ckpt_registry_new(&ctx.ckpt)) < 0) {
                fprintf(stderr, "ckptfs: %s\n", strerror(-r));
                goto out;
        }
        /* Settings from the environment, read here only (documented). */
        const char *work_dir = getenv("CKPTFS_WORK_DIR");
        if (work_dir && work_dir[0] == '/')
                (void) ckpt_registry_set_work_dir(ctx.ckpt, work_dir);
        const char *upload = getenv("CKPTFS_CHECKPOINT_UPLOAD");
        if (upload && strcmp(upload, "stream") == 0)
                (void) ckpt_registry_set_upload_mode(ctx.ckpt, CKPT_UPLOAD_STREAM);

        /* Checkpoint images: the cache, blobs, catalog (loaded from the
         * cache now; synced by its thread once we serve). */
        cache_path = o.cache ? strdup(o.cache) : default_cache_path(rpc_client_address(ctx.rpc));
        if (!cache_path)
                goto out;
        if ((r = store_db_open(cache_path, &ctx.db)) < 0) {
                fprintf(stderr, "ckptfs: cannot open the cache %s: %s\n", cache_path, strerror(-r));
                goto out;
        }
        if (store_db_moved_aside(ctx.db))
                fprintf(stderr, "ckptfs: the cache %s could not be trusted; moved to %s and rebuilt\n", cache_path,
                        store_db_moved_aside(ctx.db));
        if ((r = store_blobs_new(ctx.rpc, o.content_root, &ctx.blobs)) < 0 ||
            (r = store_views_new(ctx.db, ctx.blobs, &ctx.views)) < 0) {
                fprintf(stderr, "ckptfs: %s\n", strerror(-r));
                goto out;
        }
        if (!o.content_root)
                (void) store_blobs_discover_root(ctx.blobs);
        if ((r = store_catalog_new(ctx.rpc, ctx.db, ctx.blobs, o.ns, &ctx.catalog)) < 0) {
                fprintf(stderr, "ckptfs: %s\n", strerror(-r));
                goto out;
        }

        if (asprintf(&fuse_opts, "fsname=ckptfs,subtype=ckptfs,default_permissions%s%s", o.mount_opts ? "," : "",
                     o.mount_opts ? o.mount_opts : "") < 0)
                goto out;
        char *fargv[] = { argv[0], "-o", fuse_opts, o.debug ? "-d" : NULL, NULL };
        struct fuse_args args = FUSE_ARGS_INIT(o.debug ? 4 : 3, fargv);
        se = fuse_session_new(&args, &fs_ops, sizeof(fs_ops), &ctx);
        fuse_opt_free_args(&args);
        if (!se)
                goto out;   /* libfuse said why */
        ctx.se = se;
        if (fuse_set_signal_handlers(se) != 0)
                goto out;
        handlers = true;
        if (fuse_session_mount(se, o.mountpoint) != 0)
                goto out;
        mounted = true;
        if (parent_fd >= 0) {
                detach(parent_fd);
                parent_fd = -1;
        }
        raise_readahead(o.mountpoint);
        /* Threads only after daemonizing (fork keeps none). */
        if ((r = views_notifier_new(&ctx, &notifier)) < 0 ||
            (r = store_catalog_start(ctx.catalog, views_notify_cb, notifier)) < 0) {
                fprintf(stderr, "ckptfs: %s\n", strerror(-r));
                goto out;
        }

        struct fuse_loop_config *cfg = fuse_loop_cfg_create();
        if (!cfg)
                goto out;
        /* Checkpoints block their writer for seconds: keep enough threads
         * that browsing goes on meanwhile. */
        fuse_loop_cfg_set_max_threads(cfg, 16);
        /* FUSE_USE_VERSION >= 312 matters: with an older one this is the
         * 3.2 entry point, which reads this config as the old struct (clone_fd
         * on, no idle threads: a thread and a /dev/fuse clone per request, a
         * warm `find` 10x slower). */
        r = fuse_session_loop_mt(se, cfg);
        fuse_loop_cfg_destroy(cfg);
        /* libfuse returns the number of the signal that ended the loop
         * (SIGTERM, SIGINT, SIGHUP): a clean stop, not a failure. */
        status = r >= 0 ? EXIT_SUCCESS : EXIT_FAILURE;

out:
        /* The catalog's thread feeds the notifier, which uses the session. */
        ctx.catalog = store_catalog_free(ctx.catalog);
        notifier = views_notifier_free(notifier);
        if (mounted)
                fuse_session_unmount(se);
        if (handlers)
                fuse_remove_signal_handlers(se);
        if (se)
                fuse_session_destroy(se);
        fs_passthrough_free(ctx.pt);
        ckpt_registry_free(ctx.ckpt);
        inode_table_free(ctx.inodes);
        store_live_free(ctx.live);
        store_views_free(ctx.views);
        store_blobs_free(ctx.blobs);
        store_db_close(ctx.db);
        free(cache_path);
        rpc_client_free(ctx.rpc);
        free(fuse_opts);
        free(o.mount_opts);
        return status;
}
