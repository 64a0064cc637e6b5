/* sha256 checks of blobs read front to back, in whatever order the chunks
 * arrive: FUSE hands READs of one file to several threads, so a sequential
 * reader's chunks reach the verifier slightly out of order. */
#include "verify.h"

#include "digest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

/* Chunks ahead of the hashed prefix kept for later: a few readahead
 * windows on each of the loop's threads. Beyond that, it is random access. */
#define REORDER_MAX (32u << 20)

typedef struct pending_chunk {
        struct pending_chunk *next;
        uint64_t off;
        size_t len;
        uint8_t data[];
} pending_chunk;

struct store_blob_verifier {
        EVP_MD_CTX *md;
        uint8_t want[32];
        uint64_t size, next;     /* [0, next) is hashed */
        pending_chunk *pending;  /* sorted by off, all off > next */
        size_t pending_bytes;
        bool gave_up, done, matched;
};

static void drop_pending(store_blob_verifier *v) {
        while (v->pending) {
                pending_chunk *c = v->pending;
                v->pending = c->next;
                free(c);
        }
        v->pending_bytes = 0;
}

static int verdict(const store_blob_verifier *v) {
        return v->matched ? 0 : -EIO;
}

/* All bytes are in: the verdict. */
static void finish(store_blob_verifier *v) {
        uint8_t got[32];
        unsigned n = 0;
        v->done = true;
        drop_pending(v);
        v->matched = EVP_DigestFinal_ex(v->md, got, &n) == 1 && n == 32 && memcmp(got, v->want, 32) == 0;
}

int store_blob_verifier_new(const char *digest, uint64_t size, store_blob_verifier **ret) {
        uint8_t want[32];
        if (digest_parse(digest, want) < 0)
                return -EINVAL;
        store_blob_verifier *v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        v->md = EVP_MD_CTX_new();
        if (!v->md || EVP_DigestInit_ex(v->md, EVP_sha256(), NULL) != 1) {
                store_blob_verifier_free(v);
                return -ENOMEM;
        }
        memcpy(v->want, want, sizeof(want));
        v->size = size;
        if (size == 0)
                finish(v);   /* no chunk will ever come */
        *ret = v;
        return 0;
}

static void give_up(store_blob_verifier *v) {
        v->gave_up = true;
        drop_pending(v);
}

/* Hashes the part of [off, off + len) beyond the hashed prefix; off <= next. */
static void hash_on(store_blob_verifier *v, const uint8_t *buf, size_t len, uint64_t off) {
        if (off + len <= v->next)
                return;   /* a reread of what was hashed */
        size_t skip = (size_t) (v->next - off);
        if (EVP_DigestUpdate(v->md, buf + skip, len - skip) != 1) {
                give_up(v);
                return;
        }
        v->next += len - skip;
        if (v->next == v->size)
                finish(v);
}

/* Keeps a copy of a chunk that arrived before the ones in front of it. */
static void keep_for_later(store_blob_verifier *v, const uint8_t *buf, size_t len, uint64_t off) {
        pending_chunk *c;
        if (v->pending_bytes + len > REORDER_MAX || !(c = malloc(sizeof(*c) + len))) {
                give_up(v);
                return;
        }
        memcpy(c->data, buf, len);
        c->off = off;
        c->len = len;
        pending_chunk **p = &v->pending;
        while (*p && (*p)->off < off)
                p = &(*p)->next;
        c->next = *p;
        *p = c;
        v->pending_bytes += len;
}

int store_blob_verifier_feed(store_blob_verifier *v, const void *buf, size_t len, uint64_t off) {
        if (v->done)
                return verdict(v);
        if (v->gave_up || off >= v->size || len == 0)
                return 0;
        if (len > v->size - off)
                len = (size_t) (v->size - off);
        if (off > v->next) {
                keep_for_later(v, buf, len, off);
                return 0;
        }
        hash_on(v, buf, len, off);
        while (!v->done && !v->gave_up && v->pending && v->pending->off <= v->next) {
                pending_chunk *c = v->pending;
                v->pending = c->next;
                v->pending_bytes -= c->len;
                hash_on(v, c->data, c->len, c->off);
                free(c);
        }
        return v->done ? verdict(v) : 0;
}

bool store_blob_verifier_matched(const store_blob_verifier *v) {
        return v && v->matched;
}

store_blob_verifier *store_blob_verifier_free(store_blob_verifier *v) {
        if (v) {
                drop_pending(v);
                EVP_MD_CTX_free(v->md);
                free(v);
        }
        return NULL;
}
