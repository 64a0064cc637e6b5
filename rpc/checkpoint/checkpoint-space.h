/* Room for a checkpoint, checked before the task is paused: CRIU's dump
 * goes into the dump directory, then (as a tar of the same size, plus the
 * rw diff) into containerd's content store. A checkpoint that cannot fit
 * fails at once with -ENOSPC and a message naming the place and the sizes,
 * the task never paused. Thread-safe. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Slack kept free on top of what the dump needs: page tables, CRIU's own
 * images, metadata. */
#define CKPT_SPACE_MARGIN (16ull << 20)

typedef struct ckpt_space {
        const char *dump_root;      /* where the dump directory goes */
        uint64_t dump_free;         /* bytes free there for us */
        const char *content_root;   /* the content store (NULL: unknown, not checked) */
        uint64_t content_free;
        bool same_fs;               /* both on one filesystem: they add up */
} ckpt_space;

/* The verdict for a dump of `need` bytes (0: unknown, always fits): 0, or
 * -ENOSPC with a sentence in msg (n bytes) saying which place lacks room
 * and the sizes. Pure. */
int ckpt_space_verdict(const ckpt_space *s, uint64_t need, char *msg, size_t n);

/* Fills s from statvfs(2) of the two directories (content_root may be
 * NULL); -errno when dump_root cannot be examined. */
int ckpt_space_measure(const char *dump_root, const char *content_root, ckpt_space *ret);
