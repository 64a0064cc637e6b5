#include "containerd.h"

#include <errno.h>
#include <stdlib.h>

int rpc_snapshots_stat(rpc_client *c, const rpc_opts *o, const char *snapshotter, const char *key,
                       rpc_snapshot_info **ret, rpc_error *err) {
        Containerd__Services__Snapshots__V1__StatSnapshotRequest req =
                CONTAINERD__SERVICES__SNAPSHOTS__V1__STAT_SNAPSHOT_REQUEST__INIT;
        req.snapshotter = (char *) snapshotter;
        req.key = (char *) key;
        return rpc_unary_inner(c, o, "/containerd.services.snapshots.v1.Snapshots/Stat", &req.base,
                               &containerd__services__snapshots__v1__stat_snapshot_response__descriptor, "info",
                               (ProtobufCMessage **) ret, err);
}

int rpc_snapshots_view(rpc_client *c, const rpc_opts *o, const char *snapshotter, const char *key,
                       const char *parent, rpc_mounts **ret, rpc_error *err) {
        Containerd__Services__Snapshots__V1__ViewSnapshotRequest req =
                CONTAINERD__SERVICES__SNAPSHOTS__V1__VIEW_SNAPSHOT_REQUEST__INIT;
        req.snapshotter = (char *) snapshotter;
        req.key = (char *) key;
        req.parent = (char *) (parent ? parent : "");
        Containerd__Services__Snapshots__V1__ViewSnapshotResponse *resp = NULL;
        int r = rpc_unary(c, o, "/containerd.services.snapshots.v1.Snapshots/View", &req.base,
                          &containerd__services__snapshots__v1__view_snapshot_response__descriptor,
                          (ProtobufCMessage **) &resp, err);
        if (r < 0)
                return r;
        /* The View and Mounts responses have the same wire shape (repeated
         * Mount = 1): re-decode so that callers handle one type. */
        uint8_t *buf = NULL;
        size_t len = 0;
        rpc_mounts *m = NULL;
        r = pb_msg_pack(&resp->base, &buf, &len);
        pb_msg_free(resp);
        if (r >= 0)
                r = pb_msg_unpack(&containerd__services__snapshots__v1__mounts_response__descriptor, buf, len,
                                   (ProtobufCMessage **) &m);
        free(buf);
        if (r < 0)
                return rpc_error_set(err, r, "Snapshots.View of %s: cannot decode the mounts", key);
        *ret = m;
        return 0;
}

int rpc_snapshots_mounts(rpc_client *c, const rpc_opts *o, const char *snapshotter, const char *key,
                         rpc_mounts **ret, rpc_error *err) {
        Containerd__Services__Snapshots__V1__MountsRequest req =
                CONTAINERD__SERVICES__SNAPSHOTS__V1__MOUNTS_REQUEST__INIT;
        req.snapshotter = (char *) snapshotter;
        req.key = (char *) key;
        return rpc_unary(c, o, "/containerd.services.snapshots.v1.Snapshots/Mounts", &req.base,
                         &containerd__services__snapshots__v1__mounts_response__descriptor,
                         (ProtobufCMessage **) ret, err);
}

int rpc_snapshots_remove(rpc_client *c, const rpc_opts *o, const char *snapshotter, const char *key,
                         rpc_error *err) {
        Containerd__Services__Snapshots__V1__RemoveSnapshotRequest req =
                CONTAINERD__SERVICES__SNAPSHOTS__V1__REMOVE_SNAPSHOT_REQUEST__INIT;
        req.snapshotter = (char *) snapshotter;
        req.key = (char *) key;
        return rpc_unary(c, o, "/containerd.services.snapshots.v1.Snapshots/Remove", &req.base,
                         &google__protobuf__empty__descriptor, NULL, err);
}

int rpc_snapshots_prepare(rpc_client *c, const rpc_opts *o, const char *snapshotter, const char *key,
                          const char *parent, rpc_mounts **ret, rpc_error *err) {
        Containerd__Services__Snapshots__V1__PrepareSnapshotRequest req =
                CONTAINERD__SERVICES__SNAPSHOTS__V1__PREPARE_SNAPSHOT_REQUEST__INIT;
        req.snapshotter = (char *) snapshotter;
        req.key = (char *) key;
        req.parent = (char *) (parent ? parent : "");
        Containerd__Services__Snapshots__V1__PrepareSnapshotResponse *resp = NULL;
        int r = rpc_unary(c, o, "/containerd.services.snapshots.v1.Snapshots/Prepare", &req.base,
                          &containerd__services__snapshots__v1__prepare_snapshot_response__descriptor,
                          ret ? (ProtobufCMessage **) &resp : NULL, err);
        if (r < 0 || !ret)
                return r;
        /* Same wire shape as the Mounts response (see rpc_snapshots_view). */
        uint8_t *buf = NULL;
        size_t len = 0;
        rpc_mounts *m = NULL;
        r = pb_msg_pack(&resp->base, &buf, &len);
        pb_msg_free(resp);
        if (r >= 0)
                r = pb_msg_unpack(&containerd__services__snapshots__v1__mounts_response__descriptor, buf, len,
                                   (ProtobufCMessage **) &m);
        free(buf);
        if (r < 0)
                return rpc_error_set(err, r, "Snapshots.Prepare of %s: cannot decode the mounts", key);
        *ret = m;
        return 0;
}
