#include "cri-tar.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt-files.h"
#include "cleanup.h"
#include "cri-dump.h"
#include "decode.h"
#include "vtar.h"

#define CRI_FILE_MODE 0600
#define CRI_DIR_MODE 0700
#define STATS_DUMP "stats-dump"

/* What the archive is made of, besides the readers it opens. */
typedef struct cri_src {
        store_views *views;
        store_blobs *blobs;
        const char *ns;
        const store_desc *criu;
        const struct tar_index *tar;
        int64_t mtime;
} cri_src;

/* Adds member m of the CRIU tar as `path`. */
static int add_member(vtar *t, const cri_src *s, const char *path, const struct tar_member *m) {
        struct store_reader *rd;
        int r = store_views_member_reader(s->views, s->ns, s->criu, m, &rd);
        if (r < 0)
                return r;
        r = vtar_add_file(t, path, CRI_FILE_MODE, s->mtime, rd);
        if (r < 0)
                store_reader_free(rd);
        return r;
}

/* checkpoint/ and the regular members of the CRIU tar, each path once (the
 * last member of a path is the one tar -x leaves). */
static int add_checkpoint_dir(vtar *t, const cri_src *s) {
        int r = vtar_add_dir(t, "checkpoint", CRI_DIR_MODE, s->mtime);
        for (size_t i = 0; r >= 0 && i < s->tar->n; i++) {
                const struct tar_member *m = &s->tar->members[i];
                if (m->type != TAR_TYPE_REG || tar_index_find(s->tar, m->path) != m)
                        continue;
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "checkpoint/%s", m->path) < 0)
                        return -ENOMEM;
                r = add_member(t, s, path, m);
        }
        return r;
}

static int add_blob(vtar *t, const cri_src *s, const char *path, const store_desc *d) {
        struct store_reader *rd;
        int r = store_blob_open(s->blobs, s->ns, d->digest, d->size, &rd);
        if (r < 0)
                return r;
        r = vtar_add_file(t, path, CRI_FILE_MODE, s->mtime, rd);
        if (r < 0)
                store_reader_free(rd);
        return r;
}

/* The dumps of a checkpoint with a config blob. */
typedef struct cri_meta {
        store_cri_dumps dumps;
        uint8_t *spec;
        size_t spec_len;
} cri_meta;

static void cri_meta_clear(cri_meta *m) {
        store_cri_dumps_clear(&m->dumps);
        free(m->spec);
}

static int meta_of(store_catalog *cat, store_blobs *blobs, const store_ckpt *ck, const store_desc *config,
                   cri_meta *ret) {
        _cleanup_free_ char *json = NULL;
        _cleanup_free_ uint8_t *blob = NULL;
        size_t len, blen;
        int r = store_ckpt_config_json(cat, blobs, ck, &json, &len);
        if (r >= 0)
                r = store_blob_read_all(blobs, ck->ns, config->digest, config->size, STORE_CKPT_SMALL_BLOB_MAX, &blob,
                                        &blen);
        if (r < 0)
                return r;
        cri_meta m = { 0 };
        r = store_decode_config_spec(blob, blen, &m.spec, &m.spec_len);
        if (r >= 0)
                r = store_cri_dumps_render(json, len, ck->created_ns, &m.dumps);
        if (r < 0) {
                cri_meta_clear(&m);
                return r;
        }
        *ret = m;
        return 0;
}

static int add_rest(vtar *t, const cri_src *s, const cri_meta *meta, const store_desc *layer) {
        int r = 0;
        if (meta)
                r = vtar_add_bytes(t, "config.dump", CRI_FILE_MODE, s->mtime, meta->dumps.config_dump,
                                   meta->dumps.config_len);
        if (r >= 0 && layer)
                r = add_blob(t, s, "rootfs-diff.tar", layer);
        if (r >= 0 && meta)
                r = vtar_add_bytes(t, "spec.dump", CRI_FILE_MODE, s->mtime, meta->spec, meta->spec_len);
        const struct tar_member *stats = tar_index_find(s->tar, STATS_DUMP);
        if (r >= 0 && stats && stats->type == TAR_TYPE_REG)
                r = add_member(t, s, STATS_DUMP, stats);
        if (r >= 0 && meta)
                r = vtar_add_bytes(t, "status.dump", CRI_FILE_MODE, s->mtime, meta->dumps.status_dump,
                                   meta->dumps.status_len);
        return r;
}

int store_cri_tar_open(store_views *v, store_catalog *cat, store_blobs *blobs, const store_ckpt *ck,
                       const store_descs *kids, struct store_reader **ret) {
        store_ckpt_parts parts = store_ckpt_parts_of(kids);
        if (!parts.criu)
                return -ENOENT;
        cri_src s = { .views = v, .blobs = blobs, .ns = ck->ns, .criu = parts.criu,
                      .mtime = ck->created_ns > 0 ? ck->created_ns / 1000000000 : 0 };
        int r = store_views_tar(v, ck->ns, parts.criu, &s.tar);
        if (r < 0)
                return r;
        cri_meta meta = { 0 };
        if (parts.config) {
                r = meta_of(cat, blobs, ck, parts.config, &meta);
                if (r < 0)
                        return r == -EBADMSG ? -EIO : r;
        }
        _cleanup_vtar_ vtar *t = NULL;
        r = vtar_new(&t);
        if (r >= 0)
                r = add_checkpoint_dir(t, &s);
        if (r >= 0)
                r = add_rest(t, &s, parts.config ? &meta : NULL, parts.layer);
        cri_meta_clear(&meta);
        if (r >= 0)
                r = vtar_finish(t, ret);
        if (r >= 0)
                t = NULL;
        return r == -EBADMSG || r == -EOPNOTSUPP ? -EIO : r;
}
