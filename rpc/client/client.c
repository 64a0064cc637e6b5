/* The channel to containerd: one per client, shared by all threads. */
#include "client-internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/grpc_security.h>

int rpc_client_new(const char *address, int64_t default_timeout_ms, rpc_client **ret_client) {
        if (!address || !*address || !ret_client)
                return -EINVAL;

        const char *path = address;
        if (strncmp(path, "unix://", 7) == 0)
                path += 7;
        if (!*path)
                return -EINVAL;

        rpc_client *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->path = strdup(path);
        /* gRPC reads "unix://x.sock" as authority "x.sock" and rejects it (every
         * call would then fail): a relative path needs the "unix:" form. */
        if (!c->path || asprintf(&c->target, path[0] == '/' ? "unix://%s" : "unix:%s", path) < 0) {
                c->target = NULL;
                free(c->path);
                free(c);
                return -ENOMEM;
        }
        c->timeout_ms = default_timeout_ms > 0 ? default_timeout_ms : RPC_DEFAULT_TIMEOUT_MS;

        grpc_init();

        grpc_arg args[] = {
                { .type = GRPC_ARG_INTEGER, .key = (char *) GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
                  .value.integer = RPC_MAX_MESSAGE },
                { .type = GRPC_ARG_INTEGER, .key = (char *) GRPC_ARG_MAX_SEND_MESSAGE_LENGTH,
                  .value.integer = RPC_MAX_MESSAGE },
                /* A local socket: retry connecting quickly, never back off for long.
                 * Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: in gRPC it is the time a
                 * connection gets to complete its HTTP/2 handshake, and at 100 ms a
                 * daemon stalled for 150 ms made calls with a 5 s deadline fail
                 * "not reachable". Its default (20 s) leaves the bound to the
                 * call's deadline. */
                { .type = GRPC_ARG_INTEGER, .key = (char *) GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
                  .value.integer = 100 },
                { .type = GRPC_ARG_INTEGER, .key = (char *) GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
                  .value.integer = 1000 },
                /* gRPC would otherwise retry transparently and blur our deadlines. */
                { .type = GRPC_ARG_INTEGER, .key = (char *) GRPC_ARG_ENABLE_RETRIES,
                  .value.integer = 0 },
        };
        grpc_channel_args cargs = { .num_args = sizeof(args) / sizeof(args[0]), .args = args };
        grpc_channel_credentials *creds = grpc_insecure_credentials_create();
        c->channel = grpc_channel_create(c->target, creds, &cargs);
        grpc_channel_credentials_release(creds);
        if (!c->channel) {
                rpc_client_free(c);
                return -ENOMEM;
        }
        *ret_client = c;
        return 0;
}

rpc_client *rpc_client_free(rpc_client *c) {
        if (!c)
                return NULL;
        if (c->channel) {
                grpc_channel_destroy(c->channel);
                grpc_shutdown();
        }
        free(c->target);
        free(c->path);
        free(c);
        return NULL;
}

const char *rpc_client_address(const rpc_client *c) {
        return c->path;
}

int rpc_error_set(rpc_error *err, int error, const char *fmt, ...) {
        if (err) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(err->message, sizeof(err->message), fmt, ap);
                va_end(ap);
                err->status = -1;
        }
        return -abs(error);
}
