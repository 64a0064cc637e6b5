#include "containerd.h"

int rpc_tasks_get(rpc_client *c, const rpc_opts *o, const char *id, rpc_task_get **ret, rpc_error *err) {
        Containerd__Services__Tasks__V1__GetRequest req = CONTAINERD__SERVICES__TASKS__V1__GET_REQUEST__INIT;
        req.container_id = (char *) id;
        return rpc_unary(c, o, "/containerd.services.tasks.v1.Tasks/Get", &req.base,
                         &containerd__services__tasks__v1__get_response__descriptor, (ProtobufCMessage **) ret,
                         err);
}

int rpc_tasks_pause(rpc_client *c, const rpc_opts *o, const char *id, rpc_error *err) {
        Containerd__Services__Tasks__V1__PauseTaskRequest req =
                CONTAINERD__SERVICES__TASKS__V1__PAUSE_TASK_REQUEST__INIT;
        req.container_id = (char *) id;
        return rpc_unary(c, o, "/containerd.services.tasks.v1.Tasks/Pause", &req.base,
                         &google__protobuf__empty__descriptor, NULL, err);
}

int rpc_tasks_resume(rpc_client *c, const rpc_opts *o, const char *id, rpc_error *err) {
        Containerd__Services__Tasks__V1__ResumeTaskRequest req =
                CONTAINERD__SERVICES__TASKS__V1__RESUME_TASK_REQUEST__INIT;
        req.container_id = (char *) id;
        return rpc_unary(c, o, "/containerd.services.tasks.v1.Tasks/Resume", &req.base,
                         &google__protobuf__empty__descriptor, NULL, err);
}

int rpc_tasks_checkpoint(rpc_client *c, const rpc_opts *o, const char *id, const char *parent,
                         const Google__Protobuf__Any *options, rpc_task_checkpoint **ret, rpc_error *err) {
        Containerd__Services__Tasks__V1__CheckpointTaskRequest req =
                CONTAINERD__SERVICES__TASKS__V1__CHECKPOINT_TASK_REQUEST__INIT;
        req.container_id = (char *) id;
        req.parent_checkpoint = (char *) (parent ? parent : "");
        req.options = (Google__Protobuf__Any *) options;
        return rpc_unary(c, o, "/containerd.services.tasks.v1.Tasks/Checkpoint", &req.base,
                         &containerd__services__tasks__v1__checkpoint_task_response__descriptor,
                         (ProtobufCMessage **) ret, err);
}
