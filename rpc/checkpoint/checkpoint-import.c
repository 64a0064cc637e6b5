/* Blobs into the content store under a lease, then Images.Create; the
 * lease is dropped at the end, whatever happened. */
#include "checkpoint-import.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "containerd.h"
#include "vocab.h"

#define T_SHORT_MS 15000
#define LEASE_EXPIRE_S 3600

struct import {
        rpc_client *c;
        rpc_opts o;        /* namespace, lease once made */
        char lease[64];
        char **msg;
};

static int fail(struct import *im, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct import *im, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(im->msg, fmt, ap) < 0)
                *im->msg = NULL;
        va_end(ap);
        return r;
}

/* containerd's failures as the user sees them: EIO, unless the daemon is away. */
static int daemon_errno(int r) {
        return r == -ENOMEM || r == -ETIMEDOUT || r == -ENOTCONN ? r : -EIO;
}

static rpc_opts opts(const struct import *im, int64_t timeout_ms) {
        rpc_opts o = im->o;
        o.timeout_ms = timeout_ms;
        return o;
}

static int name_free(struct import *im, const char *name) {
        rpc_error err = { 0 };
        rpc_image *img = NULL;
        rpc_opts o = opts(im, T_SHORT_MS);
        int r = rpc_images_get(im->c, &o, name, &img, &err);
        if (r >= 0) {
                pb_msg_free(img);
                return fail(im, -EEXIST, "an image named %s exists already", name);
        }
        if (r != -ENOENT)
                return fail(im, daemon_errno(r), "Images.Get of %s failed: %s", name, err.message);
        return 0;
}

int ckpt_import_check_name(rpc_client *c, const char *ns, const char *name, char **ret_msg) {
        *ret_msg = NULL;
        struct import im = { .c = c, .o = { .ns = ns }, .msg = ret_msg };
        return name_free(&im, name);
}

/* The name is free, and every blob not in the backup is in the store. */
static int precheck(struct import *im, const char *name, const ckpt_import_blob *blobs, size_t n,
                    ckpt_import_result *res) {
        rpc_error err = { 0 };
        rpc_opts o = opts(im, T_SHORT_MS);
        int r = name_free(im, name);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                if (blobs[i].present)
                        continue;
                rpc_blob_info *info = NULL;
                r = rpc_content_info(im->c, &o, blobs[i].digest, &info, &err);
                if (r == -ENOENT)
                        return fail(im, -EIO, "blob %s (%s) is missing from the backup and from the content store",
                                    blobs[i].digest, blobs[i].media_type);
                if (r < 0)
                        return fail(im, daemon_errno(r), "Content.Info of %s failed: %s", blobs[i].digest,
                                    err.message);
                pb_msg_free(info);
                res->n_shared++;
        }
        return 0;
}

static int make_lease(struct import *im) {
        if (rpc_lease_name("ckptfs-import-", im->lease, sizeof(im->lease)) < 0)
                return fail(im, -EIO, "cannot get random bytes");
        rpc_error err = { 0 };
        rpc_opts o = opts(im, T_SHORT_MS);
        int r = rpc_leases_create_expiring(im->c, &o, im->lease, LEASE_EXPIRE_S, &err);
        if (r < 0)
                return fail(im, daemon_errno(r), "creating a lease failed: %s", err.message);
        im->o.lease = im->lease;
        return 0;
}

struct pull {
        const ckpt_import_blob *b;
        uint64_t off;
};

static ssize_t pull(void *userdata, uint8_t *buf, size_t cap) {
        struct pull *p = userdata;
        if (p->off >= p->b->size)
                return 0;
        if (cap > p->b->size - p->off)
                cap = (size_t) (p->b->size - p->off);
        ssize_t n = p->b->pread(p->b->ctx, buf, cap, p->off);
        if (n > 0)
                p->off += (uint64_t) n;
        return n;
}

