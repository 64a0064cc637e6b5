/* summary: a checkpoint in a few lines (store/containerd's ckpt-summary.h),
 * in every checkpoint directory, with or without a CRIU dump. The facts
 * come from the catalog (name, creation, the blobs the index reaches),
 * config.json's text (container, image, runtime) and the CRIU tar's
 * member index (its files, pages-*.img, stats-dump); with the CRIU image
 * decoder every record image is read through, and one that does not
 * decode is named. Immutable like the rest of the checkpoint. */
#include "ckpt-views.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "ckpt-files.h"
#include "ckpt-summary.h"
#include "cleanup.h"
#include "strv.h"
#include "views.h"
#if CKPTFS_CRIU_IMAGES
#include "criu-check.h"
#endif

/* The top of the CRIU tar, member by member. */
typedef struct criu_scan {
        fs_ctx *ctx;
        const char *ns;
        const store_desc *desc;
        const struct tar_index *tar;
        store_ckpt_facts *f;
        bool check;      /* read every record image through */
        size_t n_damaged;
} criu_scan;

static int check_image(criu_scan *s, const char *name) {
#if CKPTFS_CRIU_IMAGES
        if (!s->check || !criu_image_name_is_record(name))
                return 0;
        _cleanup_store_reader_ struct store_reader *r = NULL;
        int k = views_criu_member(s->ctx, s->ns, s->desc, s->tar, name, &r);
        if (k >= 0)
                k = criu_image_check(r);
        if (k != -EBADMSG && k != -EOPNOTSUPP)
                return k;
        char line[512];
        snprintf(line, sizeof(line), "%s: %s", name,
                 k == -EBADMSG ? "does not decode (damaged or truncated)" : "holds data this decoder does not read");
        return strv_push(&s->f->damaged, &s->n_damaged, line);
#else
        (void) s, (void) name;
        return 0;
#endif
}

static int scan_member(const char *name, const struct tar_member *m, void *userdata) {
        criu_scan *s = userdata;
        if (!m || m->type != TAR_TYPE_REG)
                return 0;
        s->f->n_images++;
        if (!strncmp(name, "pages-", 6))
                s->f->pages_size += m->size;
        if (!strcmp(name, "stats-dump"))
                s->f->has_stats = true;
        return check_image(s, name);
}

static int scan_criu(fs_ctx *ctx, const char *ns, const store_desc *criu, bool check, store_ckpt_facts *f) {
        criu_scan s = { .ctx = ctx, .ns = ns, .desc = criu, .f = f, .check = check };
        f->has_criu = true;
        f->criu_size = criu->size;
        int r = store_views_tar(ctx->views, ns, criu, &s.tar);
        return r < 0 ? r : tar_index_foreach_child(s.tar, "", scan_member, &s);
}

/* container, image and runtime: config.json, else the catalog's id. */
static int container_facts(fs_ctx *ctx, const store_ckpt *ck, const store_ckpt_parts *parts, store_ckpt_facts *f) {
        if (parts->config) {
                _cleanup_free_ char *text = NULL;
                size_t len;
                int r = store_ckpt_config_json(ctx->catalog, ctx->blobs, ck, &text, &len);
                if (r >= 0)
                        r = store_ckpt_facts_from_config(f, text);
                /* Not decoding the record is not a reason to have no summary. */
                if (r != -EBADMSG && r != -ENOENT && r < 0)
                        return r;
        }
        if (!f->container && store_catalog_ckpt_container(ctx->catalog, ck, &f->container) < 0)
                f->container = NULL;
        return 0;
}

int views_ckpt_facts(fs_ctx *ctx, const fs_node *n, bool check_images, store_ckpt_facts *ret) {
        store_ckpt ck;
        store_descs all, kids = { 0 };
        store_ckpt_facts f = { 0 };
        int r = views_ckpt_descs(ctx, n, true, &ck, &all);
        if (r < 0)
                return r;
        for (size_t i = 0; i < all.n; i++)
                f.total_size += all.v[i].size;
        f.created_ns = ck.created_ns;
        if (!(f.name = strdup(ck.name)))
                r = -ENOMEM;
        if (r >= 0)
                r = store_catalog_children(ctx->catalog, ck.ns, &ck.target, &kids);
        store_ckpt_parts parts = store_ckpt_parts_of(&kids);
        if (r >= 0)
                r = container_facts(ctx, &ck, &parts, &f);
        if (r >= 0 && parts.layer)
                f.has_rw = true, f.rw_size = parts.layer->size;
        if (r >= 0 && parts.criu)
                r = scan_criu(ctx, ck.ns, parts.criu, check_images, &f);
        store_descs_clear(&kids);
        store_descs_clear(&all);
        store_ckpt_clear(&ck);
        if (r < 0) {
                store_ckpt_facts_clear(&f);
                return r;
        }
        *ret = f;
        return 0;
}

int views_content_summary(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len) {
        store_ckpt_facts f;
        int r = views_ckpt_facts(ctx, n, true, &f);
        if (r < 0)
                return r;
        r = store_ckpt_summary_text(&f, ret, ret_len);
        store_ckpt_facts_clear(&f);
        return r;
}
