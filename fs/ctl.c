#include "ctl.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "checkpoint.h"
#include "ckpt-views.h"
#include "cleanup.h"
#include "digest.h"
#include "log.h"
#include "path.h"
#include "paths.h"

/* A failed request, once, with what `cat checkpoint` says about it. */
static int log_failed(fs_ctx *ctx, const fs_node *n, int r) {
        _cleanup_free_ char *line = NULL;
        if (ckpt_registry_status_lines(ctx->ckpt, NODE_NS(n), NODE_ID(n), &line) < 0 || !line)
                line = NULL;
        size_t len = line ? strcspn(line, "\n") : 0;
        return log_error_errno(r, "checkpoint of container %s in %s: %.*s", NODE_ID(n), NODE_NS(n), (int) len,
                               line ? line : "");
}

/* Takes the checkpoint a parsed command asks for. `r` and `msg` are what
 * the parser returned: a refused command is noted where `cat checkpoint`
 * shows it. Consumes `req` and `msg`. The new image is in the catalog when
 * this returns: listed at once, whatever its event does. */
static int take(fs_ctx *ctx, const fs_node *n, int r, ckpt_request *req, char *msg) {
        if (r < 0) {
                ckpt_registry_note_error(ctx->ckpt, NODE_NS(n), NODE_ID(n), msg ? msg : "invalid command");
                free(msg);
                return log_failed(ctx, n, r);
        }
        _cleanup_free_ char *name = NULL;
        r = ckpt_take(ctx->ckpt, ctx->rpc, NODE_NS(n), NODE_ID(n), req, &name);
        ckpt_request_free(req);
        /* The workflow logs every checkpoint that ran; one refused at once
         * (another runs) is ours to log. */
        if (r == -EBUSY)
                return log_failed(ctx, n, r);
        if (r < 0)
                return r;
        /* The image exists: a failure to see it now only delays it to its event. */
        if (name && ctx->catalog)
                (void) store_catalog_sync_image(ctx->catalog, NODE_NS(n), name);
        return 0;
}

int ctl_checkpoint_write(fs_ctx *ctx, const fs_node *n, const char *buf, size_t len) {
        ckpt_request *req = NULL;
        char *msg = NULL;
        int r = ckpt_request_parse(buf, len, NODE_ID(n), &req, &msg);
        return take(ctx, n, r, req, msg);
}

/* <mount>/<ns>/by-digest/<hex> of checkpoint index `digest`: a path
 * without ':' for OCI tools. */
static int digest_path(fs_ctx *ctx, const char *ns, const char *digest, char **ret) {
        char rel[PATH_MAX], full[PATH_MAX];
        int r = fs_path_of(rel, sizeof(rel), FS_BY_DIGEST, ns, NULL, NULL);
        size_t len = r < 0 ? 0 : (size_t) r;
        const char *hex = digest + strlen(DIGEST_PREFIX);
        if (r < 0 || (r = path_append(rel, sizeof(rel), &len, hex, strlen(hex))) < 0 ||
            (r = path_join(full, sizeof(full), ctx->mountpoint ? ctx->mountpoint : ".", rel, NULL)) < 0)
                return r;
        char *s = strdup(full);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* Appends "<key>: <path>\n" to the malloc'd text *text when the last
 * checkpoint of container n made an image. Leaves *text as it is
 * otherwise. */
static int append_path_line(fs_ctx *ctx, const fs_node *n, const char *key, char **text) {
        _cleanup_free_ char *path = NULL, *line = NULL;
        char digest[DIGEST_MAX];
        if (ckpt_registry_last_index(ctx->ckpt, NODE_NS(n), NODE_ID(n), digest) < 0 ||
            digest_path(ctx, NODE_NS(n), digest, &path) < 0)
                return 0;
        if (asprintf(&line, "%s%s: %s\n", *text, key, path) < 0)
                return -ENOMEM;
        free(*text);
        *text = TAKE_PTR(line);
        return 0;
}

int ctl_checkpoint_read(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len) {
        char *text;
        int r = ckpt_registry_last_report(ctx->ckpt, NODE_NS(n), NODE_ID(n), &text);
        if (r == -ENOENT)
                text = strdup("");
        else if (r < 0)
                return r;
        if (text && (r = append_path_line(ctx, n, "path", &text)) < 0) {
                free(text);
                return r;
        }
        return fs_content_string(text, ret, ret_len);
}

int ctl_checkpoint_mkdir(fs_ctx *ctx, const fs_node *dir, const char *name, fs_dirents *out) {
        ckpt_request *req = NULL;
        char *msg = NULL;
        int r = ckpt_request_for_tag(NODE_ID(dir), name, &req, &msg);
        r = take(ctx, dir, r, req, msg);
        if (r < 0)
                return r;
        /* The entry a lookup gives (salted); if the catalog cannot tell yet,
         * a plain one: the checkpoint exists either way. */
        if (views_container_ckpt_entry(ctx, dir, name, out) >= 0)
                return 0;
        return fs_dirents_add(out, FS_CONTAINER_CKPT, name, NODE_NS(dir), NODE_ID(dir), name);
}

int ctl_checkpoint_rmdir(fs_ctx *ctx, const fs_node *dir, const char *name) {
        /* The same mapping as lookup: the directory may show a checkpoint
         * by another name than containerd.io/checkpoint/<id>:<tag>. */
        char *image;
        int r = views_container_ckpt_name(ctx, NODE_NS(dir), NODE_ID(dir), name, &image);
        if (r < 0)
                return r;
        r = ckpt_delete_image(ctx->rpc, NODE_NS(dir), image, NULL);
        /* Gone from the catalog at once, not only at its event. */
        if (r >= 0)
                (void) store_catalog_sync_image(ctx->catalog, NODE_NS(dir), image);
        free(image);
        return r;
}

int ctl_append_status(fs_ctx *ctx, const fs_node *n, char *text, size_t len, char **ret, size_t *ret_len) {
        char *extra = NULL;
        int r = ckpt_registry_status_lines(ctx->ckpt, NODE_NS(n), NODE_ID(n), &extra);
        if (r >= 0 && extra)
                r = append_path_line(ctx, n, "last_checkpoint_path", &extra);
        if (r < 0 || !extra || !*extra) {
                free(extra);
                *ret = text;
                *ret_len = len;
                return 0;
        }
        size_t elen = strlen(extra);
        char *all = realloc(text, len + elen + 1);
        if (!all) {
                free(text);
                free(extra);
                return -ENOMEM;
        }
        memcpy(all + len, extra, elen + 1);
        free(extra);
        *ret = all;
        *ret_len = len + elen;
        return 0;
}
