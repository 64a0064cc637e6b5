/* Typed wrappers over the containerd services (the subset ckptfs uses).
 * Contracts as in rpc.h: 0 or -errno, `err` optional, results owned by the
 * caller and freed with rpc_msg_free() (or _cleanup_rpc_msg_). Every call
 * takes the namespace in `o->ns` and has a deadline (o->timeout_ms). */
#pragma once

#include "rpc.h"
#include "status.h"

#include "api_services_containers_v1_containers.pb-c.h"
#include "api_services_content_v1_content.pb-c.h"
#include "api_services_diff_v1_diff.pb-c.h"
#include "api_services_events_v1_events.pb-c.h"
#include "api_services_images_v1_images.pb-c.h"
#include "api_services_leases_v1_leases.pb-c.h"
#include "api_services_namespaces_v1_namespace.pb-c.h"
#include "api_services_snapshots_v1_snapshots.pb-c.h"
#include "api_services_tasks_v1_tasks.pb-c.h"
#include "api_services_version_v1_version.pb-c.h"
#include "api_events_task.pb-c.h"
#include "api_events_image.pb-c.h"
#include "api_events_container.pb-c.h"
#include "api_events_namespace.pb-c.h"
#include "runtime_v2_runc_options_oci.pb-c.h"

/* Short names for the generated types used across the project. */
typedef Containerd__Services__Version__V1__VersionResponse rpc_version;
typedef Containerd__Services__Namespaces__V1__ListNamespacesResponse rpc_namespace_list;
typedef Containerd__Services__Containers__V1__Container rpc_container;
typedef Containerd__Services__Containers__V1__ListContainersResponse rpc_container_list;
typedef Containerd__Services__Containers__V1__GetContainerResponse rpc_container_get;
typedef Containerd__V1__Types__Process rpc_process;
typedef Containerd__Services__Tasks__V1__GetResponse rpc_task_get;
typedef Containerd__Services__Tasks__V1__ListTasksResponse rpc_task_list;
typedef Containerd__Services__Content__V1__Info rpc_blob_info;
typedef Containerd__Services__Events__V1__Envelope rpc_envelope;

/* Version.Version */
int rpc_version_get(rpc_client *c, const rpc_opts *o, rpc_version **ret, rpc_error *err);

/* Namespaces.List (o->ns is ignored). */
int rpc_namespaces_list(rpc_client *c, const rpc_opts *o, rpc_namespace_list **ret, rpc_error *err);

/* Containers.List with optional containerd filters (may be NULL/0). */
int rpc_containers_list(rpc_client *c, const rpc_opts *o, const char *const *filters, size_t n_filters,
                        rpc_container_list **ret, rpc_error *err);
/* Containers.Get; -ENOENT when there is no such container. */
int rpc_containers_get(rpc_client *c, const rpc_opts *o, const char *id, rpc_container_get **ret,
                       rpc_error *err);

/* Tasks.Get (the init process of container `id`); -ENOENT without a task. */
int rpc_tasks_get(rpc_client *c, const rpc_opts *o, const char *id, rpc_task_get **ret, rpc_error *err);
/* Tasks.List with an optional filter (NULL: all). */
int rpc_tasks_list(rpc_client *c, const rpc_opts *o, const char *filter, rpc_task_list **ret, rpc_error *err);

/* Content.Info of a blob; -ENOENT when absent. */
int rpc_content_info(rpc_client *c, const rpc_opts *o, const char *digest, rpc_blob_info **ret,
                     rpc_error *err);

/* Content.Read: streams [offset, offset+size) of blob `digest` (size 0: to
 * the end) into `cb`, chunk by chunk, in order. `cb` returns 0 to go on or
 * -errno to stop (that value is returned). Returns the number of bytes
 * delivered (>= 0), or -errno. A stream that ends early, or a daemon dying
 * mid-stream, is an error, never a short success. */
typedef int (*rpc_read_cb)(const uint8_t *data, size_t len, uint64_t offset, void *userdata);
int64_t rpc_content_read(rpc_client *c, const rpc_opts *o, const char *digest, uint64_t offset, uint64_t size,
                         rpc_read_cb cb, void *userdata, rpc_error *err);

/* Content.Write: stores `len` bytes under `ref` with the expected `digest`
 * (sha256:<hex>, computed by the caller) and labels (n_labels key/value
 * pairs, may be 0). A blob that already exists is success, as in
 * containerd's own client. Needs a lease in o->lease to survive GC until an
 * image references it. `data` may be NULL when `reader` is given: then the
 * data is pulled from reader(userdata, buf, cap) -> bytes (0 at end, -errno). */
typedef ssize_t (*rpc_pull_cb)(void *userdata, uint8_t *buf, size_t cap);
int rpc_content_write(rpc_client *c, const rpc_opts *o, const char *ref, const char *digest, uint64_t len,
                      const uint8_t *data, rpc_pull_cb reader, void *userdata,
                      const char *const *labels, size_t n_labels, rpc_error *err);

/* Events.Subscribe: an endless stream. rpc_events_open() returns a call to
 * read with rpc_events_next() (1 + *ret envelope, 0 end, -errno); end it with
 * rpc_call_cancel() from another thread and free it with rpc_call_free().
 * o->timeout_ms is forced to "none". */
int rpc_events_open(rpc_client *c, const rpc_opts *o, const char *const *filters, size_t n_filters,
                    rpc_call **ret_call, rpc_error *err);
int rpc_events_next(rpc_call *call, rpc_envelope **ret, rpc_error *err);
