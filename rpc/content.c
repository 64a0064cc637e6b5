#include "containerd.h"

#include <errno.h>
#include <stdlib.h>

/* containerd serves 1 MiB per message; send the same when writing. */
#define WRITE_CHUNK (1024 * 1024)

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
                rpc_msg_free(resp);
                return rpc_error_set(err, EBADMSG, "Content.Info returned no info for %s", digest);
        }
        /* Hand the inner message out: detach it from the response. */
        *ret = resp->info;
        resp->info = NULL;
        rpc_msg_free(resp);
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
                _cleanup_rpc_msg_ Containerd__Services__Content__V1__ReadContentResponse *resp = NULL;
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

static int write_step(rpc_call *call, Containerd__Services__Content__V1__WriteContentRequest *req, bool last,
                      rpc_error *err) {
        int r = rpc_call_send(call, &req->base, last, err);
        if (r < 0)
                return r;
        _cleanup_rpc_msg_ ProtobufCMessage *resp = NULL;
        r = rpc_call_recv(call, &containerd__services__content__v1__write_content_response__descriptor, &resp, err);
        if (r < 0)
                return r;
        if (r == 0)
                return rpc_error_set(err, EIO, "Content.Write ended before the commit");
        return 0;
}

int rpc_content_write(rpc_client *c, const rpc_opts *o, const char *ref, const char *digest, uint64_t len,
                      const uint8_t *data, rpc_pull_cb reader, void *userdata,
                      const char *const *labels, size_t n_labels, rpc_error *err) {
        if (!data && !reader && len)
                return rpc_error_set(err, EINVAL, "Content.Write without data");
        Containerd__Services__Content__V1__WriteContentRequest__LabelsEntry entries[n_labels ? n_labels : 1];
        Containerd__Services__Content__V1__WriteContentRequest__LabelsEntry *entryp[n_labels ? n_labels : 1];
        for (size_t i = 0; i < n_labels; i++) {
                entries[i] = (Containerd__Services__Content__V1__WriteContentRequest__LabelsEntry)
                        CONTAINERD__SERVICES__CONTENT__V1__WRITE_CONTENT_REQUEST__LABELS_ENTRY__INIT;
                entries[i].key = (char *) labels[2 * i];
                entries[i].value = (char *) labels[2 * i + 1];
                entryp[i] = &entries[i];
        }

        __attribute__((cleanup(rpc_call_freep))) rpc_call *call = NULL;
        int r = rpc_call_open(c, o, "/containerd.services.content.v1.Content/Write", &call);
        if (r < 0)
                return rpc_error_set(err, r, "cannot start Content.Write");

        uint8_t *buf = NULL;
        if (!data) {
                buf = malloc(WRITE_CHUNK);
                if (!buf)
                        return -ENOMEM;
        }
        uint64_t off = 0;
        do {
                Containerd__Services__Content__V1__WriteContentRequest req =
                        CONTAINERD__SERVICES__CONTENT__V1__WRITE_CONTENT_REQUEST__INIT;
                req.action = CONTAINERD__SERVICES__CONTENT__V1__WRITE_ACTION__WRITE;
                req.ref = (char *) ref;
                req.offset = (int64_t) off;
                /* `expected` in the first message makes an existing blob fail
                 * fast with ALREADY_EXISTS instead of being sent again. */
                req.total = (int64_t) len;
                req.expected = (char *) digest;
                size_t n = len - off < WRITE_CHUNK ? (size_t) (len - off) : WRITE_CHUNK;
                if (data) {
                        req.data.data = (uint8_t *) data + off;
                } else {
                        size_t got = 0;
                        while (got < n) {
                                ssize_t k = reader(userdata, buf + got, n - got);
                                if (k < 0) {
                                        free(buf);
                                        return rpc_error_set(err, (int) k, "reading data for %s failed", digest);
                                }
                                if (k == 0) {
                                        free(buf);
                                        return rpc_error_set(err, EIO, "data for %s ended early", digest);
                                }
                                got += (size_t) k;
                        }
                        req.data.data = buf;
                }
                req.data.len = n;
                r = write_step(call, &req, false, err);
                if (r < 0)
                        break;
                off += n;
        } while (off < len);
        free(buf);

        if (r == 0) {
                Containerd__Services__Content__V1__WriteContentRequest req =
                        CONTAINERD__SERVICES__CONTENT__V1__WRITE_CONTENT_REQUEST__INIT;
                req.action = CONTAINERD__SERVICES__CONTENT__V1__WRITE_ACTION__COMMIT;
                req.ref = (char *) ref;
                req.offset = (int64_t) len;
                req.total = (int64_t) len;
                req.expected = (char *) digest;
                req.n_labels = n_labels;
                req.labels = entryp;
                r = write_step(call, &req, true, err);
        }
        if (r == -EEXIST)
                return 0;   /* the blob is there already: that is what we wanted */
        return r < 0 ? r : 0;
}
