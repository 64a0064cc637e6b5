/* Shared between the rpc core files; not part of the rpc API. */
#pragma once
#include "rpc.h"

#include <grpc/grpc.h>

struct rpc_client {
        char *path;            /* socket path */
        char *target;          /* gRPC target: "unix://" + absolute path, "unix:" + relative */
        int64_t timeout_ms;    /* default deadline of a call */
        grpc_channel *channel;
};
