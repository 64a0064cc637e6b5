#include "options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "log.h"
#include "rpc.h"

void options_usage(FILE *f) {
        fprintf(f,
                "usage: ckptfs [OPTIONS] [SOURCE] MOUNTPOINT\n"
                "Shows the containers and checkpoints of a containerd as files.\n\n"
                "  -a, --address SOCKET   containerd socket (default %s)\n"
                "  -n, --namespace NS     show only this namespace (default: all)\n"
                "  -t, --timeout MS       deadline of each containerd call (default %d)\n"
                "      --cache FILE       the sqlite metadata cache (default " CKPTFS_CACHE_DIR "/cache.db,\n"
                "                         or cache-<hash of the socket>.db for other sockets)\n"
                "      --content-root DIR containerd's content store (the directory holding\n"
                "                         blobs/sha256) when containerd cannot tell us\n"
                "      --registry-auth FILE  credentials of push/pull: a docker-style config.json\n"
                "      --no-passthrough   serve whole blobs by READ, not by FUSE passthrough\n"
                "      --log-level LEVEL  error, warning, info (default) or debug\n"
                "      --keep N           after each checkpoint keep only the newest N that\n"
                "                         ckptfs made of that container (a command's keep=N wins)\n"
                "  -f                     stay in the foreground\n"
                "  -d                     debug: foreground, log every FUSE request, level debug\n"
                "  -o OPTS                mount options (e.g. allow_other; the mount is\n"
                "                         private to root unless allow_other is given), and\n"
                "                         the settings above as address=, namespace=, timeout=,\n"
                "                         cache=, content_root=, no_passthrough, log_level=, keep=,\n"
                "                         registry_auth=\n"
                "  -h, --help             this text\n"
                "  -V, --version          the version\n"
                "SOURCE is ignored: mount -t fuse.ckptfs none MOUNTPOINT -o address=SOCKET\n",
                RPC_DEFAULT_ADDRESS, RPC_DEFAULT_TIMEOUT_MS);
}

void options_done(options *o) {
        free(o->address);
        free(o->ns);
        free(o->cache);
        free(o->content_root);
        free(o->registry_auth);
        free(o->source);
        free(o->mountpoint);
}

enum {
        KEY_ADDRESS,
        KEY_NAMESPACE,
        KEY_TIMEOUT,
        KEY_CACHE,
        KEY_CONTENT_ROOT,
        KEY_REGISTRY_AUTH,
        KEY_LOG_LEVEL,
        KEY_KEEP,
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
        FUSE_OPT_KEY("--registry-auth ", KEY_REGISTRY_AUTH),
        FUSE_OPT_KEY("registry_auth=", KEY_REGISTRY_AUTH),
        FUSE_OPT_KEY("--log-level ", KEY_LOG_LEVEL),
        FUSE_OPT_KEY("log_level=", KEY_LOG_LEVEL),
        FUSE_OPT_KEY("--keep ", KEY_KEEP),
        FUSE_OPT_KEY("keep=", KEY_KEEP),
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

static int parse_keep(const char *v, unsigned *ret) {
        char *end;
        errno = 0;
        unsigned long n = strtoul(v, &end, 10);
        if (errno || end == v || *end || v[0] == '-' || n == 0 || n > 1000) {
                log_error("keep wants a number of checkpoints from 1 to 1000, not '%s'", v);
                return -EINVAL;
        }
        *ret = (unsigned) n;
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
        case KEY_REGISTRY_AUTH: return set_string(&o->registry_auth, v);
        case KEY_LOG_LEVEL: return parse_log_level(v, &o->log_level);
        case KEY_KEEP: return parse_keep(v, &o->keep);
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
int options_parse(struct fuse_args *args, options *o) {
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
