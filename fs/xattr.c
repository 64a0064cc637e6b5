/* Extended attributes: read-only, from each kind's xattrs(). */
#include "fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int collect(fs_ctx *ctx, const fs_node *n, fs_xattrs *x) {
        const fs_kind_ops *k = &fs_kinds[n->kind];
        return k->xattrs ? k->xattrs(ctx, n, x) : 0;
}

/* size 0 asks for the length; a buffer too small is ERANGE. */
void fs_reply_getxattr(fuse_req_t req, fs_ctx *ctx, const fs_node *n, const char *name, size_t size) {
        fs_xattrs x = { 0 };
        int r = collect(ctx, n, &x);
        if (r < 0) {
                fuse_reply_err(req, -r);
                return;
        }
        const fs_xattr *hit = NULL;
        for (size_t i = 0; i < x.n && !hit; i++)
                if (strcmp(x.v[i].name, name) == 0)
                        hit = &x.v[i];
        if (!hit)
                fuse_reply_err(req, ENODATA);
        else if (size == 0)
                fuse_reply_xattr(req, hit->len);
        else if (size < hit->len)
                fuse_reply_err(req, ERANGE);
        else
                fuse_reply_buf(req, hit->value, hit->len);
        fs_xattrs_clear(&x);
}

void fs_reply_listxattr(fuse_req_t req, fs_ctx *ctx, const fs_node *n, size_t size) {
        fs_xattrs x = { 0 };
        int r = collect(ctx, n, &x);
        if (r < 0) {
                fuse_reply_err(req, -r);
                return;
        }
        size_t total = 0;
        for (size_t i = 0; i < x.n; i++)
                total += strlen(x.v[i].name) + 1;
        if (size == 0)
                fuse_reply_xattr(req, total);
        else if (size < total)
                fuse_reply_err(req, ERANGE);
        else {
                char *buf = malloc(total ? total : 1), *p = buf;
                if (!buf) {
                        fuse_reply_err(req, ENOMEM);
                } else {
                        for (size_t i = 0; i < x.n; i++) {
                                size_t l = strlen(x.v[i].name) + 1;
                                memcpy(p, x.v[i].name, l);
                                p += l;
                        }
                        fuse_reply_buf(req, buf, total);
                        free(buf);
                }
        }
        fs_xattrs_clear(&x);
}
