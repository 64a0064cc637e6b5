#include "containerd.h"

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
        Containerd__Services__Content__V1__InfoResponse *resp = NULL;
        int r = rpc_unary(c, o, "/containerd.services.content.v1.Content/Info", &req.base,
                          &containerd__services__content__v1__info_response__descriptor,
                          (ProtobufCMessage **) &resp, err);
        if (r < 0)
                return r;
        if (!resp->info) {
                pb_msg_free(resp);
                return rpc_error_set(err, EBADMSG, "Content.Info returned no info for %s", digest);
        }
        /* Hand the inner message out: detach it from the response. */
        *ret = resp->info;
        resp->info = NULL;
        pb_msg_free(resp);
        return 0;
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

/* Content.Write, the one implementation. containerd answers every WRITE
 * message; waiting for each answer before the next send halves the
 * throughput, so up to MAX_IN_FLIGHT answers are left pending (they are tiny
 * and sit in the transport's buffers) and collected later. Measured here:
 * 1 MiB ping-pong ~100 MB/s, 2 MiB with 8 in flight ~160 MB/s (containerd's
 * CPU is then the limit). With `expected` known, the first message carries
 * it so that an existing blob fails fast with ALREADY_EXISTS; without, the
 * sha256 is computed while the bytes go out and sent with the commit. */
#define MAX_IN_FLIGHT 8

static void evp_ctx_freep(EVP_MD_CTX **m) {
        if (*m)
                EVP_MD_CTX_free(*m);
}

static int collect(rpc_call *call, rpc_error *err) {
        _cleanup_pb_msg_ ProtobufCMessage *resp = NULL;
        int r = rpc_call_recv(call, &containerd__services__content__v1__write_content_response__descriptor, &resp,
                              err);
        if (r < 0)
                return r;
        if (r == 0)
                return rpc_error_set(err, EIO, "Content.Write ended before the commit");
        return 0;
}

/* Fills buf with exactly n bytes from the data or the reader. */
static int pull(const uint8_t *data, rpc_pull_cb reader, void *userdata, const char *ref, uint64_t off, uint8_t *buf,
                size_t n, const uint8_t **ret, rpc_error *err) {
        if (data) {
                *ret = data + off;
                return 0;
        }
        for (size_t got = 0; got < n;) {
                ssize_t k = reader(userdata, buf + got, n - got);
                if (k < 0)
                        return rpc_error_set(err, (int) -k, "reading the data for %s failed: %s", ref,
                                             strerror((int) -k));
                if (k == 0)
                        return rpc_error_set(err, EIO, "the data for %s ended early", ref);
                got += (size_t) k;
        }
        *ret = buf;
        return 0;
}

