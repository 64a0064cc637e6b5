/* Content.Write for large streams whose digest is not known in advance
 * (the tar of a dump): the sha256 is computed while the bytes go out and
 * sent with the commit. containerd answers every WRITE message; waiting for
 * each answer before the next send halves the throughput, so up to
 * MAX_IN_FLIGHT answers are left pending (they are tiny and sit in the
 * transport's buffers) and collected later. Measured here: 1 MiB
 * ping-pong ~100 MB/s, 2 MiB with 8 in flight ~160 MB/s (containerd's CPU
 * is then the limit). */
#include "checkpoint-internal.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#define CHUNK (2 * 1024 * 1024)
#define MAX_IN_FLIGHT 8

static void evp_ctx_freep(EVP_MD_CTX **c) { if (*c) EVP_MD_CTX_free(*c); }

static int collect(rpc_call *call, rpc_error *err) {
        _cleanup_rpc_msg_ ProtobufCMessage *resp = NULL;
        int r = rpc_call_recv(call, &containerd__services__content__v1__write_content_response__descriptor, &resp,
                              err);
        if (r < 0)
                return r;
        if (r == 0)
                return rpc_error_set(err, EIO, "Content.Write ended before the commit");
        return 0;
}

int ckpt_content_ingest(rpc_client *c, const rpc_opts *o, const char *ref, uint64_t size, rpc_pull_cb reader,
                        void *userdata, const char *const *labels, size_t n_labels, char ret_digest[72],
                        rpc_error *err) {
        Containerd__Services__Content__V1__WriteContentRequest__LabelsEntry entries[n_labels ? n_labels : 1];
        Containerd__Services__Content__V1__WriteContentRequest__LabelsEntry *entryp[n_labels ? n_labels : 1];
        for (size_t i = 0; i < n_labels; i++) {
                entries[i] = (Containerd__Services__Content__V1__WriteContentRequest__LabelsEntry)
                        CONTAINERD__SERVICES__CONTENT__V1__WRITE_CONTENT_REQUEST__LABELS_ENTRY__INIT;
                entries[i].key = (char *) labels[2 * i];
                entries[i].value = (char *) labels[2 * i + 1];
                entryp[i] = &entries[i];
        }
        _ckpt_cleanup_(evp_ctx_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
        _ckpt_free_ uint8_t *buf = malloc(CHUNK);
        if (!md || !buf || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
                return rpc_error_set(err, ENOMEM, "out of memory for the upload of %s", ref);

        __attribute__((cleanup(rpc_call_freep))) rpc_call *call = NULL;
        int r = rpc_call_open(c, o, "/containerd.services.content.v1.Content/Write", &call);
        if (r < 0)
                return rpc_error_set(err, r, "cannot start Content.Write");

        uint64_t off = 0;
        unsigned in_flight = 0;
        while (off < size) {
                size_t n = size - off < CHUNK ? (size_t) (size - off) : CHUNK;
                size_t got = 0;
                while (got < n) {
                        ssize_t k = reader(userdata, buf + got, n - got);
                        if (k < 0)
                                return rpc_error_set(err, (int) -k, "reading the data for %s failed: %s", ref,
                                                     strerror((int) -k));
                        if (k == 0)
                                return rpc_error_set(err, EIO, "the data for %s ended %llu bytes early", ref,
                                                     (unsigned long long) (size - off - got));
                        got += (size_t) k;
                }
                EVP_DigestUpdate(md, buf, n);
                Containerd__Services__Content__V1__WriteContentRequest req =
                        CONTAINERD__SERVICES__CONTENT__V1__WRITE_CONTENT_REQUEST__INIT;
                req.action = CONTAINERD__SERVICES__CONTENT__V1__WRITE_ACTION__WRITE;
                req.ref = (char *) ref;
                req.offset = (int64_t) off;
                req.total = (int64_t) size;
                req.data.data = buf;
                req.data.len = n;
                r = rpc_call_send(call, &req.base, false, err);
                if (r < 0)
                        return r;
                off += n;
                if (++in_flight >= MAX_IN_FLIGHT) {
                        r = collect(call, err);
                        if (r < 0)
                                return r;
                        in_flight--;
                }
        }
        /* The stream must end exactly here: a reader with more is a bug. */
        uint8_t probe;
        if (reader(userdata, &probe, 1) != 0)
                return rpc_error_set(err, EIO, "the data for %s is longer than announced", ref);

        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned int dlen = 0;
        EVP_DigestFinal_ex(md, d, &dlen);
        char digest[72];
        memcpy(digest, "sha256:", 7);
        for (unsigned i = 0; i < 32; i++)
                snprintf(digest + 7 + 2 * i, 3, "%02x", d[i]);

        Containerd__Services__Content__V1__WriteContentRequest req =
                CONTAINERD__SERVICES__CONTENT__V1__WRITE_CONTENT_REQUEST__INIT;
        req.action = CONTAINERD__SERVICES__CONTENT__V1__WRITE_ACTION__COMMIT;
        req.ref = (char *) ref;
        req.offset = (int64_t) size;
        req.total = (int64_t) size;
        req.expected = digest;
        req.n_labels = n_labels;
        req.labels = entryp;
        r = rpc_call_send(call, &req.base, true, err);
        for (in_flight++; r >= 0 && in_flight > 0; in_flight--)
                r = collect(call, err);
        if (r < 0 && r != -EEXIST)
                return r;
        /* EEXIST: the same bytes are stored already; that is what we wanted. */
        memcpy(ret_digest, digest, sizeof(digest));
        return 0;
}