static int write_blob(struct import *im, size_t i, const ckpt_import_blob *b) {
        char ref[128], got[DIGEST_MAX];
        snprintf(ref, sizeof(ref), "%s-%zu", im->lease, i);
        struct pull p = { .b = b };
        rpc_error err = { 0 };
        /* ~10 MB/s at worst, plus a minute */
        rpc_opts o = opts(im, 60000 + (int64_t) (b->size / 10000));
        int r = rpc_content_ingest(im->c, &o, ref, b->size, pull, &p, b->labels, b->n_labels, got, &err);
        if (r < 0)
                return fail(im, daemon_errno(r), "writing blob %s failed: %s", b->digest, err.message);
        if (strcmp(got, b->digest) != 0)
                return fail(im, -EIO, "blob %s changed while it was imported (now %s)", b->digest, got);
        return 0;
}

/* Tests only: CKPTFS_TEST_IMPORT_FAIL=N makes an import fail after N blobs
 * are written, to show that a failure leaves nothing behind. */
static bool test_fault(const ckpt_import_result *res) {
        const char *e = getenv("CKPTFS_TEST_IMPORT_FAIL");
        return e && *e && res->n_written >= strtoul(e, NULL, 10);
}

static int write_all(struct import *im, const ckpt_import_blob *blobs, size_t n, ckpt_import_result *res) {
        for (size_t i = 0; i < n; i++) {
                int r;
                if (test_fault(res))
                        return fail(im, -EIO, "test fault after %zu blobs (CKPTFS_TEST_IMPORT_FAIL)", res->n_written);
                if (blobs[i].present) {
                        r = write_blob(im, i, &blobs[i]);
                        if (r < 0)
                                return r;
                        res->n_written++;
                        res->bytes += blobs[i].size;
                        continue;
                }
                rpc_error err = { 0 };
                rpc_opts o = opts(im, T_SHORT_MS);
                r = rpc_leases_add_resource(im->c, &o, im->lease, "content", blobs[i].digest, &err);
                if (r < 0)
                        return fail(im, daemon_errno(r), "holding blob %s failed: %s", blobs[i].digest, err.message);
        }
        return 0;
}

static int create_image(struct import *im, const char *name, const ckpt_import_blob *root) {
        Containerd__Types__Descriptor target = CONTAINERD__TYPES__DESCRIPTOR__INIT;
        target.media_type = (char *) root->media_type;
        target.digest = (char *) root->digest;
        target.size = (int64_t) root->size;
        const char *labels[] = { LABEL_CHECKPOINT, "true" };
        rpc_error err = { 0 };
        rpc_opts o = opts(im, T_SHORT_MS);
        int r = rpc_images_create(im->c, &o, name, &target, labels, 1, &err);
        if (r == -EEXIST)
                return fail(im, -EEXIST, "an image named %s exists already", name);
        if (r < 0)
                return fail(im, daemon_errno(r), "creating image %s failed: %s", name, err.message);
        return 0;
}

int ckpt_import(rpc_client *c, const char *ns, const char *name, const ckpt_import_blob *blobs, size_t n,
                ckpt_import_result *ret, char **ret_msg) {
        *ret_msg = NULL;
        if (n == 0 || !name || !*name)
                return -EINVAL;
        struct import im = { .c = c, .o = { .ns = ns }, .msg = ret_msg };
        ckpt_import_result res = { 0 };
        int r = precheck(&im, name, blobs, n, &res);
        if (r >= 0)
                r = make_lease(&im);
        if (r < 0)
                return r;
        r = write_all(&im, blobs, n, &res);
        if (r >= 0)
                r = create_image(&im, name, &blobs[0]);
        /* After a failure, synchronously: its blobs are gone on return. */
        rpc_error err = { 0 };
        rpc_opts o = { .ns = ns, .timeout_ms = T_SHORT_MS };
        int k = rpc_leases_delete(c, &o, im.lease, r < 0, &err);
        if (r < 0)
                return r;
        (void) k; /* the image holds its blobs; a lease left expires within the hour */
        snprintf(res.index_digest, sizeof(res.index_digest), "%s", blobs[0].digest);
        *ret = res;
        return 0;
}
