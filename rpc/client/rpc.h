/* rpc: a containerd client over gRPC C core and protobuf-c.
 *
 * Knows nothing of FUSE or sqlite. Every function returns 0 (or a documented
 * positive value) on success and -errno on failure; errno values come from
 * the gRPC status through rpc_status_to_errno() (status.h), or are local
 * (-ENOMEM, -EBADMSG for a message that does not decode).
 *
 * Errors: functions that talk to containerd take an optional `rpc_error *err`
 * (may be NULL). On failure it receives the gRPC status and the server's
 * human-readable message (e.g. `container "x" in namespace "default": not
 * found`), for the user to read. On success it is left untouched.
 *
 * Deadlines: every call has one. rpc_opts.timeout_ms == 0 means the client's
 * default (rpc_client_new); a negative value means none, allowed only for
 * streams that another thread ends with rpc_call_cancel() (Events.Subscribe).
 * Even then, sending the request is bounded by the client's default deadline,
 * so a frozen daemon cannot block the opening of a stream.
 *
 * Threads: an rpc_client is shared by any number of threads. An rpc_call is
 * used by one thread at a time, except rpc_call_cancel(), callable from any
 * thread while the call exists. */
#pragma once

#include <protobuf-c/protobuf-c.h>

#include "pbmsg.h"
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define RPC_DEFAULT_ADDRESS "/run/containerd/containerd.sock"
#define RPC_DEFAULT_TIMEOUT_MS 10000
/* ctr's limit; containerd rejects anything larger anyway. */
#define RPC_MAX_MESSAGE (16 * 1024 * 1024)

typedef struct rpc_client rpc_client;
typedef struct rpc_call rpc_call;

typedef struct rpc_error {
        int status;          /* grpc_status_code, or -1 for a local failure */
        char message[1024];  /* NUL-terminated, never empty after a failure */
} rpc_error;

typedef struct rpc_opts {
        const char *ns;      /* containerd-namespace header; NULL: none */
        const char *lease;   /* containerd-lease header; NULL: none */
        int64_t timeout_ms;  /* 0: client default; < 0: no deadline (streams only) */
} rpc_opts;

/* Creates a client for the containerd socket at `address` (a path, or a
 * "unix://" target). Does not connect: the first call does, and reconnects
 * happen by themselves after the daemon comes back.
 * default_timeout_ms <= 0 selects RPC_DEFAULT_TIMEOUT_MS.
 * On success *ret_client owns the client: free it with rpc_client_free().
 *
 * The environment: the library never sets it. A program that wants calls to
 * work again within ~1 s after containerd restarts sets
 *   setenv("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS", "100", 0);
 * before its first client (gRPC reads it at its first grpc_init()). gRPC
 * makes connection progress only while some thread polls, and its backup
 * poller runs every 5 s by default: without the variable, calls keep
 * failing with -ENOTCONN for up to 5 s after the daemon is back. */
int rpc_client_new(const char *address, int64_t default_timeout_ms, rpc_client **ret_client);

/* Frees the client; all its calls must be freed first. Returns NULL. */
rpc_client *rpc_client_free(rpc_client *c);

const char *rpc_client_address(const rpc_client *c);   /* the socket path */

/* One request, one response. On success *ret_resp is an unpacked message of
 * type resp_desc owned by the caller (free with pb_msg_free()); with
 * ret_resp NULL the response is dropped (google.protobuf.Empty and the
 * like). */
int rpc_unary(rpc_client *c, const rpc_opts *o, const char *method,
              const ProtobufCMessage *req, const ProtobufCMessageDescriptor *resp_desc,
              ProtobufCMessage **ret_resp, rpc_error *err);
/* rpc_unary() for a response that wraps the one message wanted: *ret_inner
 * is the response's message field named `field` (e.g. "info"), detached
 * from it and owned by the caller; -EBADMSG if the response lacks it. */
int rpc_unary_inner(rpc_client *c, const rpc_opts *o, const char *method,
                    const ProtobufCMessage *req, const ProtobufCMessageDescriptor *resp_desc,
                    const char *field, ProtobufCMessage **ret_inner, rpc_error *err);

/* Streaming calls (server-streaming and bidirectional).
 * rpc_call_open() starts the call (no I/O yet); rpc_call_send() sends one
 * message (the first send also sends the headers; close_send half-closes);
 * rpc_call_recv() returns 1 with *ret_msg set for a message, 0 at the clean
 * end of the stream (status OK), or -errno with `err` filled from the final
 * status. The call's deadline covers the whole call. */
int rpc_call_open(rpc_client *c, const rpc_opts *o, const char *method, rpc_call **ret_call);
int rpc_call_send(rpc_call *call, const ProtobufCMessage *msg, bool close_send, rpc_error *err);
int rpc_call_recv(rpc_call *call, const ProtobufCMessageDescriptor *desc,
                  ProtobufCMessage **ret_msg, rpc_error *err);
/* Ends the call from any thread: a blocked rpc_call_recv() returns -ECANCELED. */
void rpc_call_cancel(rpc_call *call);
/* Cancels the call if it is still running and frees it. Returns NULL. */
rpc_call *rpc_call_free(rpc_call *call);
static inline void rpc_call_freep(rpc_call **call) { if (*call) rpc_call_free(*call); }

/* Fills err (if not NULL) with a local failure message; returns -error. */
int rpc_error_set(rpc_error *err, int error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
