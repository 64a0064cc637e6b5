/* Typed wrappers over the containerd services (the subset ckptfs uses).
 * Contracts as in rpc.h: 0 or -errno, `err` optional, results owned by the
 * caller and freed with pb_msg_free() (or _cleanup_pb_msg_). Every call
 * takes the namespace in `o->ns` and has a deadline (o->timeout_ms). */
#pragma once

#include "digest.h"
#include "rpc.h"
#include "status.h"

#include "api_services_containers_v1_containers.pb-c.h"
#include "api_services_content_v1_content.pb-c.h"
#include "api_services_diff_v1_diff.pb-c.h"
#include "api_services_events_v1_events.pb-c.h"
#include "api_services_images_v1_images.pb-c.h"
#include "api_services_introspection_v1_introspection.pb-c.h"
#include "api_services_leases_v1_leases.pb-c.h"
#include "api_services_namespaces_v1_namespace.pb-c.h"
#include "api_services_snapshots_v1_snapshots.pb-c.h"
#include "api_services_tasks_v1_tasks.pb-c.h"
#include "api_services_version_v1_version.pb-c.h"
#include "api_events_task.pb-c.h"
#include "api_events_image.pb-c.h"
#include "api_events_container.pb-c.h"
#include "api_events_namespace.pb-c.h"
#include "google_empty.pb-c.h"
#include "runtime_v2_runc_options_oci.pb-c.h"

/* Short names for the generated types used across the project. */
typedef Containerd__Services__Version__V1__VersionResponse rpc_version;
typedef Containerd__Services__Namespaces__V1__ListNamespacesResponse rpc_namespace_list;
typedef Containerd__Services__Containers__V1__Container rpc_container;
typedef Containerd__Services__Containers__V1__ListContainersResponse rpc_container_list;
typedef Containerd__Services__Containers__V1__GetContainerResponse rpc_container_get;
typedef Containerd__V1__Types__Process rpc_process;
typedef Containerd__Services__Tasks__V1__GetResponse rpc_task_get;
typedef Containerd__Services__Tasks__V1__ListPidsResponse rpc_task_pids;
typedef Containerd__Services__Tasks__V1__MetricsResponse rpc_task_metrics;
typedef Containerd__V1__Types__ProcessInfo rpc_process_info;
typedef Containerd__Types__Metric rpc_metric;
typedef Containerd__Services__Content__V1__Info rpc_blob_info;
typedef Containerd__Services__Events__V1__Envelope rpc_envelope;
typedef Containerd__Services__Tasks__V1__CheckpointTaskResponse rpc_task_checkpoint;
typedef Containerd__Services__Images__V1__Image rpc_image;
typedef Containerd__Services__Images__V1__ListImagesResponse rpc_image_list;
typedef Containerd__Services__Snapshots__V1__Info rpc_snapshot_info;
typedef Containerd__Services__Snapshots__V1__MountsResponse rpc_mounts;
typedef Containerd__Services__Introspection__V1__PluginsResponse rpc_plugin_list;
typedef Containerd__Services__Introspection__V1__Plugin rpc_plugin;

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

/* Containers.Create of `container` (its id, image, runtime, spec,
 * snapshotter and snapshot key as given); -EEXIST when the id is taken.
 * Containers.Delete; -ENOENT when absent. */
int rpc_containers_create(rpc_client *c, const rpc_opts *o, const rpc_container *container, rpc_error *err);
int rpc_containers_delete(rpc_client *c, const rpc_opts *o, const char *id, rpc_error *err);

/* Tasks.Get (the init process of container `id`); -ENOENT without a task. */
int rpc_tasks_get(rpc_client *c, const rpc_opts *o, const char *id, rpc_task_get **ret, rpc_error *err);
/* Tasks.Get: 1 when the task of `id` is paused or pausing (frozen), 0 when
 * it is not or there is none, else -errno. */
int rpc_tasks_frozen(rpc_client *c, const rpc_opts *o, const char *id, rpc_error *err);

/* Tasks.ListPids: the processes of container `id`'s task, in the order
 * the runtime lists them; each ProcessInfo.info is an Any the runtime may
 * set (runc: containerd.runc.v1.ProcessDetails of exec'd processes).
 * -ENOENT without a task (or container); a stopped task has none. */
int rpc_tasks_list_pids(rpc_client *c, const rpc_opts *o, const char *id, rpc_task_pids **ret, rpc_error *err);
/* Tasks.Metrics with the filter `id==<id>`: the cgroup statistics of
 * container `id`'s task, one rpc_metric whose data is an Any
 * (io.containerd.cgroups.v1.Metrics or io.containerd.cgroups.v2.Metrics).
 * Without a task containerd answers with no metrics (n_metrics == 0), not
 * an error. */
