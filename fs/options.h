/* The command line and the -o options of ckptfs, parsed with
 * fuse_opt_parse(): every setting as "-x VALUE", "--name VALUE" and
 * "-o name=VALUE" (for mount -t fuse.ckptfs and /etc/fstab). */
#pragma once

#include <fuse_opt.h>
#include <stdbool.h>
#include <stdio.h>

#define CKPTFS_CACHE_DIR "/var/lib/ckptfs"

typedef struct options {
        char *address;         /* NULL: RPC_DEFAULT_ADDRESS */
        char *ns;
        long timeout_ms;
        char *cache;
        char *content_root;
        char *registry_auth;   /* --registry-auth FILE: docker-style config.json */
        int log_level;         /* -1: not given */
        unsigned keep;         /* 0: no retention */
        bool foreground, debug, no_passthrough, allow_other, help, version;
        char *source;          /* ignored: mount(8) passes one */
        char *mountpoint;
} options;

/* Parses the command line into *o (zeroed by the caller, with its
 * defaults set) and leaves in *args what the FUSE session gets: our own
 * mount options first, the user's after them (they win), -d for libfuse's
 * request log. 0, or -EINVAL on bad usage (said on stderr). */
int options_parse(struct fuse_args *args, options *o);
void options_done(options *o);
void options_usage(FILE *f);
