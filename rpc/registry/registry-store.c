/* The pulled blobs into containerd: Content.Write under a lease, the
 * image with the checkpoint label. */
#include "registry-pull.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "registry-api.h"
#include "strv.h"
#include "containerd.h"
#include "vocab.h"

#define LEASE_EXPIRE_S 3600

typedef struct item_reader {
        const pull_item *it;
        int fd;                 /* without bytes: the pipe the blob comes through */
        uint64_t off;
} item_reader;

static ssize_t read_item(void *ud, uint8_t *buf, size_t cap) {
        item_reader *ir = ud;
        uint64_t left = ir->it->size - ir->off;
        size_t n = left < cap ? (size_t) left : cap;
        if (n == 0)
                return 0;
        if (ir->it->bytes) {
                memcpy(buf, ir->it->bytes + ir->off, n);
                ir->off += n;
                return (ssize_t) n;
        }
        ssize_t k;
        while ((k = read(ir->fd, buf, n)) < 0 && errno == EINTR)
                ;
        if (k < 0)
                return -errno;
        if (k == 0)
                return -EIO;   /* the fetch ended early: its error says why */
        ir->off += (uint64_t) k;
        return k;
}

/* Content.Write of item i (its bytes, or what comes through fd). */
static int ingest(pull_state *p, size_t i, int fd, registry_error *err) {
        const pull_item *it = &p->v[i];
        size_t nc = strv_length(it->children);
        _cleanup_free_ const char **labels = calloc(2 * nc + 1, sizeof(char *));
        _cleanup_free_ char *keys = calloc(nc + 1, 48);
        if (!labels || !keys)
                return -ENOMEM;
        /* gc.ref labels keep what a manifest names alive as long as it is */
        for (size_t k = 0; k < nc; k++) {
                snprintf(keys + 48 * k, 48, "containerd.io/gc.ref.content.%zu", k);
                labels[2 * k] = keys + 48 * k;
                labels[2 * k + 1] = it->children[k];
        }
        char ref[200], got[DIGEST_MAX];
        snprintf(ref, sizeof(ref), "%s-%.24s", p->lease, it->digest + strlen(DIGEST_PREFIX));
        item_reader ir = { .it = it, .fd = fd };
        rpc_opts o = { .ns = p->ns, .lease = p->lease, .timeout_ms = 60000 + (int64_t) (it->size / 10000) };
        rpc_error e = { 0 };
        int r = rpc_content_ingest(p->rpc, &o, ref, it->size, read_item, &ir, labels, nc, got, &e);
        if (r < 0) {
                snprintf(err->message, sizeof(err->message), "writing %s into containerd failed: %.700s", it->digest,
                         e.message);
                return r;
        }
        if (strcmp(got, it->digest) != 0) {
                snprintf(err->message, sizeof(err->message), "blob %s changed on its way into containerd (%s)",
                         it->digest, got);
                return -EIO;
        }
        return 0;
}

typedef struct fetcher {
        pull_state *p;
        size_t i;
        int fd;
        int r;
        registry_error err;
} fetcher;

static void *fetch_thread(void *arg) {
        fetcher *f = arg;
        /* a write to a pipe whose reader gave up: EPIPE, not a signal */
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        f->r = registry_blob_fetch_fd(f->p->c, f->p->v[f->i].digest, f->p->v[f->i].size, f->fd, &f->err);
        close(f->fd);
        return NULL;
}

int pull_stream_blob(pull_state *p, size_t i, registry_error *err) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        (void) fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
        fetcher f = { .p = p, .i = i, .fd = fds[1] };
        pthread_t t;
        int r = -pthread_create(&t, NULL, fetch_thread, &f);
        if (r < 0) {
                close(fds[0]);
                close(fds[1]);
                return r;
        }
        registry_error ie = { { 0 } };
        r = ingest(p, i, fds[0], &ie);
        close(fds[0]);
        pthread_join(t, NULL);
        /* the fetch's error first: it is the cause (a mismatch, the registry gone) */
        if (f.r < 0 && !(r < 0 && f.r == -EPIPE)) {
                *err = f.err;
                return f.r;
        }
        if (r < 0)
                *err = ie;
        return r;
}

static int make_lease(rpc_client *rpc, const char *ns, char lease[96]) {
        lease[0] = 0;
        int r = rpc_lease_name("ckptfs-pull-", lease, 96);
        if (r < 0)
                return r;
        rpc_opts o = { .ns = ns };
        rpc_error e = { 0 };
        r = rpc_leases_create_expiring(rpc, &o, lease, LEASE_EXPIRE_S, &e);
        if (r < 0)
                lease[0] = 0;
        return r;
}

int pull_lease_begin(pull_state *p) {
        int r = make_lease(p->rpc, p->ns, p->lease);
        if (r < 0)
                snprintf(p->err->message, sizeof(p->err->message), "creating a lease in containerd failed: %s",
                         strerror(-r));
        return r;
}

void pull_lease_end(pull_state *p) {
        if (!p->lease[0])
                return;
        rpc_opts o = { .ns = p->ns };
        rpc_error e = { 0 };
        (void) rpc_leases_delete(p->rpc, &o, p->lease, false, &e);
        p->lease[0] = 0;
}

int pull_have_local(pull_state *p, size_t i) {
        /* into the lease first: then a blob Content.Info finds cannot be
         * collected before the image refers to it */
        rpc_opts o = { .ns = p->ns };
        rpc_error e = { 0 };
        if (rpc_leases_add_resource(p->rpc, &o, p->lease, "content", p->v[i].digest, &e) < 0)
                return 0;
        rpc_blob_info *info = NULL;
        int r = rpc_content_info(p->rpc, &o, p->v[i].digest, &info, &e);
        bool have = r >= 0 && info && (uint64_t) info->size == p->v[i].size;
        pb_msg_free(info);
        return have ? 1 : 0;
}

int pull_store(pull_state *p, const char *name) {
        rpc_client *rpc = p->rpc;
        rpc_opts lo = { .ns = p->ns, .lease = p->lease };
        int r = 0;
        /* the blobs are in (pull_stream_blob); the manifests deepest first, the index last */
        for (size_t i = p->n; r >= 0 && i-- > 0;)
                if (p->v[i].bytes)
                        r = ingest(p, i, -1, p->err);
        if (r >= 0) {
                Containerd__Types__Descriptor target = CONTAINERD__TYPES__DESCRIPTOR__INIT;
                target.media_type = p->v[0].mt;
                target.digest = p->v[0].digest;
                target.size = (int64_t) p->v[0].size;
                const char *labels[] = { LABEL_CHECKPOINT, "true" };
                rpc_error e = { 0 };
                r = rpc_images_create(rpc, &lo, name, &target, labels, 1, &e);
                if (r == -EEXIST)
                        snprintf(p->err->message, sizeof(p->err->message), "an image named %s exists already", name);
                else if (r < 0)
                        snprintf(p->err->message, sizeof(p->err->message), "creating image %.200s failed: %.700s", name,
                                 e.message);
        }
        return r;
}
