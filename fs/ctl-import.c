/* The import control file: parse, check the layout (store/core), write it
 * into containerd (rpc/checkpoint), tell the catalog, keep the result. */
#include "ctl-import.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "checkpoint-import.h"
#include "checkpoint-registry.h"
#include "cleanup.h"
#include "ctl-registry.h"
#include "log.h"
#include "import-src.h"
#include "monotime.h"
#include "oci-import.h"

/* The last result per namespace: a few lines of text. Process-wide, as the
 * namespaces are; under its own leaf lock. */
#define MAX_NS 64
static struct {
        pthread_mutex_t lock;
        char *ns[MAX_NS];
        char *text[MAX_NS];
} results = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Takes text. */
static void keep_result(const char *ns, char *text) {
        pthread_mutex_lock(&results.lock);
        size_t i = 0;
        while (i < MAX_NS && results.ns[i] && strcmp(results.ns[i], ns) != 0)
                i++;
        if (i == MAX_NS)
                i = MAX_NS - 1; /* full: the last slot is reused */
        if (!results.ns[i] || strcmp(results.ns[i], ns) != 0) {
                free(results.ns[i]);
                results.ns[i] = strdup(ns);
        }
        free(results.text[i]);
        results.text[i] = results.ns[i] ? text : NULL;
        if (!results.ns[i])
                free(text);
        pthread_mutex_unlock(&results.lock);
}

static int fail(const char *ns, const char *path, int r, const char *msg) {
        char *text = NULL;
        if (asprintf(&text, "result: error\nerrno: %s\nerror: %s\nsource: %s\n", strerrorname_np(-r) ?: "?",
                     msg ? msg : strerror(-r), path ? path : "-") >= 0)
                keep_result(ns, text);
        log_error_errno(r, "import into %s of %s: %s", ns, path ? path : "-", msg ? msg : strerror(-r));
        return r;
}

/* The plan's blobs as rpc/checkpoint takes them; readers opened for the
 * present ones (freed by the caller with free_readers). */
static int blobs_of(oci_src *s, const oci_plan *p, ckpt_import_blob *out, struct store_reader **readers) {
        for (size_t i = 0; i < p->n; i++) {
                const oci_blob *b = &p->blobs[i];
                out[i] = (ckpt_import_blob) { .digest = b->digest, .media_type = b->media_type, .size = b->size,
                                              .present = b->present, .labels = (const char *const *) b->labels,
                                              .n_labels = b->n_labels };
                if (!b->present)
                        continue;
                char rel[DIGEST_MAX + 16];
                int r = oci_blob_relpath(b->digest, rel);
                if (r >= 0)
                        r = oci_src_open_file(s, rel, &readers[i]);
                if (r < 0)
                        return r;
                out[i].pread = readers[i]->pread;
                out[i].ctx = readers[i]->ctx;
        }
        return 0;
}

static void free_readers(struct store_reader **readers, size_t n) {
        for (size_t i = 0; readers && i < n; i++)
                if (readers[i])
                        store_reader_free(readers[i]);
        free(readers);
}

static int import_plan(fs_ctx *ctx, const char *ns, const char *path, const char *name, oci_src *s,
                       const oci_plan *p, ckpt_import_result *res) {
        _cleanup_free_ ckpt_import_blob *blobs = calloc(p->n, sizeof(*blobs));
        struct store_reader **readers = calloc(p->n, sizeof(*readers));
        int r = blobs && readers ? blobs_of(s, p, blobs, readers) : -ENOMEM;
        _cleanup_free_ char *msg = NULL;
        if (r < 0)
                msg = strdup("cannot reopen the blobs of the layout");
        else
                r = ckpt_import(ctx->rpc, ns, name, blobs, p->n, res, &msg);
        free_readers(readers, p->n);
        return r < 0 ? fail(ns, path, r, msg) : 0;
}

/* What the conversion of an engine archive did, appended to the result. */
static void archive_lines(char **text, const store_archive_layout *l) {
        char *more = NULL;
        if (asprintf(&more,
                     "%sarchive: %s\nconverted: criu_files %llu, criu_bytes %llu, rw_bytes %lld%s, root_fixed %u\n"
                     "converted_in: a private directory (0700), removed\n",
                     *text, store_archive_kind_name(l->kind), (unsigned long long) l->res.criu_members,
                     (unsigned long long) l->res.criu_size, (long long) l->res.rw_size,
                     l->res.rw_recompressed ? " (gzip'd here)" : "", l->res.root_fixed) >= 0) {
                free(*text);
                *text = more;
        }
}

