#include "containerd.h"

int rpc_namespaces_list(rpc_client *c, const rpc_opts *o, rpc_namespace_list **ret, rpc_error *err) {
        Containerd__Services__Namespaces__V1__ListNamespacesRequest req =
                CONTAINERD__SERVICES__NAMESPACES__V1__LIST_NAMESPACES_REQUEST__INIT;
        rpc_opts no_ns = o ? *o : (rpc_opts) { 0 };
        no_ns.ns = NULL;
        return rpc_unary(c, &no_ns, "/containerd.services.namespaces.v1.Namespaces/List", &req.base,
                         &containerd__services__namespaces__v1__list_namespaces_response__descriptor,
                         (ProtobufCMessage **) ret, err);
}