static int write_stream(rpc_client *c, const rpc_opts *o, const char *ref, const char *expected, uint64_t len,
                        const uint8_t *data, rpc_pull_cb reader, void *userdata, const char *const *labels,
                        size_t n_labels, char ret_digest[RPC_DIGEST_MAX], rpc_error *err) {
        if (!data && !reader && len)
                return rpc_error_set(err, EINVAL, "Content.Write of %s without data", ref);
        Containerd__Services__Content__V1__WriteContentRequest__LabelsEntry entries[n_labels ? n_labels : 1];
        Containerd__Services__Content__V1__WriteContentRequest__LabelsEntry *entryp[n_labels ? n_labels : 1];
        for (size_t i = 0; i < n_labels; i++) {
                entries[i] = (Containerd__Services__Content__V1__WriteContentRequest__LabelsEntry)
                        CONTAINERD__SERVICES__CONTENT__V1__WRITE_CONTENT_REQUEST__LABELS_ENTRY__INIT;
                entries[i].key = (char *) labels[2 * i];
                entries[i].value = (char *) labels[2 * i + 1];
                entryp[i] = &entries[i];
        }
        __attribute__((cleanup(evp_ctx_freep))) EVP_MD_CTX *md = NULL;
        if (!expected && (!(md = EVP_MD_CTX_new()) || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1))
                return rpc_error_set(err, ENOMEM, "cannot hash the data of %s", ref);
        uint8_t *buf = NULL;
        if (!data && !(buf = malloc(WRITE_CHUNK)))
                return rpc_error_set(err, ENOMEM, "out of memory for the upload of %s", ref);

        __attribute__((cleanup(rpc_call_freep))) rpc_call *call = NULL;
        int r = rpc_call_open(c, o, "/containerd.services.content.v1.Content/Write", &call);
        if (r < 0) {
                free(buf);
                return rpc_error_set(err, r, "cannot start Content.Write");
        }
        uint64_t off = 0;
        unsigned in_flight = 0;
        while (r >= 0 && off < len) {
                size_t n = len - off < WRITE_CHUNK ? (size_t) (len - off) : WRITE_CHUNK;
                const uint8_t *chunk = NULL;
                r = pull(data, reader, userdata, ref, off, buf, n, &chunk, err);
                if (r < 0)
                        break;
                if (md)
                        EVP_DigestUpdate(md, chunk, n);
                Containerd__Services__Content__V1__WriteContentRequest req =
                        CONTAINERD__SERVICES__CONTENT__V1__WRITE_CONTENT_REQUEST__INIT;
                req.action = CONTAINERD__SERVICES__CONTENT__V1__WRITE_ACTION__WRITE;
                req.ref = (char *) ref;
                req.offset = (int64_t) off;
                req.total = (int64_t) len;
                req.expected = (char *) (off == 0 ? expected : NULL);
                req.data.data = (uint8_t *) chunk;
                req.data.len = n;
                r = rpc_call_send(call, &req.base, false, err);
                off += n;
                /* With `expected`, the answer to the first message says
                 * whether the blob exists: wait for it before sending more. */
                if (r >= 0 && off == n && expected) {
                        r = collect(call, err);
                        continue;
                }
                if (r >= 0 && ++in_flight >= MAX_IN_FLIGHT) {
                        r = collect(call, err);
                        in_flight--;
                }
        }
        /* The stream must end exactly here: a reader with more is a bug. */
        uint8_t probe;
        if (r >= 0 && reader && reader(userdata, &probe, 1) != 0)
                r = rpc_error_set(err, EIO, "the data for %s is longer than announced", ref);
        free(buf);
        if (r < 0)
                return r == -EEXIST ? 0 : r;   /* an existing blob: what we wanted */

        char digest[RPC_DIGEST_MAX];
        if (md) {
                unsigned char d[EVP_MAX_MD_SIZE];
                unsigned int dlen = 0;
                EVP_DigestFinal_ex(md, d, &dlen);
                memcpy(digest, "sha256:", 7);
                for (unsigned i = 0; i < 32; i++)
                        snprintf(digest + 7 + 2 * i, 3, "%02x", d[i]);
        } else
                snprintf(digest, sizeof(digest), "%s", expected);

        Containerd__Services__Content__V1__WriteContentRequest req =
                CONTAINERD__SERVICES__CONTENT__V1__WRITE_CONTENT_REQUEST__INIT;
        req.action = CONTAINERD__SERVICES__CONTENT__V1__WRITE_ACTION__COMMIT;
        req.ref = (char *) ref;
        req.offset = (int64_t) len;
        req.total = (int64_t) len;
        req.expected = digest;
        req.n_labels = n_labels;
        req.labels = entryp;
        r = rpc_call_send(call, &req.base, true, err);
        for (in_flight++; r >= 0 && in_flight > 0; in_flight--)
                r = collect(call, err);
        if (r < 0 && r != -EEXIST)
                return r;
        if (ret_digest)
                memcpy(ret_digest, digest, RPC_DIGEST_MAX);
        return 0;
}

int rpc_content_write(rpc_client *c, const rpc_opts *o, const char *ref, const char *digest, uint64_t len,
                      const uint8_t *data, rpc_pull_cb reader, void *userdata,
                      const char *const *labels, size_t n_labels, rpc_error *err) {
        if (!digest)
                return rpc_error_set(err, EINVAL, "Content.Write of %s without a digest", ref);
        return write_stream(c, o, ref, digest, len, data, reader, userdata, labels, n_labels, NULL, err);
}

int rpc_content_ingest(rpc_client *c, const rpc_opts *o, const char *ref, uint64_t len, rpc_pull_cb reader,
                       void *userdata, const char *const *labels, size_t n_labels, char ret_digest[RPC_DIGEST_MAX],
                       rpc_error *err) {
        return write_stream(c, o, ref, NULL, len, NULL, reader, userdata, labels, n_labels, ret_digest, err);
}
