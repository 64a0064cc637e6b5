/* The `restore` file of every checkpoint dir: a write is one restore
 * (rpc/restore's restore_take(), on the writing FUSE thread, which it
 * blocks until the task runs); a read is the last result. */
#include "ctl.h"

#include <errno.h>
#include <stdlib.h>

#include "catalog.h"
#include "ckpt-views.h"
#include "cleanup.h"
#include "live.h"
#include "log.h"
#include "restore.h"

/* The checkpoint behind node n: (ns, image name), and -ENOENT once the
 * name points elsewhere (the node's salt). */
static int checkpoint_of(fs_ctx *ctx, const fs_node *n, store_ckpt *ret) {
        if (!ctx->restore)
                return -ENOENT;
        return views_ckpt_of(ctx, n, ret);
}

int ctl_restore_write(fs_ctx *ctx, const fs_node *n, const char *buf, size_t len) {
        store_ckpt ck;
        int r = checkpoint_of(ctx, n, &ck);
        if (r < 0)
                return r;
        _cleanup_(restore_request_freep) restore_request *req = NULL;
        _cleanup_free_ char *msg = NULL, *id = NULL;
        r = restore_request_parse(buf, len, &req, &msg);
        if (r < 0) {
                (void) restore_registry_note_error(ctx->restore, ck.ns, ck.name, -r, msg);
                log_error_errno(r, "restore of %s in %s: %s", ck.name, ck.ns, msg ? msg : "invalid request");
        } else
                r = restore_take(ctx->restore, ctx->rpc, ck.ns, ck.name, req, &id);
        /* Listed at once under containers/, whatever its event does. */
        if (r >= 0 && ctx->live)
                store_live_invalidate_container(ctx->live, ck.ns, NULL);
        store_ckpt_clear(&ck);
        return r;
}

int ctl_restore_read(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len) {
        store_ckpt ck;
        int r = checkpoint_of(ctx, n, &ck);
        if (r < 0)
                return r;
        char *text = NULL;
        r = restore_registry_last_report(ctx->restore, ck.ns, ck.name, &text);
        store_ckpt_clear(&ck);
        return r < 0 ? r : fs_content_string(text, ret, ret_len);
}
