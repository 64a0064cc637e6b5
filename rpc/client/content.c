#include "containerd.h"
#include "digest.h"
#include "cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

/* What one WRITE message carries (containerd takes up to 16 MiB). */
#define WRITE_CHUNK (2 * 1024 * 1024)

int rpc_content_info(rpc_client *c, const rpc_opts *o, const char *digest, rpc_blob_info **ret,
                     rpc_error *err) {
        Containerd__Services__Content__V1__InfoRequest req = CONTAINERD__SERVICES__CONTENT__V1__INFO_REQUEST__INIT;
        req.digest = (char *) digest;
        return rpc_unary_inner(c, o, "/containerd.services.content.v1.Content/Info", &req.base,
                               &containerd__services__content__v1__info_response__descriptor, "info",
                               (ProtobufCMessage **) ret, err);
}

int64_t rpc_content_read(rpc_client *c, const rpc_opts *o, const char *digest, uint64_t offset, uint64_t size,
                         rpc_read_cb cb, void *userdata, rpc_error *err) {
        Containerd__Services__Content__V1__ReadContentRequest req =
                CONTAINERD__SERVICES__CONTENT__V1__READ_CONTENT_REQUEST__INIT;
        req.digest = (char *) digest;
        req.offset = (int64_t) offset;
        req.size = (int64_t) size;

        __attribute__((cleanup(rpc_call_freep))) rpc_call *call = NULL;
        int r = rpc_call_open(c, o, "/containerd.services.content.v1.Content/Read", &call);
        if (r < 0)
                return rpc_error_set(err, r, "cannot start Content.Read");
        r = rpc_call_send(call, &req.base, true, err);
        if (r < 0)
                return r;

        uint64_t next = offset;
        for (;;) {
                _cleanup_pb_msg_ Containerd__Services__Content__V1__ReadContentResponse *resp = NULL;
                r = rpc_call_recv(call, &containerd__services__content__v1__read_content_response__descriptor,
                                  (ProtobufCMessage **) &resp, err);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                /* containerd numbers chunks from the start of the requested
                 * range, not of the blob (its readResponseWriter starts at 0
                 * whatever req.offset is): compare relative offsets. */
                if ((uint64_t) resp->offset != next - offset)
                        return rpc_error_set(err, EIO, "Content.Read of %s: chunk at +%lld, expected +%llu", digest,
                                             (long long) resp->offset, (unsigned long long) (next - offset));
                if (size && next + resp->data.len > offset + size)
                        return rpc_error_set(err, EIO, "Content.Read of %s: more data than asked for", digest);
                r = cb(resp->data.data, resp->data.len, next, userdata);
                if (r < 0) {
                        rpc_call_cancel(call);
                        return r;
                }
                next += resp->data.len;
        }
        if (size && next != offset + size)
                return rpc_error_set(err, EIO, "Content.Read of %s ended at %llu, short of %llu", digest,
                                     (unsigned long long) next, (unsigned long long) (offset + size));
        return (int64_t) (next - offset);
}

/* Content.Write. containerd answers every WRITE message; waiting for each
 * answer before the next send halves the throughput, so up to MAX_IN_FLIGHT
 * answers are left pending (they are tiny and sit in the transport's
 * buffers) and collected later. Measured here: 1 MiB ping-pong ~100 MB/s,
 * 2 MiB with 8 in flight ~160 MB/s (containerd's CPU is then the limit).
 * The sha256 is computed while the bytes go out and sent with the commit. */
#define MAX_IN_FLIGHT 8

typedef Containerd__Services__Content__V1__WriteContentRequest write_request;
typedef Containerd__Services__Content__V1__WriteContentRequest__LabelsEntry write_label;

/* One upload under way. */
typedef struct upload {
        rpc_call *call;
        const char *ref;
        uint64_t len;
        rpc_pull_cb reader;
        void *userdata;
        EVP_MD_CTX *md;
        unsigned in_flight;   /* answers due and not collected yet */
        rpc_error *err;
} upload;

static void evp_ctx_freep(EVP_MD_CTX **m) {
        if (*m)
                EVP_MD_CTX_free(*m);
}

static write_request write_message(const upload *u, Containerd__Services__Content__V1__WriteAction action,
                                   uint64_t offset) {
        write_request req = CONTAINERD__SERVICES__CONTENT__V1__WRITE_CONTENT_REQUEST__INIT;
        req.action = action;
        req.ref = (char *) u->ref;
        req.offset = (int64_t) offset;
        req.total = (int64_t) u->len;
        return req;
}

