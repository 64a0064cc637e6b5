/* One gRPC call over its own pluck completion queue. Batches are always
 * waited for before the next one starts (one outstanding op of each kind),
 * except the status batch, started at open so the final status is caught
 * whatever happens. */
#include "client-internal.h"
#include "status.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

struct rpc_call {
        rpc_client *client;
        grpc_completion_queue *cq;
        grpc_call *call;
        gpr_timespec deadline;
        grpc_metadata md[2];
        size_t n_md;
        bool sent_headers, recv_headers, half_closed, status_done;
        grpc_metadata_array initial_md, trailing_md;
        grpc_status_code status;
        grpc_slice details;
        const char *error_string;
        /* Distinct addresses serve as tags. */
        char tag_send, tag_recv, tag_status;
};

static gpr_timespec deadline_after(int64_t ms) {
        if (ms < 0)
                return gpr_inf_future(GPR_CLOCK_MONOTONIC);
        return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(ms, GPR_TIMESPAN));
}

static bool has_deadline(const rpc_call *call) {
        return gpr_time_cmp(call->deadline, gpr_inf_future(GPR_CLOCK_MONOTONIC)) != 0;
}

/* Waits for `tag` until `limit`; past it, cancels the call and waits for the
 * op to complete (it must, before the call may be freed), setting
 * *ret_expired (may be NULL). */
static bool wait_tag_until(rpc_call *call, void *tag, gpr_timespec limit, bool *ret_expired) {
        for (;;) {
                grpc_event ev = grpc_completion_queue_pluck(call->cq, tag, limit, NULL);
                if (ev.type == GRPC_OP_COMPLETE)
                        return ev.success;
                if (ev.type == GRPC_QUEUE_SHUTDOWN)
                        return false;
                grpc_call_cancel(call->call, NULL);
                if (ret_expired)
                        *ret_expired = true;
                limit = gpr_inf_future(GPR_CLOCK_MONOTONIC);
        }
}

/* Waits for `tag`. gRPC ends every op at the call's deadline; the extra
 * grace only guards against a stuck library. */
static bool wait_tag(rpc_call *call, void *tag) {
        gpr_timespec limit = has_deadline(call)
                ? gpr_time_add(call->deadline, gpr_time_from_millis(2000, GPR_TIMESPAN))
                : call->deadline;
        return wait_tag_until(call, tag, limit, NULL);
}

int rpc_call_open(rpc_client *c, const rpc_opts *o, const char *method, rpc_call **ret_call) {
        if (!c || !method || !ret_call)
                return -EINVAL;
        rpc_call *call = calloc(1, sizeof(*call));
        if (!call)
                return -ENOMEM;
        call->client = c;
        int64_t timeout = o && o->timeout_ms ? o->timeout_ms : c->timeout_ms;
        call->deadline = deadline_after(timeout);
        if (o && o->ns)
                call->md[call->n_md++] = (grpc_metadata) {
                        .key = grpc_slice_from_static_string("containerd-namespace"),
                        .value = grpc_slice_from_copied_string(o->ns),
                };
        if (o && o->lease)
                call->md[call->n_md++] = (grpc_metadata) {
                        .key = grpc_slice_from_static_string("containerd-lease"),
                        .value = grpc_slice_from_copied_string(o->lease),
                };
        grpc_metadata_array_init(&call->initial_md);
        grpc_metadata_array_init(&call->trailing_md);
        call->details = grpc_empty_slice();

        call->cq = grpc_completion_queue_create_for_pluck(NULL);
        grpc_slice m = grpc_slice_from_copied_string(method);
        call->call = grpc_channel_create_call(c->channel, NULL, GRPC_PROPAGATE_DEFAULTS, call->cq, m, NULL,
                                              call->deadline, NULL);
        grpc_slice_unref(m);
        if (!call->call) {
                rpc_call_free(call);
                return -ENOMEM;
        }

        grpc_op op = {
                .op = GRPC_OP_RECV_STATUS_ON_CLIENT,
                .data.recv_status_on_client = {
                        .trailing_metadata = &call->trailing_md,
                        .status = &call->status,
                        .status_details = &call->details,
                        .error_string = &call->error_string,
                },
        };
        if (grpc_call_start_batch(call->call, &op, 1, &call->tag_status, NULL) != GRPC_CALL_OK) {
                call->status_done = true;   /* nothing to wait for */
                rpc_call_free(call);
                return -EIO;
        }
        *ret_call = call;
        return 0;
}

