/* gRPC status -> errno: the one table of the project. */
#pragma once
#include <grpc/status.h>

/* Returns a positive errno for a non-OK status, 0 for GRPC_STATUS_OK.
 * Unknown codes map to EIO. Pure, thread-safe. */
int rpc_status_to_errno(grpc_status_code code);

/* Stable upper-case name of the status ("NOT_FOUND"), for messages and logs. */
const char *rpc_status_name(grpc_status_code code);
