#include "containerd.h"

int rpc_containers_list(rpc_client *c, const rpc_opts *o, const char *const *filters, size_t n_filters,
                        rpc_container_list **ret, rpc_error *err) {
        Containerd__Services__Containers__V1__ListContainersRequest req =
                CONTAINERD__SERVICES__CONTAINERS__V1__LIST_CONTAINERS_REQUEST__INIT;
        req.n_filters = n_filters;
        req.filters = (char **) filters;
        return rpc_unary(c, o, "/containerd.services.containers.v1.Containers/List", &req.base,
                         &containerd__services__containers__v1__list_containers_response__descriptor,
                         (ProtobufCMessage **) ret, err);
}

int rpc_containers_get(rpc_client *c, const rpc_opts *o, const char *id, rpc_container_get **ret,
                       rpc_error *err) {
        Containerd__Services__Containers__V1__GetContainerRequest req =
                CONTAINERD__SERVICES__CONTAINERS__V1__GET_CONTAINER_REQUEST__INIT;
        req.id = (char *) id;
        return rpc_unary(c, o, "/containerd.services.containers.v1.Containers/Get", &req.base,
                         &containerd__services__containers__v1__get_container_response__descriptor,
                         (ProtobufCMessage **) ret, err);
}

int rpc_containers_create(rpc_client *c, const rpc_opts *o, const rpc_container *container, rpc_error *err) {
        Containerd__Services__Containers__V1__CreateContainerRequest req =
                CONTAINERD__SERVICES__CONTAINERS__V1__CREATE_CONTAINER_REQUEST__INIT;
        req.container = (rpc_container *) container;
        return rpc_unary(c, o, "/containerd.services.containers.v1.Containers/Create", &req.base,
                         &containerd__services__containers__v1__create_container_response__descriptor, NULL, err);
}

int rpc_containers_delete(rpc_client *c, const rpc_opts *o, const char *id, rpc_error *err) {
        Containerd__Services__Containers__V1__DeleteContainerRequest req =
                CONTAINERD__SERVICES__CONTAINERS__V1__DELETE_CONTAINER_REQUEST__INIT;
        req.id = (char *) id;
        return rpc_unary(c, o, "/containerd.services.containers.v1.Containers/Delete", &req.base,
                         &google__protobuf__empty__descriptor, NULL, err);
}
