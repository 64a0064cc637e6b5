#include "containerd.h"

int rpc_diff_diff(rpc_client *c, const rpc_opts *o, const rpc_mounts *left, const rpc_mounts *right,
                  const char *media_type, const char *ref, Containerd__Types__Descriptor **ret, rpc_error *err) {
        Containerd__Services__Diff__V1__DiffRequest req = CONTAINERD__SERVICES__DIFF__V1__DIFF_REQUEST__INIT;
        req.n_left = left->n_mounts;
        req.left = left->mounts;
        req.n_right = right->n_mounts;
        req.right = right->mounts;
        req.media_type = (char *) (media_type ? media_type : "");
        req.ref = (char *) (ref ? ref : "");
        return rpc_unary_inner(c, o, "/containerd.services.diff.v1.Diff/Diff", &req.base,
                               &containerd__services__diff__v1__diff_response__descriptor, "diff",
                               (ProtobufCMessage **) ret, err);
}

int rpc_diff_apply(rpc_client *c, const rpc_opts *o, const Containerd__Types__Descriptor *diff,
                   const rpc_mounts *mounts, rpc_error *err) {
        Containerd__Services__Diff__V1__ApplyRequest req = CONTAINERD__SERVICES__DIFF__V1__APPLY_REQUEST__INIT;
        req.diff = (Containerd__Types__Descriptor *) diff;
        req.n_mounts = mounts->n_mounts;
        req.mounts = mounts->mounts;
        return rpc_unary(c, o, "/containerd.services.diff.v1.Diff/Apply", &req.base,
                         &containerd__services__diff__v1__apply_response__descriptor, NULL, err);
}
