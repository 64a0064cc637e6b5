/* push and pull: parse the line, hand the work to rpc/registry, keep its
 * report. The blobs a push sends come from the store's blob readers. */
#include "ctl-registry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob.h"
#include "catalog.h"
#include "ckpt-views.h"
#include "cleanup.h"
#include "log.h"
#include "registry.h"

static int src_open(void *ud, const char *digest, uint64_t size, void **ret_handle) {
        fs_ctx *ctx = ((void **) ud)[0];
        const char *ns = ((void **) ud)[1];
        struct store_reader *r;
        int k = store_blob_open(ctx->blobs, ns, digest, size, &r);
        if (k < 0)
                return k;
        *ret_handle = r;
        return 0;
}

static ssize_t src_read_at(void *handle, uint8_t *buf, size_t len, uint64_t off) {
        return store_reader_pread(handle, buf, len, off);
}

static void src_close(void *handle) {
        store_reader_free(handle);
}

static void free_secret(char *s) {
        if (s) {
                explicit_bzero(s, strlen(s));
                free(s);
        }
}

/* The line's reference, flags and the credential for its host. */
static int parse(fs_ctx *ctx, const char *buf, size_t len, bool allow_name, registry_ref *ref, char **name,
                 registry_conn *conn, char **auth, registry_error *err) {
        _cleanup_free_ char *msg = NULL;
        int r = registry_line_parse(buf, len, allow_name, ref, name, &conn->insecure, &msg);
        if (r < 0) {
                snprintf(err->message, sizeof(err->message), "%s", msg ? msg : "invalid command");
                return r;
        }
        r = registry_auth_from_file(ctx->registry_auth, ref->host, auth);
        if (r < 0) {
                snprintf(err->message, sizeof(err->message), "cannot read the credentials of --registry-auth: %s",
                         strerror(-r));
                return r;
        }
        conn->auth = *auth;
        return 0;
}

static void display(const registry_ref *ref, char *out, size_t size) {
        snprintf(out, size, "%s/%s%s%s%s%s", ref->host, ref->repo, ref->tag[0] ? ":" : "", ref->tag,
                 ref->digest[0] ? "@" : "", ref->digest);
}

/* The checkpoint of n as push items: the index first, then what it reaches. */
static int items_of(fs_ctx *ctx, const fs_node *n, store_ckpt *ck, store_descs *all, registry_item **ret,
                    size_t *ret_n) {
        int r = views_ckpt_descs(ctx, n, true, ck, all);
        if (r < 0)
                return r;
        registry_item *v = calloc(all->n + 1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        size_t k = 0;
        v[k++] = (registry_item) { ck->target.digest, ck->target.mediatype, ck->target.size };
        for (size_t i = 0; i < all->n; i++)
                if (strcmp(all->v[i].digest, ck->target.digest) != 0)
                        v[k++] = (registry_item) { all->v[i].digest, all->v[i].mediatype, all->v[i].size };
        *ret = v;
        *ret_n = k;
        return 0;
}

int ctl_push_write(fs_ctx *ctx, const fs_node *n, const char *buf, size_t len) {
        registry_ref ref = { 0 };
        registry_conn conn = { 0 };
        registry_error err = { { 0 } };
        registry_result res = { 0 };
        _cleanup_free_ char *name = NULL;
        char *auth = NULL;
        char key[1024], shown[800];
        snprintf(key, sizeof(key), "%s/%s", NODE_NS(n), NODE_ID(n));
        int r = parse(ctx, buf, len, false, &ref, &name, &conn, &auth, &err);
        store_ckpt ck = { 0 };
        store_descs all = { 0 };
        _cleanup_free_ registry_item *items = NULL;
        size_t n_items = 0;
        if (r >= 0 && (r = items_of(ctx, n, &ck, &all, &items, &n_items)) < 0)
                snprintf(err.message, sizeof(err.message), "the checkpoint's blobs are not known: %s", strerror(-r));
        if (r >= 0) {
                void *ud[2] = { ctx, (void *) NODE_NS(n) };
                registry_source src = { src_open, src_read_at, src_close, ud };
                r = registry_push(&ref, &conn, items, n_items, &src, &res, &err);
        }
        free_secret(auth);
        display(&ref, shown, sizeof(shown));
        (void) registry_reports_note(ctx->reports, key, "push", shown, r, &res, &err);
        if (r < 0)
                log_error_errno(r, "push of %s to %s: %s", key, shown, err.message);
        else
                log_info("pushed %s to %s: %u blobs uploaded, %u skipped, %ld ms", key, shown, res.uploaded,
                         res.skipped, res.ms);
        store_descs_clear(&all);
        store_ckpt_clear(&ck);
        return r;
}

int ctl_push_read(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len) {
        char key[1024], *text;
        snprintf(key, sizeof(key), "%s/%s", NODE_NS(n), NODE_ID(n));
        int r = registry_reports_get(ctx->reports, key, &text);
        return r < 0 ? r : fs_content_string(text, ret, ret_len);
}

int ctl_registry_pull(fs_ctx *ctx, const char *ns, const char *buf, size_t len) {
        registry_ref ref = { 0 };
        registry_conn conn = { 0 };
        registry_error err = { { 0 } };
        registry_result res = { 0 };
        _cleanup_free_ char *name = NULL;
        char *auth = NULL, shown[800];
        int r = parse(ctx, buf, len, true, &ref, &name, &conn, &auth, &err);
        if (r >= 0)
                r = registry_pull(ctx->rpc, ns, &ref, &conn, name, &res, &err);
        free_secret(auth);
        display(&ref, shown, sizeof(shown));
        (void) registry_reports_note(ctx->reports, ns, "pull", shown, r, &res, &err);
        if (r < 0)
                return log_error_errno(r, "pull of %s into %s: %s", shown, ns, err.message);
        log_info("pulled %s into %s: %s, %u blobs, %ld ms", shown, ns, res.digest, res.blobs, res.ms);
        /* listed at once, not only at its event */
        if (ctx->catalog) {
                char img[600];
                snprintf(img, sizeof(img), "%s:%s", ref.repo, ref.tag[0] ? ref.tag : "latest");
                (void) store_catalog_sync_image(ctx->catalog, ns, name ? name : img);
        }
        return 0;
}

int ctl_pull_write(fs_ctx *ctx, const fs_node *n, const char *buf, size_t len) {
        return ctl_registry_pull(ctx, NODE_NS(n), buf, len);
}

int ctl_pull_read(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len) {
        char *text;
        int r = registry_reports_get(ctx->reports, NODE_NS(n), &text);
        return r < 0 ? r : fs_content_string(text, ret, ret_len);
}
