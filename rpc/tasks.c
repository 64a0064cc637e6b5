#include "containerd.h"

int rpc_tasks_get(rpc_client *c, const rpc_opts *o, const char *id, rpc_task_get **ret, rpc_error *err) {
        Containerd__Services__Tasks__V1__GetRequest req = CONTAINERD__SERVICES__TASKS__V1__GET_REQUEST__INIT;
        req.container_id = (char *) id;
        return rpc_unary(c, o, "/containerd.services.tasks.v1.Tasks/Get", &req.base,
                         &containerd__services__tasks__v1__get_response__descriptor, (ProtobufCMessage **) ret,
                         err);
}

int rpc_tasks_list(rpc_client *c, const rpc_opts *o, const char *filter, rpc_task_list **ret, rpc_error *err) {
        Containerd__Services__Tasks__V1__ListTasksRequest req =
                CONTAINERD__SERVICES__TASKS__V1__LIST_TASKS_REQUEST__INIT;
        req.filter = (char *) (filter ? filter : "");
        return rpc_unary(c, o, "/containerd.services.tasks.v1.Tasks/List", &req.base,
                         &containerd__services__tasks__v1__list_tasks_response__descriptor,
                         (ProtobufCMessage **) ret, err);
}