static void layout_clearp(store_archive_layout *l) {
        store_archive_layout_clear(l);
}

static int run(fs_ctx *ctx, const char *ns, const char *path, const char *name_arg, const char *image) {
        struct timespec t0 = monotime_now();
        _cleanup_free_ char *msg = NULL;
        __attribute__((cleanup(layout_clearp))) store_archive_layout l = { .dir = "" };
        _cleanup_oci_src_ oci_src *s = NULL;
        /* A taken name given fails before an archive's conversion. */
        int r = name_arg ? ckpt_import_check_name(ctx->rpc, ns, name_arg, &msg) : 0;
        if (r < 0)
                return fail(ns, path, r, msg);
        const char *root = ctx->ckpt ? ckpt_registry_work_dir(ctx->ckpt) : NULL;
        r = import_src_open(path, root ? root : "/var/tmp", name_arg, image, &s, &l, &msg);
        if (r < 0)
                return fail(ns, path, r, msg);
        _cleanup_oci_plan_ oci_plan *p = NULL;
        r = oci_plan_build(s, &p, &msg);
        if (r < 0)
                return fail(ns, path, r, msg);
        const char *name = name_arg ? name_arg : p->name;
        if (!name)
                return fail(ns, path, -EINVAL, "the layout names no image: add name=REF");
        /* A taken name fails before the long part. */
        r = ckpt_import_check_name(ctx->rpc, ns, name, &msg);
        if (r >= 0)
                r = oci_plan_verify(s, p, &msg);
        if (r < 0)
                return fail(ns, path, r, msg);
        long verify_ms = monotime_ms_since(&t0);
        ckpt_import_result res;
        r = import_plan(ctx, ns, path, name, s, p, &res);
        if (r < 0)
                return r;
        if (ctx->catalog)
                (void) store_catalog_sync_image(ctx->catalog, ns, name);
        char *text = NULL;
        if (asprintf(&text,
                     "result: ok\nimage: %s\ndigest: %s\nblobs: %zu\nblobs_from_store: %zu\nbytes: %llu\n"
                     "source: %s (%s)\nverify_ms: %ld\ntotal_ms: %ld\n",
                     name, res.index_digest, res.n_written, res.n_shared, (unsigned long long) res.bytes, path,
                     l.dir[0] ? store_archive_kind_name(l.kind) : oci_src_is_tar(s) ? "tar" : "directory",
                     verify_ms, monotime_ms_since(&t0)) < 0)
                return -ENOMEM;
        if (l.dir[0])
                archive_lines(&text, &l);
        keep_result(ns, text);
        log_info("imported %s into %s as %s (%s)", path, ns, name, res.index_digest);
        return 0;
}

int ctl_import_write(fs_ctx *ctx, const fs_node *n, const char *buf, size_t len) {
        /* `pull REGISTRY/REPO:TAG [name=REF] [insecure]`: from a registry
         * (fs/ctl-registry.c; its outcome shows in <ns>/pull) */
        if (len > 5 && strncmp(buf, "pull", 4) == 0 && (buf[4] == ' ' || buf[4] == '	'))
                return ctl_registry_pull(ctx, NODE_NS(n), buf + 5, len - 5);
        _cleanup_free_ char *path = NULL, *name = NULL, *image = NULL, *msg = NULL;
        int r = oci_import_parse(buf, len, &path, &name, &image, &msg);
        if (r < 0)
                return fail(NODE_NS(n), NULL, r, msg);
        return run(ctx, NODE_NS(n), path, name, image);
}

int ctl_import_read(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len) {
        char *text = NULL;
        pthread_mutex_lock(&results.lock);
        for (size_t i = 0; i < MAX_NS && results.ns[i]; i++)
                if (strcmp(results.ns[i], NODE_NS(n)) == 0 && results.text[i])
                        text = strdup(results.text[i]);
        pthread_mutex_unlock(&results.lock);
        return fs_content_string(text ? text : strdup(""), ret, ret_len);
}
