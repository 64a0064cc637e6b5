/* Checkpoint directories: the name tree, index.json, layout/, manifests/,
 * config.json, options.json. */
#include "ckpt-views.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob.h"
#include "catalog.h"
#include "ckpt-files.h"
#include "cleanup.h"

int views_ckpt_attr(fs_ctx *ctx, const fs_node *n, struct stat *st) {
        store_ckpt ck;
        int r = views_ckpt_of(ctx, n, &ck);
        if (r < 0)
                return r;
        views_set_times(st, ck.created_ns);
        store_ckpt_clear(&ck);
        return views_shared_nlink(ctx, n, st);
}

/* ---- the name tree ------------------------------------------------------- */

/* Children of `prefix` ("" for the top) among the image names of ns:
 * the next name component is a directory, the last one (with its :tag) a
 * checkpoint. A checkpoint wins over a directory of the same name. */
static int list_names(fs_ctx *ctx, const char *ns, const char *prefix, fs_dirents *out) {
        char **names;
        int r = store_catalog_names(ctx->catalog, ns, &names);
        if (r < 0)
                return r;
        size_t plen = strlen(prefix);
        for (size_t i = 0; r >= 0 && names[i]; i++) {
                const char *rest = names[i];
                if (!views_name_shown(ns, names[i]))
                        continue;
                if (plen) {
                        if (strncmp(rest, prefix, plen) != 0 || rest[plen] != '/')
                                continue;
                        rest += plen + 1;
                }
                const char *slash = strchr(rest, '/');
                if (!slash) {
                        if (*rest && !fs_dirents_find(out, rest))
                                r = views_add_ckpt_entry(ctx, out, FS_CKPT, rest, ns, names[i], names[i], NULL);
                        continue;
                }
                _cleanup_free_ char *comp = strndup(rest, (size_t) (slash - rest));
                _cleanup_free_ char *sub = NULL;
                if (!comp || asprintf(&sub, "%s%s%s", prefix, plen ? "/" : "", comp) < 0) {
                        r = -ENOMEM;
                        break;
                }
                if (*comp && !fs_dirents_find(out, comp))
                        r = fs_dirents_add(out, FS_CKPT_PREFIX, comp, ns, sub, NULL);
        }
        strv_free(names);
        return r;
}

int views_list_ns_ckpts(fs_ctx *ctx, const fs_node *dir, fs_dirents *out) {
        return ctx->catalog ? list_names(ctx, NODE_NS(dir), "", out) : 0;
}

int views_list_prefix(fs_ctx *ctx, const fs_node *dir, fs_dirents *out) {
        return list_names(ctx, NODE_NS(dir), NODE_ID(dir), out);
}

int views_list_container_ckpts(fs_ctx *ctx, const fs_node *dir, fs_dirents *out) {
        if (!ctx->catalog)
                return 0;
        char **names, **tags;
        int r = store_catalog_container_ckpts(ctx->catalog, NODE_NS(dir), NODE_ID(dir), &names, &tags);
        if (r < 0)
                return r;
        for (size_t i = 0; r >= 0 && names[i]; i++)
                if (views_tag_shown(NODE_NS(dir), names[i], tags[i]))
                        r = views_add_ckpt_entry(ctx, out, FS_CONTAINER_CKPT, tags[i], NODE_NS(dir), names[i], NODE_ID(dir),
                                           tags[i]);
        strv_free(names);
        strv_free(tags);
        return r;
}

/* ---- a checkpoint directory ---------------------------------------------- */

/* task/ or rw/: the tree of tar blob `d` (NULL: the checkpoint has none). */
static int add_tar_root(fs_dirents *out, const char *entry, const store_ckpt *ck, const store_desc *d) {
        _cleanup_free_ char *k = NULL;
        if (!d)
                return 0;
        if (asprintf(&k, "%s/", d->digest) < 0)
                return -ENOMEM;
        return fs_dirents_add(out, FS_CK_TAR_DIR, entry, ck->ns, ck->name, k);
}

