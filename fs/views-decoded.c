/* decoded/: one <image>.json per CRIU record image at the top of task/ (the
 * CRIU tar), as `crit decode --pretty` prints it (store/criu). Raw images
 * (pages-N.img, tmpfs-*.tar.gz.img) and other members are left out, found
 * by their magic. Immutable like the rest of the checkpoint; images that
 * hold memory, registers or data in flight are 0400.
 * Node keys: the directory "<criu tar digest>", a file "<digest>/<member>". */
#include "ckpt-views.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cleanup.h"
#include "criu-image.h"
#include "json.h"
#include "views.h"

int views_criu_tar_of(fs_ctx *ctx, const fs_node *n, store_desc *ret_desc, const struct tar_index **ret_tar,
                       const char **ret_member, int64_t *ret_created) {
        const char *key = NODE_KEY3(n), *slash = key ? strchr(key, '/') : NULL;
        if (!key)
                return -EINVAL;
        _cleanup_free_ char *digest = slash ? strndup(key, (size_t) (slash - key)) : strdup(key);
        if (!digest)
                return -ENOMEM;
        int r = views_find_blob(ctx, n, digest, ret_desc, ret_created);
        if (r < 0)
                return r;
        r = store_views_tar(ctx->views, NODE_NS(n), ret_desc, ret_tar);
        if (r < 0) {
                store_desc_clear(ret_desc);
                return r;
        }
        *ret_member = slash ? slash + 1 : NULL;
        return 0;
}

/* The kind of record image member `name` is; NULL (and 0) when it is none. */
static int member_kind(fs_ctx *ctx, const char *ns, const store_desc *d, const struct tar_index *tar,
                       const char *name, const struct criu_kind **ret_kind) {
        _cleanup_store_reader_ struct store_reader *r = NULL;
        _cleanup_criu_image_ struct criu_image *img = NULL;
        int k = views_criu_member(ctx, ns, d, tar, name, &r);
        if (k < 0)
                return k;
        k = criu_image_open(r, &img);
        if (k < 0 && k != -EBADMSG)
                return k;
        *ret_kind = k < 0 ? NULL : criu_image_kind(img);
        return 0;
}

/* "pstree.img" -> "pstree.json", "stats-dump" -> "stats-dump.json". */
static char *json_name(const char *member) {
        size_t n = strlen(member);
        char *s = NULL;
        if (n > 4 && !strcmp(member + n - 4, ".img"))
                n -= 4;
        return asprintf(&s, "%.*s.json", (int) n, member) < 0 ? NULL : s;
}

typedef struct decoded_lister {
        fs_ctx *ctx;
        const fs_node *dir;
        store_desc desc;
        const struct tar_index *tar;
        fs_dirents *out;
} decoded_lister;

static int add_image(const char *name, const struct tar_member *m, void *userdata) {
        decoded_lister *l = userdata;
        const struct criu_kind *kind;
        if (!m || m->type != TAR_TYPE_REG)
                return 0;
        int r = member_kind(l->ctx, NODE_NS(l->dir), &l->desc, l->tar, name, &kind);
        if (r < 0 || !kind)
                return r;
        _cleanup_free_ char *key = NULL, *file = json_name(name);
        if (!file || asprintf(&key, "%s/%s", l->desc.digest, name) < 0)
                return -ENOMEM;
        return fs_dirents_add(l->out, FS_CK_DECODED_FILE, file, NODE_NS(l->dir), NODE_ID(l->dir), key);
}

int views_list_decoded(fs_ctx *ctx, const fs_node *dir, fs_dirents *out) {
        decoded_lister l = { .ctx = ctx, .dir = dir, .out = out };
        const char *member;
        int r = views_criu_tar_of(ctx, dir, &l.desc, &l.tar, &member, NULL);
        if (r < 0)
                return r;
        r = tar_index_foreach_child(l.tar, "", add_image, &l);
        store_desc_clear(&l.desc);
        return r;
}

/* The tar, member name and image kind of a decoded file. */
static int image_of(fs_ctx *ctx, const fs_node *n, store_desc *ret_desc, const struct tar_index **ret_tar,
                    const char **ret_member, const struct criu_kind **ret_kind, int64_t *ret_created) {
        const char *member;
        int r = views_criu_tar_of(ctx, n, ret_desc, ret_tar, &member, ret_created);
        if (r < 0)
                return r;
        const struct tar_member *m = member ? tar_index_find(*ret_tar, member) : NULL;
        const struct criu_kind *kind = NULL;
        r = !m || m->type != TAR_TYPE_REG ? -ENOENT : member_kind(ctx, NODE_NS(n), ret_desc, *ret_tar, member, &kind);
        if (r >= 0 && !kind)
                r = -ENOENT;
        if (r < 0) {
                store_desc_clear(ret_desc);
                return r;
        }
        *ret_member = member;
        *ret_kind = kind;
        return 0;
}

int views_decoded_attr(fs_ctx *ctx, const fs_node *n, struct stat *st) {
        store_desc d;
        const struct tar_index *tar;
        const char *member;
        const struct criu_kind *kind;
        int64_t created;
        int r = image_of(ctx, n, &d, &tar, &member, &kind, &created);
        if (r < 0)
                return r;
        store_desc_clear(&d);
        if (kind->secret)
                st->st_mode = S_IFREG | 0400;
        views_set_times(st, created);
        return views_shared_nlink(ctx, n, st);
}

int views_content_decoded(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len) {
        store_desc d;
        const struct tar_index *tar;
        const char *member;
        const struct criu_kind *kind;
        int r = image_of(ctx, n, &d, &tar, &member, &kind, NULL);
        if (r < 0)
                return r;
        _cleanup_store_reader_ struct store_reader *reader = NULL;
        _cleanup_json_ json_t *j = NULL;
        r = views_criu_member(ctx, NODE_NS(n), &d, tar, member, &reader);
        store_desc_clear(&d);
        if (r >= 0)
                r = criu_image_json(reader, &j);
        /* A record image that does not decode is a damaged checkpoint. */
        if (r == -EBADMSG || r == -EOPNOTSUPP)
                return -EIO;
        if (r < 0)
                return r;
        return json_dump_text(j, JSON_INDENT(4), ret, ret_len);
}
