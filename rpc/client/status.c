#include "status.h"

#include <errno.h>

static const struct {
        const char *name;
        int err;
} status_table[] = {
        [GRPC_STATUS_OK] = { "OK", 0 },
        [GRPC_STATUS_CANCELLED] = { "CANCELLED", ECANCELED },
        [GRPC_STATUS_UNKNOWN] = { "UNKNOWN", EIO },
        [GRPC_STATUS_INVALID_ARGUMENT] = { "INVALID_ARGUMENT", EINVAL },
        /* A daemon that does not answer in time: the shell gets a timeout. */
        [GRPC_STATUS_DEADLINE_EXCEEDED] = { "DEADLINE_EXCEEDED", ETIMEDOUT },
        [GRPC_STATUS_NOT_FOUND] = { "NOT_FOUND", ENOENT },
        [GRPC_STATUS_ALREADY_EXISTS] = { "ALREADY_EXISTS", EEXIST },
        [GRPC_STATUS_PERMISSION_DENIED] = { "PERMISSION_DENIED", EACCES },
        /* gRPC uses it for oversized messages. */
        [GRPC_STATUS_RESOURCE_EXHAUSTED] = { "RESOURCE_EXHAUSTED", EMSGSIZE },
        /* containerd: "task must be stopped", "namespace not empty", ... */
        [GRPC_STATUS_FAILED_PRECONDITION] = { "FAILED_PRECONDITION", EBUSY },
        [GRPC_STATUS_ABORTED] = { "ABORTED", EAGAIN },
        [GRPC_STATUS_OUT_OF_RANGE] = { "OUT_OF_RANGE", ERANGE },
        [GRPC_STATUS_UNIMPLEMENTED] = { "UNIMPLEMENTED", EOPNOTSUPP },
        [GRPC_STATUS_INTERNAL] = { "INTERNAL", EIO },
        /* No daemon behind the socket. */
        [GRPC_STATUS_UNAVAILABLE] = { "UNAVAILABLE", ENOTCONN },
        [GRPC_STATUS_DATA_LOSS] = { "DATA_LOSS", EIO },
        [GRPC_STATUS_UNAUTHENTICATED] = { "UNAUTHENTICATED", EACCES },
};

int rpc_status_to_errno(grpc_status_code code) {
        if ((unsigned) code >= sizeof(status_table) / sizeof(status_table[0]) || !status_table[code].name)
                return EIO;
        return status_table[code].err;
}

const char *rpc_status_name(grpc_status_code code) {
        if ((unsigned) code >= sizeof(status_table) / sizeof(status_table[0]) || !status_table[code].name)
                return "UNKNOWN_STATUS";
        return status_table[code].name;
}