int views_list_ckpt(fs_ctx *ctx, const fs_node *dir, fs_dirents *out) {
        store_ckpt ck;
        store_descs kids;
        int r = views_ckpt_descs(ctx, dir, false, &ck, &kids);
        if (r < 0)
                return r;
        const char *ns = ck.ns, *name = ck.name;
        store_ckpt_parts parts = store_ckpt_parts_of(&kids);
        r = fs_dirents_add(out, FS_CK_BLOB, "index.json", ns, name, ck.target.digest);
        if (r >= 0)
                r = fs_dirents_add(out, FS_CK_LAYOUT, "layout", ns, name, NULL);
        if (r >= 0)
                r = fs_dirents_add(out, FS_CK_MANIFESTS, "manifests", ns, name, NULL);
        if (r >= 0 && store_ckpt_has_config_json(&parts))
                r = fs_dirents_add(out, FS_CK_CONFIG_JSON, "config.json", ns, name, NULL);
        if (r >= 0 && store_ckpt_has_options_json(&parts))
                r = fs_dirents_add(out, FS_CK_OPTIONS_JSON, "options.json", ns, name, NULL);
        if (r >= 0)
                r = add_tar_root(out, "task", &ck, parts.criu);
        if (r >= 0)
                r = add_tar_root(out, "rw", &ck, parts.layer);
        if (r >= 0 && CKPTFS_CRIU_IMAGES && parts.criu)
                r = fs_dirents_add(out, FS_CK_DECODED, "decoded", ns, name, parts.criu->digest);
        if (r >= 0 && CKPTFS_CRIU_IMAGES && parts.criu)
                r = fs_dirents_add(out, FS_CK_PROC, "proc", ns, name, parts.criu->digest);
        if (r >= 0 && parts.criu)
                r = fs_dirents_add(out, FS_CK_CRI_TAR, "cri.tar", ns, name, NULL);
        if (r >= 0 && CKPTFS_CRIU_IMAGES && parts.criu)
                r = fs_dirents_add(out, FS_CK_INSPECT_JSON, "inspect.json", ns, name, parts.criu->digest);
        /* Also without a CRIU dump: it says what is missing. */
        if (r >= 0)
                r = fs_dirents_add(out, FS_CK_SUMMARY, "summary", ns, name, NULL);
        if (r >= 0)
                r = fs_dirents_add(out, FS_CK_CTL_RESTORE, "restore", ns, name, NULL);
        if (r >= 0)
                r = fs_dirents_add(out, FS_CTL_PUSH, "push", ns, name, NULL);
        store_descs_clear(&kids);
        store_ckpt_clear(&ck);
        return r;
}

/* ---- layout/ ------------------------------------------------------------- */

int views_list_layout(fs_ctx *ctx, const fs_node *dir, fs_dirents *out) {
        int r = fs_dirents_add(out, FS_CK_OCI_LAYOUT, "oci-layout", NODE_NS(dir), NODE_ID(dir), NULL);
        if (r >= 0)
                r = fs_dirents_add(out, FS_CK_LAYOUT_INDEX, "index.json", NODE_NS(dir), NODE_ID(dir), NULL);
        if (r >= 0)
                r = fs_dirents_add(out, FS_CK_LAYOUT_BLOBS, "blobs", NODE_NS(dir), NODE_ID(dir), NULL);
        return r;
}

int views_list_layout_blobs(fs_ctx *ctx, const fs_node *dir, fs_dirents *out) {
        return fs_dirents_add(out, FS_CK_LAYOUT_SHA256, "sha256", NODE_NS(dir), NODE_ID(dir), NULL);
}

int views_list_layout_sha256(fs_ctx *ctx, const fs_node *dir, fs_dirents *out) {
        store_ckpt ck;
        store_descs all;
        int r = views_ckpt_descs(ctx, dir, true, &ck, &all);
        if (r < 0)
                return r;
        for (size_t i = 0; r >= 0 && i < all.n; i++)
                r = fs_dirents_add(out, FS_CK_BLOB, all.v[i].digest + 7, ck.ns, ck.name, all.v[i].digest);
        store_descs_clear(&all);
        store_ckpt_clear(&ck);
        return r;
}

static const char oci_layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";

int views_content_oci_layout(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len) {
        return fs_content_string(strdup(oci_layout), ret, ret_len);
}

int views_content_layout_index(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len) {
        store_ckpt ck;
        int r = views_ckpt_of(ctx, n, &ck);
        if (r < 0)
                return r;
        r = store_ckpt_layout_index(&ck, ret, ret_len);
        store_ckpt_clear(&ck);
        return r;
}

/* ---- manifests/ ---------------------------------------------------------- */

static const char cachedir_tag[] =
        "Signature: 8a477f597d28d172789f06886806bc55\n"
        "# This file is a cache directory tag created by ckptfs.\n"
        "# This directory shows the blobs of layout/blobs/sha256 once more, by\n"
        "# what they are: backups may skip it (--exclude-caches).\n"
        "# For information about cache directory tags see https://bford.info/cachedir/\n";

