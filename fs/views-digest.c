/* <ns>/by-digest/<hex>/: every checkpoint directory once more, named by the
 * hex of its index digest (a path without ':', which OCI tools split
 * `PATH:TAG` at). */
#include "ckpt-views.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cleanup.h"
#include "digest.h"
#include "log.h"
#include "paths.h"

/* ---- by-digest/ ------------------------------------------------------------ */

/* The entry <hex> for checkpoint digest `digest` of canonical name `name`:
 * the checkpoint dir of that name, with the path of that name as alias so
 * that its files are the named dir's nodes. Adds nothing for a digest that
 * is not sha256 (containerd 1.6 writes no other). */
static int add_digest_entry(fs_dirents *out, const char *ns, const char *digest, const char *name) {
        char alias[PATH_MAX];
        if (!digest_valid(digest) || fs_path_of(alias, sizeof(alias), FS_CKPT, ns, name, NULL) < 0)
                return 0;
        int r = fs_dirents_add_salted(out, FS_CKPT, digest + strlen(DIGEST_PREFIX), digest, ns, name, NULL);
        return r < 0 ? r : fs_dirent_set_alias(&out->v[out->n - 1], alias);
}

int views_list_by_digest(fs_ctx *ctx, const fs_node *dir, fs_dirents *out) {
        if (!ctx->catalog)
                return 0;
        _cleanup_strv_free_ char **digests = NULL, **names = NULL;
        int r = store_catalog_digests(ctx->catalog, NODE_NS(dir), &digests, &names);
        for (size_t i = 0; r >= 0 && digests[i]; i++)
                r = add_digest_entry(out, NODE_NS(dir), digests[i], names[i]);
        return r;
}

int views_lookup_by_digest(fs_ctx *ctx, const fs_node *dir, const char *name, fs_dirents *out) {
        char digest[DIGEST_MAX];
        if (!ctx->catalog || digest_from_hex(name, digest) < 0)
                return -ENOENT;
        _cleanup_free_ char *canonical = NULL;
        int r = store_catalog_digest_name(ctx->catalog, NODE_NS(dir), digest, &canonical);
        if (r == -ENOENT) {
                /* Made elsewhere, before its event came? Asked for in the
                 * background, as for a name (views_container_ckpt_name). */
                store_catalog_request_sync(ctx->catalog, NODE_NS(dir));
                return r;
        }
        if (r < 0)
                return r;
        size_t before = out->n;
        r = add_digest_entry(out, NODE_NS(dir), digest, canonical);
        return r < 0 ? r : out->n > before ? 0 : -ENOENT;
}

int views_shared_nlink(fs_ctx *ctx, const fs_node *n, struct stat *st) {
        /* Only the files under the canonical name are under by-digest/ too. */
        if (!fs_kind_shared(n->kind))
                return 0;
        char top[PATH_MAX];
        int r = fs_path_of(top, sizeof(top), FS_NS_CKPTS, NODE_NS(n), NULL, NULL);
        size_t len = r < 0 ? 0 : (size_t) r;
        if (r < 0 || strncmp(n->path, top, len) != 0 || n->path[len] != '/')
                return 0;
        store_ckpt ck;
        if (views_ckpt_of(ctx, n, &ck) < 0)
                return 0;   /* st_nlink says 1 then; the attributes themselves were found */
        _cleanup_free_ char *canonical = NULL;
        /* A canonical name that cannot be shown has no second path. */
        if (store_catalog_digest_name(ctx->catalog, ck.ns, ck.target.digest, &canonical) >= 0 &&
            strcmp(canonical, ck.name) == 0 && ckpt_name_showable(ck.name, NULL))
                st->st_nlink = 2;
        store_ckpt_clear(&ck);
        return 0;
}
