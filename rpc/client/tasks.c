#include "containerd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cleanup.h"

int rpc_tasks_get(rpc_client *c, const rpc_opts *o, const char *id, rpc_task_get **ret, rpc_error *err) {
        Containerd__Services__Tasks__V1__GetRequest req = CONTAINERD__SERVICES__TASKS__V1__GET_REQUEST__INIT;
        req.container_id = (char *) id;
        return rpc_unary(c, o, "/containerd.services.tasks.v1.Tasks/Get", &req.base,
                         &containerd__services__tasks__v1__get_response__descriptor, (ProtobufCMessage **) ret,
                         err);
}

int rpc_tasks_frozen(rpc_client *c, const rpc_opts *o, const char *id, rpc_error *err) {
        _cleanup_pb_msg_ rpc_task_get *tg = NULL;
        int r = rpc_tasks_get(c, o, id, &tg, err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        return tg->process && (tg->process->status == CONTAINERD__V1__TYPES__STATUS__PAUSED ||
                               tg->process->status == CONTAINERD__V1__TYPES__STATUS__PAUSING);
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

int rpc_tasks_list_pids(rpc_client *c, const rpc_opts *o, const char *id, rpc_task_pids **ret, rpc_error *err) {
        Containerd__Services__Tasks__V1__ListPidsRequest req =
                CONTAINERD__SERVICES__TASKS__V1__LIST_PIDS_REQUEST__INIT;
        req.container_id = (char *) id;
        return rpc_unary(c, o, "/containerd.services.tasks.v1.Tasks/ListPids", &req.base,
                         &containerd__services__tasks__v1__list_pids_response__descriptor,
                         (ProtobufCMessage **) ret, err);
}

int rpc_tasks_metrics(rpc_client *c, const rpc_opts *o, const char *id, rpc_task_metrics **ret, rpc_error *err) {
        Containerd__Services__Tasks__V1__MetricsRequest req =
                CONTAINERD__SERVICES__TASKS__V1__METRICS_REQUEST__INIT;
        /* The filter containerd's own client sends for Task.Metrics(). */
        _cleanup_free_ char *filter = NULL;
        if (asprintf(&filter, "id==%s", id) < 0)
                return rpc_error_set(err, ENOMEM, "out of memory");
        req.n_filters = 1;
        req.filters = &filter;
        return rpc_unary(c, o, "/containerd.services.tasks.v1.Tasks/Metrics", &req.base,
                         &containerd__services__tasks__v1__metrics_response__descriptor,
                         (ProtobufCMessage **) ret, err);
}

int rpc_tasks_create(rpc_client *c, const rpc_opts *o, const char *id, const rpc_mounts *rootfs,
                     const Containerd__Types__Descriptor *checkpoint, const Google__Protobuf__Any *options,
                     uint32_t *ret_pid, rpc_error *err) {
        Containerd__Services__Tasks__V1__CreateTaskRequest req =
                CONTAINERD__SERVICES__TASKS__V1__CREATE_TASK_REQUEST__INIT;
        req.container_id = (char *) id;
        if (rootfs) {
                req.n_rootfs = rootfs->n_mounts;
                req.rootfs = rootfs->mounts;
        }
        req.checkpoint = (Containerd__Types__Descriptor *) checkpoint;
        req.options = (Google__Protobuf__Any *) options;
        _cleanup_pb_msg_ Containerd__Services__Tasks__V1__CreateTaskResponse *resp = NULL;
        int r = rpc_unary(c, o, "/containerd.services.tasks.v1.Tasks/Create", &req.base,
                          &containerd__services__tasks__v1__create_task_response__descriptor,
                          (ProtobufCMessage **) &resp, err);
        if (r >= 0 && ret_pid)
                *ret_pid = resp->pid;
        return r;
}

int rpc_tasks_start(rpc_client *c, const rpc_opts *o, const char *id, uint32_t *ret_pid, rpc_error *err) {
        Containerd__Services__Tasks__V1__StartRequest req = CONTAINERD__SERVICES__TASKS__V1__START_REQUEST__INIT;
        req.container_id = (char *) id;
        _cleanup_pb_msg_ Containerd__Services__Tasks__V1__StartResponse *resp = NULL;
        int r = rpc_unary(c, o, "/containerd.services.tasks.v1.Tasks/Start", &req.base,
                          &containerd__services__tasks__v1__start_response__descriptor, (ProtobufCMessage **) &resp,
                          err);
        if (r >= 0 && ret_pid)
                *ret_pid = resp->pid;
        return r;
}

int rpc_tasks_kill(rpc_client *c, const rpc_opts *o, const char *id, uint32_t signal, rpc_error *err) {
        Containerd__Services__Tasks__V1__KillRequest req = CONTAINERD__SERVICES__TASKS__V1__KILL_REQUEST__INIT;
        req.container_id = (char *) id;
        req.signal = signal;
        req.all = true;
        return rpc_unary(c, o, "/containerd.services.tasks.v1.Tasks/Kill", &req.base,
                         &google__protobuf__empty__descriptor, NULL, err);
}

int rpc_tasks_delete(rpc_client *c, const rpc_opts *o, const char *id, rpc_error *err) {
        Containerd__Services__Tasks__V1__DeleteTaskRequest req =
                CONTAINERD__SERVICES__TASKS__V1__DELETE_TASK_REQUEST__INIT;
        req.container_id = (char *) id;
        return rpc_unary(c, o, "/containerd.services.tasks.v1.Tasks/Delete", &req.base,
                         &containerd__services__tasks__v1__delete_response__descriptor, NULL, err);
}
