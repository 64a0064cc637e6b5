/* registry_push: a checkpoint's blobs, its manifests, its index. */
#include "registry.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "monotime.h"
#include "registry-api.h"

typedef struct push {
        registry_client *c;
        const registry_item *items;
        const size_t *blobs;       /* indexes of the non-manifest items */
        const registry_source *src;
        pthread_mutex_t lock;      /* guards res and err */
        registry_result *res;
        registry_error *err;
} push;

static void note_error(push *p, const registry_error *e) {
        pthread_mutex_lock(&p->lock);
        if (!p->err->message[0])
                *p->err = *e;
        pthread_mutex_unlock(&p->lock);
}

static void count(push *p, unsigned *what, uint64_t bytes) {
        pthread_mutex_lock(&p->lock);
        (*what)++;
        p->res->bytes += bytes;
        pthread_mutex_unlock(&p->lock);
}

static int push_blob(void *ud, size_t k) {
        push *p = ud;
        const registry_item *it = &p->items[p->blobs[k]];
        registry_error e = { { 0 } };
        uint64_t have = 0;
        int r = registry_blob_head(p->c, it->digest, &have, &e);
        const registry_ref *ref = registry_client_ref(p->c);
        if (r >= 0 && have == it->size) {
                registry_memo_note(ref->host, ref->repo, it->digest);
                count(p, &p->res->skipped, 0);
                return 0;
        }
        if (r < 0 && r != -ENOENT) {
                note_error(p, &e);
                return r;
        }
        /* any failure of a mount (no pull right on the source, gone): upload */
        char from[REGISTRY_REPO_MAX];
        if (registry_memo_find(ref->host, ref->repo, it->digest, from) &&
            registry_blob_mount(p->c, it->digest, from, &e) >= 0) {
                registry_memo_note(ref->host, ref->repo, it->digest);
                count(p, &p->res->mounted, 0);
                return 0;
        }
        void *h = NULL;
        r = p->src->open(p->src->ud, it->digest, it->size, &h);
        if (r < 0) {
                snprintf(e.message, sizeof(e.message), "cannot read blob %s here: %s", it->digest, strerror(-r));
                note_error(p, &e);
                return r;
        }
        e = (registry_error) { { 0 } };
        r = registry_blob_upload(p->c, it->digest, it->size, p->src->read_at, h, &e);
        p->src->close(h);
        if (r < 0) {
                note_error(p, &e);
                return r;
        }
        registry_memo_note(ref->host, ref->repo, it->digest);
        if (it->size > REGISTRY_CHUNK)
                count(p, &p->res->chunked, 0);
        count(p, &p->res->uploaded, it->size);
        return 0;
}

/* A manifest (small) read whole through the source. */
static int read_whole(const registry_source *src, const registry_item *it, uint8_t **ret, registry_error *err) {
        if (it->size > 16 * 1024 * 1024) {
                snprintf(err->message, sizeof(err->message), "manifest %s is too big (%llu bytes)", it->digest,
                         (unsigned long long) it->size);
                return -EFBIG;
        }
        void *h = NULL;
        int r = src->open(src->ud, it->digest, it->size, &h);
        _cleanup_free_ uint8_t *buf = malloc(it->size ? it->size : 1);
        if (r >= 0 && !buf)
                r = -ENOMEM;
        for (uint64_t off = 0; r >= 0 && off < it->size;) {
                ssize_t n = src->read_at(h, buf + off, it->size - off, off);
                if (n <= 0)
                        r = n < 0 ? (int) n : -EIO;
                else
                        off += (uint64_t) n;
        }
        if (h)
                src->close(h);
        if (r < 0) {
                snprintf(err->message, sizeof(err->message), "cannot read %s here: %s", it->digest, strerror(-r));
                return r;
        }
        *ret = TAKE_PTR(buf);
        return 0;
}

static int put_manifest(push *p, const registry_item *it, const char *reference) {
        _cleanup_free_ uint8_t *buf = NULL;
        int r = read_whole(p->src, it, &buf, p->err);
        if (r < 0)
                return r;
        r = registry_manifest_put(p->c, reference, it->media_type, buf, it->size, p->err);
        if (r >= 0) {
                p->res->manifests++;
                p->res->bytes += it->size;
        }
        return r;
}

static int run(push *p, size_t n, const size_t *blobs, size_t n_blobs) {
        int r = registry_pool_run(n_blobs, REGISTRY_THREADS, push_blob, p);
        if (r < 0)
                return r;
        /* manifests deepest first (the reach list is breadth-first), the index last */
        for (size_t i = n; i-- > 1;)
                if (registry_is_manifest(p->items[i].media_type) && (r = put_manifest(p, &p->items[i], p->items[i].digest)) < 0)
                        return r;
        const registry_ref *ref = registry_client_ref(p->c);
        return put_manifest(p, &p->items[0], ref->tag[0] ? ref->tag : p->items[0].digest);
}

int registry_push(const registry_ref *ref, const registry_conn *conn, const registry_item *items, size_t n,
                  const registry_source *src, registry_result *ret, registry_error *err) {
        if (n == 0 || !registry_is_manifest(items[0].media_type)) {
                snprintf(err->message, sizeof(err->message), "nothing to push: no index");
                return -EINVAL;
        }
        if (ref->digest[0] && strcmp(ref->digest, items[0].digest) != 0) {
                snprintf(err->message, sizeof(err->message), "the reference's digest is not the checkpoint's (%s)",
                         items[0].digest);
                return -EINVAL;
        }
        struct timespec t0 = monotime_now();
        _cleanup_free_ size_t *blobs = calloc(n, sizeof(size_t));
        if (!blobs)
                return -ENOMEM;
        size_t n_blobs = 0;
        for (size_t i = 1; i < n; i++)
                if (!registry_is_manifest(items[i].media_type))
                        blobs[n_blobs++] = i;
        registry_client *c;
        int r = registry_client_new(ref, conn->insecure, conn->auth, true, conn->timeout_ms, &c);
        if (r < 0)
                return r;
        registry_result res = { .blobs = (unsigned) n_blobs };
        snprintf(res.digest, sizeof(res.digest), "%s", items[0].digest);
        /* mounts need pull on their sources: one token for all */
        for (size_t k = 0; k < n_blobs; k++) {
                char from[REGISTRY_REPO_MAX];
                if (registry_memo_find(ref->host, ref->repo, items[blobs[k]].digest, from))
                        (void) registry_client_add_pull_scope(c, from);
        }
        push p = { .c = c, .items = items, .blobs = blobs, .src = src, .res = &res, .err = err };
        pthread_mutex_init(&p.lock, NULL);
        err->message[0] = 0;
        r = run(&p, n, blobs, n_blobs);
        pthread_mutex_destroy(&p.lock);
        registry_client_free(c);
        res.ms = monotime_ms_since(&t0);
        if (r >= 0)
                *ret = res;
        return r;
}
