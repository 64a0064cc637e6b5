/* The checkpoint a node of a checkpoint tree belongs to, and its entries
 * and blobs: what every view of a checkpoint directory starts from. Calls
 * only the catalog and the entry lists. */
#include "ckpt-views.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cleanup.h"

int views_container_ckpt_name(fs_ctx *ctx, const char *ns, const char *id, const char *tag, char **ret) {
        _cleanup_strv_free_ char **names = NULL, **tags = NULL;
        int r = store_catalog_container_ckpts(ctx->catalog, ns, id, &names, &tags);
        if (r < 0)
                return r;
        for (size_t i = 0; names[i]; i++)
                if (strcmp(tags[i], tag) == 0) {
                        char *hit = strdup(names[i]);
                        if (!hit)
                                return -ENOMEM;
                        *ret = hit;
                        return 0;
                }
        /* Made elsewhere, before its event came? Never wait for containerd
         * here: ask in the background; ENOENT is not cached by the kernel,
         * so the next lookup sees what the resync found. */
        store_catalog_request_sync(ctx->catalog, ns);
        return -ENOENT;
}

int views_ckpt_of(fs_ctx *ctx, const fs_node *n, store_ckpt *ret) {
        if (!ctx->catalog)
                return -ENOENT;
        _cleanup_free_ char *name = NULL;
        if (n->kind == FS_CONTAINER_CKPT) {
                int r = views_container_ckpt_name(ctx, NODE_NS(n), NODE_ID(n), NODE_KEY3(n), &name);
                if (r < 0)
                        return r;
        }
        store_ckpt ck;
        int r = store_catalog_get(ctx->catalog, NODE_NS(n), name ? name : NODE_ID(n), &ck);
        if (r < 0)
                return r;
        /* A node of the checkpoint the name pointed to before: gone. */
        if (n->salt && strcmp(n->salt, ck.target.digest) != 0) {
                store_ckpt_clear(&ck);
                return -ENOENT;
        }
        *ret = ck;
        return 0;
}

int views_add_ckpt_entry(fs_ctx *ctx, fs_dirents *out, fs_kind kind, const char *entry, const char *ns,
                         const char *image, const char *k1, const char *k2) {
        store_ckpt ck;
        int r = store_catalog_get(ctx->catalog, ns, image, &ck);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        r = fs_dirents_add_salted(out, kind, entry, ck.target.digest, ns, k1, k2);
        store_ckpt_clear(&ck);
        return r;
}

int views_container_ckpt_entry(fs_ctx *ctx, const fs_node *dir, const char *tag, fs_dirents *out) {
        _cleanup_free_ char *image = NULL;
        int r = views_container_ckpt_name(ctx, NODE_NS(dir), NODE_ID(dir), tag, &image);
        size_t n = out->n;
        if (r >= 0)
                r = views_add_ckpt_entry(ctx, out, FS_CONTAINER_CKPT, tag, NODE_NS(dir), image, NODE_ID(dir), tag);
        return r < 0 ? r : out->n > n ? 0 : -ENOENT;
}

int views_ckpt_descs(fs_ctx *ctx, const fs_node *n, bool reach, store_ckpt *ret_ck, store_descs *ret_descs) {
        int r = views_ckpt_of(ctx, n, ret_ck);
        if (r < 0)
                return r;
        *ret_descs = (store_descs) { 0 };
        r = reach ? store_catalog_reach(ctx->catalog, ret_ck->ns, &ret_ck->target, ret_descs)
                  : store_catalog_children(ctx->catalog, ret_ck->ns, &ret_ck->target, ret_descs);
        if (r < 0)
                store_ckpt_clear(ret_ck);
        return r;
}

int views_find_blob(fs_ctx *ctx, const fs_node *n, const char *digest, store_desc *ret, int64_t *ret_created_ns) {
        store_ckpt ck;
        store_descs all;
        int r = views_ckpt_descs(ctx, n, true, &ck, &all);
        if (r < 0)
                return r;
        r = -ENOENT;
        for (size_t i = 0; i < all.n; i++)
                if (strcmp(all.v[i].digest, digest) == 0) {
                        *ret = all.v[i];
                        all.v[i] = (store_desc) { 0 };
                        r = 0;
                        break;
                }
        store_descs_clear(&all);
        if (r >= 0 && ret_created_ns)
                *ret_created_ns = ck.created_ns;
        store_ckpt_clear(&ck);
        return r;
}

void views_set_times(struct stat *st, int64_t ns) {
        if (ns <= 0)
                return;
        st->st_mtim = (struct timespec) { .tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL };
        st->st_ctim = st->st_mtim;
        st->st_atim = st->st_mtim;
}