int views_content_cachedir_tag(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len) {
        return fs_content_string(strdup(cachedir_tag), ret, ret_len);
}

int views_list_manifests(fs_ctx *ctx, const fs_node *dir, fs_dirents *out) {
        store_ckpt ck;
        store_descs kids;
        int r = views_ckpt_descs(ctx, dir, false, &ck, &kids);
        if (r < 0)
                return r;
        for (size_t i = 0; r >= 0 && i < kids.n; i++) {
                const char *nm = store_ckpt_manifest_name(kids.v[i].mediatype);
                _cleanup_free_ char *alt = NULL;
                /* Unknown kinds and repeats go by digest. */
                if (!nm || fs_dirents_find(out, nm)) {
                        if (asprintf(&alt, "%s%s", kids.v[i].digest + 7, nm ? strchr(nm, '.') : ".blob") < 0) {
                                r = -ENOMEM;
                                break;
                        }
                        nm = alt;
                }
                r = fs_dirents_add(out, FS_CK_BLOB, nm, ck.ns, ck.name, kids.v[i].digest);
        }
        if (r >= 0)
                r = fs_dirents_add(out, FS_CK_CACHEDIR_TAG, "CACHEDIR.TAG", ck.ns, ck.name, NULL);
        store_descs_clear(&kids);
        store_ckpt_clear(&ck);
        return r;
}

/* ---- whole blobs ----------------------------------------------------------- */

int views_blob_attr(fs_ctx *ctx, const fs_node *n, struct stat *st) {
        store_desc d;
        int64_t created;
        int r = views_find_blob(ctx, n, NODE_KEY3(n), &d, &created);
        if (r < 0)
                return r;
        st->st_size = (off_t) d.size;
        views_set_times(st, created);
        store_desc_clear(&d);
        return views_shared_nlink(ctx, n, st);
}

int views_blob_open(fs_ctx *ctx, const fs_node *n, struct store_reader **ret, char **ret_digest) {
        store_desc d;
        int r = views_find_blob(ctx, n, NODE_KEY3(n), &d, NULL);
        if (r < 0)
                return r;
        r = store_blob_open(ctx->blobs, NODE_NS(n), d.digest, d.size, ret);
        if (r >= 0 && ret_digest)
                *ret_digest = TAKE_PTR(d.digest);
        store_desc_clear(&d);
        return r;
}

static int add_annotation(const char *key, const char *value, void *userdata) {
        _cleanup_free_ char *xn = NULL;
        if (asprintf(&xn, "user.ckptfs.annotation.%s", key) < 0)
                return -ENOMEM;
        return fs_xattrs_add(userdata, xn, value, strlen(value));
}

int views_blob_xattrs(fs_ctx *ctx, const fs_node *n, fs_xattrs *out) {
        store_desc d;
        int r = views_find_blob(ctx, n, NODE_KEY3(n), &d, NULL);
        if (r < 0)
                return r;
        r = fs_xattrs_add(out, "user.ckptfs.digest", d.digest, strlen(d.digest));
        if (r >= 0)
                r = fs_xattrs_add(out, "user.ckptfs.mediatype", d.mediatype, strlen(d.mediatype));
        if (r >= 0)
                r = store_desc_foreach_annotation(&d, add_annotation, out);
        store_desc_clear(&d);
        return r;
}

/* ---- config.json, options.json ------------------------------------------- */

/* A file of checkpoint `n` that store/containerd/ckpt-files.h makes. */
typedef int (*ckpt_file_fn)(store_catalog *cat, store_blobs *blobs, const store_ckpt *ck, char **ret,
                            size_t *ret_len);

static int content_of(fs_ctx *ctx, const fs_node *n, ckpt_file_fn fn, char **ret, size_t *ret_len) {
        store_ckpt ck;
        int r = views_ckpt_of(ctx, n, &ck);
        if (r < 0)
                return r;
        r = fn(ctx->catalog, ctx->blobs, &ck, ret, ret_len);
        store_ckpt_clear(&ck);
        return r;
}

int views_content_config(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len) {
        return content_of(ctx, n, store_ckpt_config_json, ret, ret_len);
}

int views_content_options(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len) {
        return content_of(ctx, n, store_ckpt_options_json, ret, ret_len);
}
