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
