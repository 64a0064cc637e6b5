#include "blob-check.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "verify.h"

struct store_opened_blob {
        struct store_reader *rd;
        bool whole;                     /* a whole blob (opened with its digest) */
        int checked_fd;                 /* whole local file checked at open, else -1 */
        store_blob_verifier *ver;       /* sha256 of whole sequential reads */
        pthread_mutex_t ver_lock;       /* reads of one open may run in parallel */
};

/* The blob's own local file: an fd whose offset 0 is the blob's byte 0. */
static int whole_file_fd(const struct store_reader *rd) {
        return rd->fd >= 0 && rd->fd_offset == 0 ? rd->fd : -1;
}

int store_opened_blob_open(store_blobs *blobs, struct store_reader *rd, const char *digest,
                           store_opened_blob **ret) {
        store_opened_blob *o = calloc(1, sizeof(*o));
        if (!o)
                return -ENOMEM;
        o->checked_fd = -1;
        pthread_mutex_init(&o->ver_lock, NULL);
        int r = 0;
        if (digest) {
                /* A local file is checked now: passthrough reads never
                 * reach us to be checked. Other blobs as they are read. */
                o->whole = true;
                int fd = whole_file_fd(rd);
                if (fd >= 0 && (r = store_blobs_verify_file(blobs, digest, fd)) >= 0)
                        o->checked_fd = fd;
                else if (fd < 0)
                        r = store_blob_verifier_new(digest, rd->size, &o->ver);
        }
        if (r < 0) {
                pthread_mutex_destroy(&o->ver_lock);
                free(o);
                return r;
        }
        o->rd = rd;
        *ret = o;
        return 0;
}

store_opened_blob *store_opened_blob_close(store_opened_blob *o) {
        if (o) {
                store_reader_free(o->rd);
                store_blob_verifier_free(o->ver);
                pthread_mutex_destroy(&o->ver_lock);
                free(o);
        }
        return NULL;
}

uint64_t store_opened_blob_size(const store_opened_blob *o) {
        return o->rd->size;
}

const struct store_reader *store_opened_blob_reader(const store_opened_blob *o) {
        return o->rd;
}

ssize_t store_opened_blob_read(store_opened_blob *o, void *buf, size_t len, uint64_t off) {
        ssize_t got = store_reader_pread(o->rd, buf, len, off);
        int r = got < 0 ? (int) got : 0;
        /* Every read of a checked blob goes through the verifier, also after
         * its verdict: the kernel retries a failed readahead page with a new
         * READ, which must fail too. */
        if (r >= 0 && o->ver) {
                pthread_mutex_lock(&o->ver_lock);
                r = store_blob_verifier_feed(o->ver, buf, (size_t) got, off);
                pthread_mutex_unlock(&o->ver_lock);
        }
        /* Data shorter than the blob says is corrupt too. */
        if (r == -ENODATA)
                r = -EIO;
        return r < 0 ? r : got;
}

bool store_opened_blob_direct_fd(const store_opened_blob *o, int *ret_fd, uint64_t *ret_offset) {
        if (o->ver || o->rd->fd < 0)
                return false;
        *ret_fd = o->rd->fd;
        *ret_offset = o->rd->fd_offset;
        return true;
}

bool store_opened_blob_may_keep_pages(const store_opened_blob *o) {
        return o->ver == NULL;
}

bool store_opened_blob_passthrough(const store_opened_blob *o, int *ret_fd) {
        *ret_fd = o->checked_fd;
        return o->whole;
}