int rpc_tasks_metrics(rpc_client *c, const rpc_opts *o, const char *id, rpc_task_metrics **ret, rpc_error *err);

/* Tasks.Pause / Tasks.Resume of the init process of container `id`
 * (-ENOENT without a task; containerd answers FAILED_PRECONDITION when the
 * task is not in a state that allows it). */
int rpc_tasks_pause(rpc_client *c, const rpc_opts *o, const char *id, rpc_error *err);
int rpc_tasks_resume(rpc_client *c, const rpc_opts *o, const char *id, rpc_error *err);
/* Tasks.Checkpoint: `parent` (a digest, or NULL/"") and `options` (an Any,
 * e.g. containerd.runc.v1.CheckpointOptions; NULL: none). With the runc
 * option image_path the dump stays in that directory and the response
 * holds no descriptors; otherwise containerd writes the CRIU tar and the
 * spec into the content store (under o->lease) and lists them. */
int rpc_tasks_checkpoint(rpc_client *c, const rpc_opts *o, const char *id, const char *parent,
                         const Google__Protobuf__Any *options, rpc_task_checkpoint **ret, rpc_error *err);

/* Tasks.Create of container `id`'s task on `rootfs` (may be NULL), from
 * the CRIU dump `checkpoint` (a descriptor in the content store; NULL: a
 * fresh task), with runtime `options` (NULL: none), without stdio (the
 * shim gives the process /dev/null). *ret_pid (may be NULL): the init
 * process. Tasks.Start: runs it (a restore from a dump happens here, in
 * runc restore), *ret_pid its pid. Tasks.Kill of every process with
 * `signal`; Tasks.Delete of a stopped (or created) task. */
int rpc_tasks_create(rpc_client *c, const rpc_opts *o, const char *id, const rpc_mounts *rootfs,
                     const Containerd__Types__Descriptor *checkpoint, const Google__Protobuf__Any *options,
                     uint32_t *ret_pid, rpc_error *err);
int rpc_tasks_start(rpc_client *c, const rpc_opts *o, const char *id, uint32_t *ret_pid, rpc_error *err);
int rpc_tasks_kill(rpc_client *c, const rpc_opts *o, const char *id, uint32_t signal, rpc_error *err);
int rpc_tasks_delete(rpc_client *c, const rpc_opts *o, const char *id, rpc_error *err);

/* Images.Get; -ENOENT when there is no image of that name. */
int rpc_images_get(rpc_client *c, const rpc_opts *o, const char *name, rpc_image **ret, rpc_error *err);
/* Images.List with optional containerd filters (e.g. `name==x`). */
int rpc_images_list(rpc_client *c, const rpc_opts *o, const char *const *filters, size_t n_filters,
                    rpc_image_list **ret, rpc_error *err);
/* Images.Create of `name` -> `target` with labels (n_labels key/value
 * pairs); -EEXIST when the name is taken. */
int rpc_images_create(rpc_client *c, const rpc_opts *o, const char *name, const Containerd__Types__Descriptor *target,
                      const char *const *labels, size_t n_labels, rpc_error *err);
/* Images.Delete; -ENOENT when absent. `sync` waits for the garbage
 * collection that follows. */
int rpc_images_delete(rpc_client *c, const rpc_opts *o, const char *name, bool sync, rpc_error *err);

/* Leases.Create of lease `id` with labels (e.g. containerd.io/gc.expire);
 * Leases.Delete (`sync`: wait until the garbage collector has freed what
 * only the lease held). Use the id in rpc_opts.lease for calls that create
 * resources. */
int rpc_leases_create(rpc_client *c, const rpc_opts *o, const char *id, const char *const *labels, size_t n_labels,
                      rpc_error *err);
int rpc_leases_delete(rpc_client *c, const rpc_opts *o, const char *id, bool sync, rpc_error *err);
/* A fresh lease id: prefix and 16 random hex digits, into ret (size bytes,
 * at least strlen(prefix) + 17). -EIO without random bytes, -ENAMETOOLONG. */
int rpc_lease_name(const char *prefix, char *ret, size_t size);
/* Leases.Create of `id` with containerd.io/gc.expire `expire_s` seconds from
 * now (a lease nobody deletes goes by itself, as containerd's client's). */
int rpc_leases_create_expiring(rpc_client *c, const rpc_opts *o, const char *id, long expire_s, rpc_error *err);
/* Leases.AddResource: lease `id` also holds `resource` of `type` ("content"
 * with a digest, or "snapshots/<snapshotter>" with a key). */
int rpc_leases_add_resource(rpc_client *c, const rpc_opts *o, const char *id, const char *type,
                            const char *resource, rpc_error *err);

