/* What each kind of node of the tree is: the namespace/container part. */
#include "fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cleanup.h"
#include "ctl.h"
#include "ctl-import.h"
#include "ctl-registry.h"
#include "ckpt-views.h"
#include "paths.h"

static int list_root(fs_ctx *ctx, const fs_node *dir, fs_dirents *out) {
        char **ns;
        int r = store_live_namespaces(ctx->live, &ns);
        /* containerd away: the namespaces of the cached checkpoints. */
        if (r < 0 && ctx->catalog && store_catalog_namespaces(ctx->catalog, &ns) >= 0)
                r = 0;
        if (r < 0)
                return r;
        for (size_t i = 0; r >= 0 && ns[i]; i++)
                r = fs_dirents_add(out, FS_NAMESPACE, ns[i], ns[i], NULL, NULL);
        strv_free(ns);
        return r;
}

static int lookup_root(fs_ctx *ctx, const fs_node *dir, const char *name, fs_dirents *out) {
        int r = store_live_has_namespace(ctx->live, name);
        if (r < 0 && r != -ENOENT && ctx->catalog) {
                char **ns;
                if (store_catalog_namespaces(ctx->catalog, &ns) >= 0) {
                        for (size_t i = 0; ns[i] && r < 0; i++)
                                if (strcmp(ns[i], name) == 0)
                                        r = 0;
                        strv_free(ns);
                }
        }
        if (r < 0)
                return r;
        return fs_dirents_add(out, FS_NAMESPACE, name, name, NULL, NULL);
}

/* Children of fixed names (paths.h), with the keys of their parent. */
static int add_fixed(fs_dirents *out, const fs_node *dir, const fs_kind *kinds, size_t n) {
        for (size_t i = 0; i < n; i++) {
                int r = fs_dirents_add(out, kinds[i], fs_kind_entry_name(kinds[i]), NODE_NS(dir), NODE_ID(dir), NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int list_namespace(fs_ctx *ctx, const fs_node *dir, fs_dirents *out) {
        static const fs_kind children[] = { FS_CONTAINERS, FS_NS_CKPTS, FS_BY_DIGEST, FS_CTL_IMPORT, FS_CTL_PULL };
        return add_fixed(out, dir, children, ELEMENTSOF(children));
}

static int list_containers(fs_ctx *ctx, const fs_node *dir, fs_dirents *out) {
        char **ids;
        int r = store_live_containers(ctx->live, NODE_NS(dir), &ids);
        if (r < 0)
                return r;
        for (size_t i = 0; r >= 0 && ids[i]; i++)
                r = fs_dirents_add(out, FS_CONTAINER, ids[i], NODE_NS(dir), ids[i], NULL);
        strv_free(ids);
        return r;
}

static int lookup_container(fs_ctx *ctx, const fs_node *dir, const char *name, fs_dirents *out) {
        int r = store_live_has_container(ctx->live, NODE_NS(dir), name);
        if (r < 0)
                return r;
        return fs_dirents_add(out, FS_CONTAINER, name, NODE_NS(dir), name, NULL);
}

static int list_container(fs_ctx *ctx, const fs_node *dir, fs_dirents *out) {
        static const fs_kind children[] = { FS_STATUS, FS_CONTAINER_JSON, FS_PIDS, FS_METRICS_JSON, FS_CTL_CHECKPOINT,
                                            FS_CONTAINER_CKPTS };
        return add_fixed(out, dir, children, ELEMENTSOF(children));
}

static int content_status(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len) {
        char *text;
        size_t len;
        int r = store_live_status(ctx->live, NODE_NS(n), NODE_ID(n), &text, &len);
        if (r < 0)
                return r;
        return ctl_append_status(ctx, n, text, len, ret, ret_len);
}

static int content_container_json(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len) {
        return store_live_container_json(ctx->live, NODE_NS(n), NODE_ID(n), ret, ret_len);
}

static int content_pids(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len) {
        return store_live_pids(ctx->live, NODE_NS(n), NODE_ID(n), ret, ret_len);
}

static int content_metrics_json(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len) {
        return store_live_metrics_json(ctx->live, NODE_NS(n), NODE_ID(n), ret, ret_len);
}

const fs_kind_ops fs_kinds[FS_KIND_MAX] = {
        [FS_ROOT] = { .mode = S_IFDIR | 0700, .dynamic = true, .list = list_root, .lookup = lookup_root },
        [FS_NAMESPACE] = { .mode = S_IFDIR | 0555, .dynamic = true, .list = list_namespace },
        [FS_CONTAINERS] = { .mode = S_IFDIR | 0555, .dynamic = true, .list = list_containers,
                            .lookup = lookup_container },
        [FS_CONTAINER] = { .mode = S_IFDIR | 0555, .dynamic = true, .list = list_container },
        [FS_STATUS] = { .mode = S_IFREG | 0444, .dynamic = true, .content = content_status },
        /* The spec holds the environment: secrets too. */
        [FS_CONTAINER_JSON] = { .mode = S_IFREG | 0400, .dynamic = true, .content = content_container_json },
        /* Without a task their open fails with ESRCH, as `ctr tasks ps|metrics`
         * fail; stat shows them empty (node_size). */
        [FS_PIDS] = { .mode = S_IFREG | 0444, .dynamic = true, .content = content_pids },
        [FS_METRICS_JSON] = { .mode = S_IFREG | 0444, .dynamic = true, .content = content_metrics_json },
        [FS_CTL_CHECKPOINT] = { .mode = S_IFREG | 0600, .dynamic = true, .content = ctl_checkpoint_read,
                                .write = ctl_checkpoint_write, .one_writer = true },
        [FS_CONTAINER_CKPTS] = { .mode = S_IFDIR | 0755, .dynamic = true, .list = views_list_container_ckpts,
                                 .mkdir = ctl_checkpoint_mkdir, .rmdir = ctl_checkpoint_rmdir },
        [FS_CONTAINER_CKPT] = { .mode = FS_DIR_SECRET, .dynamic = true, .list = views_list_ckpt,
                                .attr = views_ckpt_attr },
        /* Root-only as the checkpoint file: it reads any path ckptfs can. */
        [FS_CTL_IMPORT] = { .mode = S_IFREG | 0600, .dynamic = true, .content = ctl_import_read,
                            .write = ctl_import_write, .one_writer = true },
        [FS_CK_CTL_RESTORE] = { .mode = S_IFREG | 0600, .dynamic = true, .content = ctl_restore_read,
                                .write = ctl_restore_write, .one_writer = true },
        FS_VIEWS_KINDS,
        [FS_CTL_PUSH] = { .mode = S_IFREG | 0600, .dynamic = true, .content = ctl_push_read, .write = ctl_push_write,
                          .one_writer = true },
        [FS_CTL_PULL] = { .mode = S_IFREG | 0600, .dynamic = true, .content = ctl_pull_read, .write = ctl_pull_write,
                          .one_writer = true },
};
