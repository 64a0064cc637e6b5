/* A parsed control-file command (checkpoint-request.c), as ckpt_take() and
 * the report read it. Private to rpc/checkpoint and its tests. */
#pragma once

#include "checkpoint.h"

#include <stdbool.h>
#include <stddef.h>

enum {
        CKPT_PART_TASK = 1 << 0,
        CKPT_PART_RW = 1 << 1,
        CKPT_PART_IMAGE = 1 << 2,
        CKPT_PART_RUNTIME = 1 << 3,
        CKPT_PARTS_ALL = CKPT_PART_TASK | CKPT_PART_RW | CKPT_PART_IMAGE | CKPT_PART_RUNTIME,
};

/* The largest keep=N. */
#define CKPT_KEEP_MAX 1000

struct ckpt_request {
        unsigned parts;          /* CKPT_PART_* */
        bool parts_explicit;     /* named on the command line (else: all, skipping what the container lacks) */
        bool exit, tcp, unix_sockets, terminal, file_locks;
        char **empty_ns;         /* n_empty_ns strings */
        size_t n_empty_ns;
        char *cgroups_mode;      /* NULL: runc's default */
        char *parent;            /* pre-dump parent digest, NULL: none */
        char *image_path;        /* raw dump to this dir: no image */
        char *work_path;         /* CRIU work dir (logs), kept */
        char *name;              /* image name; NULL iff image_path */
        unsigned keep;           /* keep=N: only the newest N checkpoints ckptfs made of the container; 0: unset */
        bool keep_all_names;     /* keep-all-names: the default-named ones of any maker count too */
};