/* Waits for the final status and turns it into 0 or -errno + err. */
static int call_finish(rpc_call *call, rpc_error *err) {
        if (!call->status_done) {
                if (!wait_tag(call, &call->tag_status)) {
                        call->status_done = true;
                        return rpc_error_set(err, EIO, "containerd call ended without a status");
                }
                call->status_done = true;
        }
        if (call->status == GRPC_STATUS_OK)
                return 0;
        if (err) {
                size_t n = GRPC_SLICE_LENGTH(call->details);
                const char *d = (const char *) GRPC_SLICE_START_PTR(call->details);
                err->status = call->status;
                if (call->status == GRPC_STATUS_UNAVAILABLE)
                        snprintf(err->message, sizeof(err->message), "containerd is not reachable at %s: %.*s",
                                 call->client->path, (int) n, d);
                else if (n)
                        snprintf(err->message, sizeof(err->message), "%.*s", (int) n, d);
                else
                        snprintf(err->message, sizeof(err->message), "containerd call failed: %s",
                                 rpc_status_name(call->status));
        }
        return -rpc_status_to_errno(call->status);
}

int rpc_call_send(rpc_call *call, const ProtobufCMessage *msg, bool close_send, rpc_error *err) {
        if (call->half_closed)
                return rpc_error_set(err, EPIPE, "send after the end of the request stream");
        uint8_t *buf;
        size_t len;
        int r = pb_msg_pack(msg, &buf, &len);
        if (r < 0)
                return rpc_error_set(err, r, "cannot encode a %s message", msg->descriptor->name);
        grpc_slice s = grpc_slice_new(buf, len, free);
        grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
        grpc_slice_unref(s);

        grpc_op ops[3];
        size_t n = 0;
        if (!call->sent_headers)
                ops[n++] = (grpc_op) {
                        .op = GRPC_OP_SEND_INITIAL_METADATA,
                        .data.send_initial_metadata = { .count = call->n_md, .metadata = call->md },
                };
        ops[n++] = (grpc_op) { .op = GRPC_OP_SEND_MESSAGE, .data.send_message.send_message = bb };
        if (close_send)
                ops[n++] = (grpc_op) { .op = GRPC_OP_SEND_CLOSE_FROM_CLIENT };
        grpc_call_error e = grpc_call_start_batch(call->call, ops, n, &call->tag_send, NULL);
        if (e != GRPC_CALL_OK) {
                grpc_byte_buffer_destroy(bb);
                return rpc_error_set(err, EIO, "cannot start a gRPC batch (error %d)", e);
        }
        /* A call without a deadline (an event stream) still gets the client's
         * default timeout to hand its request over: before a connection is up
         * the send waits for it, and a daemon that is frozen while we connect
         * would otherwise block rpc_events_open() for gRPC's 20 s connect
         * timeout, before the caller even has a call to cancel. */
        bool expired = false;
        bool ok = has_deadline(call)
                ? wait_tag(call, &call->tag_send)
                : wait_tag_until(call, &call->tag_send,
                                 gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                              gpr_time_from_millis(call->client->timeout_ms, GPR_TIMESPAN)),
                                 &expired);
        grpc_byte_buffer_destroy(bb);
        call->sent_headers = true;
        call->half_closed = close_send;
        if (!ok || expired) {
                /* The call is over: the status says why. */
                r = call_finish(call, err);
                if (expired && r == -ECANCELED)
                        return rpc_error_set(err, ETIMEDOUT, "containerd at %s did not take the request within %lld ms",
                                             call->client->path, (long long) call->client->timeout_ms);
                return r < 0 ? r : rpc_error_set(err, EPIPE, "containerd closed the call early");
        }
        return 0;
}

static int read_byte_buffer(grpc_byte_buffer *bb, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **ret) {
        grpc_byte_buffer_reader reader;
        if (!grpc_byte_buffer_reader_init(&reader, bb))
                return -EBADMSG;
        grpc_slice s = grpc_byte_buffer_reader_readall(&reader);
        grpc_byte_buffer_reader_destroy(&reader);
        int r = pb_msg_unpack(desc, GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s), ret);
        grpc_slice_unref(s);
        return r;
}

