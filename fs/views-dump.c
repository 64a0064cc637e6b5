/* The CRIU dump behind a node, as store/criu's decoders open it
 * (ckpt-views.h). */
#include "ckpt-views.h"

#include <errno.h>

int views_dump_of(fs_ctx *ctx, const fs_node *n, views_dump *ret) {
        views_dump d = { .ctx = ctx, .ns = NODE_NS(n) };
        int r = views_criu_tar_of(ctx, n, &d.desc, &d.tar, &d.rest, NULL);
        if (r < 0)
                return r;
        *ret = d;
        return 0;
}

void views_dump_clear(views_dump *d) {
        store_desc_clear(&d->desc);
}

int views_dump_open(void *userdata, const char *name, struct store_reader **ret_reader) {
        const views_dump *d = userdata;
        return views_criu_member(d->ctx, d->ns, &d->desc, d->tar, name, ret_reader);
}

int views_dump_errno(int r) {
        return r == -EBADMSG || r == -EOPNOTSUPP ? -EIO : r;
}
