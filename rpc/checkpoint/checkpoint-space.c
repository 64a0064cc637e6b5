#include "checkpoint-space.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

static double mib(uint64_t b) {
        return (double) b / (1024.0 * 1024.0);
}

int ckpt_space_verdict(const ckpt_space *s, uint64_t need, char *msg, size_t n) {
        if (need == 0)
                return 0;
        uint64_t want = need + CKPT_SPACE_MARGIN;
        if (s->dump_free < want) {
                snprintf(msg, n,
                         "not enough space for the dump in %s: the task's memory needs about %.0f MiB, "
                         "%.0f MiB are free",
                         s->dump_root, mib(want), mib(s->dump_free));
                return -ENOSPC;
        }
        if (!s->content_root)
                return 0;
        /* The dump dir is removed only after its tar is in the store. */
        uint64_t store_want = s->same_fs ? 2 * need + CKPT_SPACE_MARGIN : want;
        if (s->content_free < store_want) {
                snprintf(msg, n,
                         "not enough space in containerd's content store %s for the checkpoint: it needs about "
                         "%.0f MiB%s, %.0f MiB are free",
                         s->content_root, mib(store_want), s->same_fs ? " (the dump is on the same filesystem)" : "",
                         mib(s->content_free));
                return -ENOSPC;
        }
        return 0;
}

static int room(const char *dir, uint64_t *ret_free, dev_t *ret_dev) {
        struct statvfs sv;
        struct stat st;
        if (statvfs(dir, &sv) < 0 || stat(dir, &st) < 0)
                return -errno;
        /* f_bavail: what a non-root writer gets; root's reserve is not ours
         * to fill either. */
        *ret_free = (uint64_t) sv.f_bavail * sv.f_frsize;
        *ret_dev = st.st_dev;
        return 0;
}

int ckpt_space_measure(const char *dump_root, const char *content_root, ckpt_space *ret) {
        ckpt_space s = { .dump_root = dump_root };
        dev_t dump_dev, content_dev;
        int r = room(dump_root, &s.dump_free, &dump_dev);
        if (r < 0)
                return r;
        if (content_root && room(content_root, &s.content_free, &content_dev) == 0) {
                s.content_root = content_root;
                s.same_fs = dump_dev == content_dev;
        }
        *ret = s;
        return 0;
}