int rpc_call_recv(rpc_call *call, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **ret_msg,
                  rpc_error *err) {
        if (!call->sent_headers)
                return rpc_error_set(err, EINVAL, "receive before the request was sent");
        if (call->status_done)
                return call_finish(call, err);
        grpc_byte_buffer *bb = NULL;
        grpc_op ops[2];
        size_t n = 0;
        if (!call->recv_headers)
                ops[n++] = (grpc_op) {
                        .op = GRPC_OP_RECV_INITIAL_METADATA,
                        .data.recv_initial_metadata.recv_initial_metadata = &call->initial_md,
                };
        ops[n++] = (grpc_op) { .op = GRPC_OP_RECV_MESSAGE, .data.recv_message.recv_message = &bb };
        grpc_call_error e = grpc_call_start_batch(call->call, ops, n, &call->tag_recv, NULL);
        if (e != GRPC_CALL_OK)
                return rpc_error_set(err, EIO, "cannot start a gRPC batch (error %d)", e);
        bool ok = wait_tag(call, &call->tag_recv);
        call->recv_headers = true;
        if (!ok || !bb) {
                /* End of stream, or the call failed: the status decides. */
                if (bb)
                        grpc_byte_buffer_destroy(bb);
                return call_finish(call, err);
        }
        ProtobufCMessage *m;
        int r = read_byte_buffer(bb, desc, &m);
        grpc_byte_buffer_destroy(bb);
        if (r < 0) {
                grpc_call_cancel(call->call, NULL);
                return rpc_error_set(err, r, "containerd sent a %s that does not decode", desc->name);
        }
        *ret_msg = m;
        return 1;
}

void rpc_call_cancel(rpc_call *call) {
        if (call && call->call)
                grpc_call_cancel(call->call, NULL);
}

rpc_call *rpc_call_free(rpc_call *call) {
        if (!call)
                return NULL;
        if (call->call) {
                if (!call->status_done) {
                        grpc_call_cancel(call->call, NULL);
                        wait_tag(call, &call->tag_status);
                }
                grpc_call_unref(call->call);
        }
        if (call->cq) {
                grpc_completion_queue_shutdown(call->cq);
                while (grpc_completion_queue_pluck(call->cq, NULL, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type !=
                       GRPC_QUEUE_SHUTDOWN)
                        ;
                grpc_completion_queue_destroy(call->cq);
        }
        for (size_t i = 0; i < call->n_md; i++)
                grpc_slice_unref(call->md[i].value);
        grpc_metadata_array_destroy(&call->initial_md);
        grpc_metadata_array_destroy(&call->trailing_md);
        grpc_slice_unref(call->details);
        gpr_free((void *) call->error_string);
        free(call);
        return NULL;
}

int rpc_unary(rpc_client *c, const rpc_opts *o, const char *method, const ProtobufCMessage *req,
              const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **ret_resp, rpc_error *err) {
        __attribute__((cleanup(rpc_call_freep))) rpc_call *call = NULL;
        int r = rpc_call_open(c, o, method, &call);
        if (r < 0)
                return rpc_error_set(err, r, "cannot start %s", method);
        r = rpc_call_send(call, req, true, err);
        if (r < 0)
                return r;
        ProtobufCMessage *resp = NULL;
        r = rpc_call_recv(call, resp_desc, &resp, err);
        if (r < 0)
                return r;
        if (r == 0)
                return rpc_error_set(err, EBADMSG, "%s returned no message", method);
        r = call_finish(call, err);
        if (r < 0 || !ret_resp) {
                pb_msg_free(resp);
                return r;
        }
        *ret_resp = resp;
        return 0;
}

int rpc_unary_inner(rpc_client *c, const rpc_opts *o, const char *method, const ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *resp_desc, const char *field, ProtobufCMessage **ret_inner,
                    rpc_error *err) {
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(resp_desc, field);
        if (!f || f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED)
                return rpc_error_set(err, EINVAL, "%s has no message field %s", resp_desc->name, field);
        ProtobufCMessage *resp = NULL;
        int r = rpc_unary(c, o, method, req, resp_desc, &resp, err);
        if (r < 0)
                return r;
        ProtobufCMessage **slot = (ProtobufCMessage **) ((char *) resp + f->offset);
        ProtobufCMessage *inner = *slot;
        *slot = NULL;   /* the inner message outlives the response */
        pb_msg_free(resp);
        if (!inner)
                return rpc_error_set(err, EBADMSG, "%s returned no %s", method, field);
        *ret_inner = inner;
        return 0;
}