/* Snapshots service of snapshotter `snapshotter` (e.g. "overlayfs"):
 * Stat -> info (parent, kind); View -> a read-only snapshot `key` of
 * `parent` and its mounts (remove it with rpc_snapshots_remove()); Mounts ->
 * the mounts of an active snapshot. -ENOENT for an unknown key. */
int rpc_snapshots_stat(rpc_client *c, const rpc_opts *o, const char *snapshotter, const char *key,
                       rpc_snapshot_info **ret, rpc_error *err);
int rpc_snapshots_view(rpc_client *c, const rpc_opts *o, const char *snapshotter, const char *key,
                       const char *parent, rpc_mounts **ret, rpc_error *err);
int rpc_snapshots_mounts(rpc_client *c, const rpc_opts *o, const char *snapshotter, const char *key,
                         rpc_mounts **ret, rpc_error *err);
/* Prepare -> an active snapshot `key` on `parent` (a committed snapshot,
 * e.g. an image's chain id; NULL/"": empty) and its mounts (ret may be
 * NULL); -EEXIST when the key exists, -ENOENT without the parent. */
int rpc_snapshots_prepare(rpc_client *c, const rpc_opts *o, const char *snapshotter, const char *key,
                          const char *parent, rpc_mounts **ret, rpc_error *err);
int rpc_snapshots_remove(rpc_client *c, const rpc_opts *o, const char *snapshotter, const char *key,
                         rpc_error *err);

/* Diff.Diff: the changes from `left` to `right` as a layer of `media_type`
 * (NULL: containerd's default, application/vnd.oci.image.layer.v1.tar+gzip)
 * written into the content store under content ref `ref` (and o->lease).
 * *ret is the layer's descriptor (labelled containerd.io/uncompressed). */
int rpc_diff_diff(rpc_client *c, const rpc_opts *o, const rpc_mounts *left, const rpc_mounts *right,
                  const char *media_type, const char *ref, Containerd__Types__Descriptor **ret, rpc_error *err);

/* Diff.Apply: unpacks layer `diff` (a descriptor in the content store)
 * onto the mounts of an active snapshot. */
int rpc_diff_apply(rpc_client *c, const rpc_opts *o, const Containerd__Types__Descriptor *diff,
                   const rpc_mounts *mounts, rpc_error *err);

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

/* Content.Write of exactly `len` bytes pulled from `reader` (reader(userdata,
 * buf, cap) -> bytes, 0 at the end, -errno), under content ref `ref`, with
 * labels (n_labels key/value pairs, may be 0). The sha256 is computed while
 * the bytes go out and sent with the commit; *ret_digest (may be NULL)
 * receives "sha256:<hex>". A reader that ends early, or has more than
 * `len`, is -EIO; its own -errno is returned as is. A blob that exists
 * already is success, as in containerd's own client, and the commit that
 * finds it adds it to o->lease. Needs a lease in o->lease to survive GC
 * until an image references the blob. */
typedef ssize_t (*rpc_pull_cb)(void *userdata, uint8_t *buf, size_t cap);
int rpc_content_ingest(rpc_client *c, const rpc_opts *o, const char *ref, uint64_t len, rpc_pull_cb reader,
                       void *userdata, const char *const *labels, size_t n_labels, char ret_digest[DIGEST_MAX],
                       rpc_error *err);

/* Events.Subscribe: an endless stream. rpc_events_open() returns a call to
 * read with rpc_events_next() (1 + *ret envelope, 0 end, -errno); end it with
 * rpc_call_cancel() from another thread and free it with rpc_call_free().
 * o->timeout_ms is forced to "none". */
int rpc_events_open(rpc_client *c, const rpc_opts *o, const char *const *filters, size_t n_filters,
                    rpc_call **ret_call, rpc_error *err);
int rpc_events_next(rpc_call *call, rpc_envelope **ret, rpc_error *err);
/* The container a container or task event is about (its payload's
 * container_id, or a container event's id): *ret_id malloc'd. -ENOENT for
 * other events (and events naming none), -EBADMSG for a bad payload. */
int rpc_event_container_id(const rpc_envelope *env, char **ret_id);

/* Introspection.Plugins: the daemon's plugins, optionally filtered
 * (containerd's filter syntax, e.g. "type==io.containerd.content.v1"). */
int rpc_introspection_plugins(rpc_client *c, const rpc_opts *o, const char *const *filters, size_t n_filters,
                              rpc_plugin_list **ret, rpc_error *err);
/* The value a plugin exports under `key` (e.g. the content plugin's
 * "root"), borrowed from p; NULL if none. */
const char *rpc_plugin_export(const rpc_plugin *p, const char *key);