/* Collects one answer due. */
static int collect(upload *u) {
        _cleanup_pb_msg_ ProtobufCMessage *resp = NULL;
        int r = rpc_call_recv(u->call, &containerd__services__content__v1__write_content_response__descriptor, &resp,
                              u->err);
        if (r < 0)
                return r;
        if (r == 0)
                return rpc_error_set(u->err, EIO, "Content.Write ended before the commit");
        u->in_flight--;
        return 0;
}

/* Fills buf with exactly n bytes from the reader. */
static int pull(upload *u, uint8_t *buf, size_t n) {
        for (size_t got = 0; got < n;) {
                ssize_t k = u->reader(u->userdata, buf + got, n - got);
                if (k < 0)
                        return rpc_error_set(u->err, (int) -k, "reading the data for %s failed: %s", u->ref,
                                             strerror((int) -k));
                if (k == 0)
                        return rpc_error_set(u->err, EIO, "the data for %s ended early", u->ref);
                got += (size_t) k;
        }
        return 0;
}

/* The data as WRITE messages of up to WRITE_CHUNK bytes (buf holds one),
 * hashed on the way. The reader must end exactly there. */
static int send_data(upload *u, uint8_t *buf) {
        for (uint64_t off = 0; off < u->len;) {
                size_t n = u->len - off < WRITE_CHUNK ? (size_t) (u->len - off) : WRITE_CHUNK;
                int r = pull(u, buf, n);
                if (r < 0)
                        return r;
                EVP_DigestUpdate(u->md, buf, n);
                write_request req = write_message(u, CONTAINERD__SERVICES__CONTENT__V1__WRITE_ACTION__WRITE, off);
                req.data.data = buf;
                req.data.len = n;
                r = rpc_call_send(u->call, &req.base, false, u->err);
                if (r < 0)
                        return r;
                off += n;
                if (++u->in_flight >= MAX_IN_FLIGHT && (r = collect(u)) < 0)
                        return r;
        }
        uint8_t probe;
        if (u->reader(u->userdata, &probe, 1) != 0)
                return rpc_error_set(u->err, EIO, "the data for %s is longer than announced", u->ref);
        return 0;
}

/* COMMIT with the digest and the labels (n_labels key/value pairs), then
 * every answer still due. A blob that exists already is success, as in
 * containerd's own client. */
static int commit(upload *u, const char *digest, const char *const *labels, size_t n_labels) {
        pb_str_entry entries[n_labels ? n_labels : 1], *entryp[n_labels ? n_labels : 1];
        int r = pb_str_entries_init(&containerd__services__content__v1__write_content_request__labels_entry__descriptor,
                                    labels, n_labels, entries, entryp);
        if (r < 0)
                return rpc_error_set(u->err, r, "Content.Write: cannot encode the labels");
        write_request req = write_message(u, CONTAINERD__SERVICES__CONTENT__V1__WRITE_ACTION__COMMIT, u->len);
        req.expected = (char *) digest;
        req.n_labels = n_labels;
        req.labels = (write_label **) entryp;
        r = rpc_call_send(u->call, &req.base, true, u->err);
        for (u->in_flight++; r >= 0 && u->in_flight > 0;)
                r = collect(u);
        return r == -EEXIST ? 0 : r;
}

int rpc_content_ingest(rpc_client *c, const rpc_opts *o, const char *ref, uint64_t len, rpc_pull_cb reader,
                       void *userdata, const char *const *labels, size_t n_labels, char ret_digest[DIGEST_MAX],
                       rpc_error *err) {
        if (!reader)
                return rpc_error_set(err, EINVAL, "Content.Write of %s without data", ref);
        __attribute__((cleanup(evp_ctx_freep))) EVP_MD_CTX *md = EVP_MD_CTX_new();
        if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
                return rpc_error_set(err, ENOMEM, "cannot hash the data of %s", ref);
        _cleanup_free_ uint8_t *buf = malloc(WRITE_CHUNK);
        if (!buf)
                return rpc_error_set(err, ENOMEM, "out of memory for the upload of %s", ref);
        __attribute__((cleanup(rpc_call_freep))) rpc_call *call = NULL;
        int r = rpc_call_open(c, o, "/containerd.services.content.v1.Content/Write", &call);
        if (r < 0)
                return rpc_error_set(err, r, "cannot start Content.Write");

        upload u = { .call = call, .ref = ref, .len = len, .reader = reader, .userdata = userdata, .md = md,
                     .err = err };
        r = send_data(&u, buf);
        if (r < 0)
                return r;
        unsigned char raw[EVP_MAX_MD_SIZE];
        EVP_DigestFinal_ex(md, raw, NULL);
        char digest[DIGEST_MAX];
        digest_format(raw, digest);
        r = commit(&u, digest, labels, n_labels);
        if (r < 0)
                return r;
        if (ret_digest)
                memcpy(ret_digest, digest, DIGEST_MAX);
        return 0;
}
