#include "containerd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

int rpc_events_open(rpc_client *c, const rpc_opts *o, const char *const *filters, size_t n_filters,
                    rpc_call **ret_call, rpc_error *err) {
        rpc_opts endless = o ? *o : (rpc_opts) { 0 };
        endless.timeout_ms = -1;
        rpc_call *call;
        int r = rpc_call_open(c, &endless, "/containerd.services.events.v1.Events/Subscribe", &call);
        if (r < 0)
                return rpc_error_set(err, r, "cannot start Events.Subscribe");
        Containerd__Services__Events__V1__SubscribeRequest req =
                CONTAINERD__SERVICES__EVENTS__V1__SUBSCRIBE_REQUEST__INIT;
        req.n_filters = n_filters;
        req.filters = (char **) filters;
        r = rpc_call_send(call, &req.base, true, err);
        if (r < 0) {
                rpc_call_free(call);
                return r;
        }
        *ret_call = call;
        return 0;
}

int rpc_events_next(rpc_call *call, rpc_envelope **ret, rpc_error *err) {
        return rpc_call_recv(call, &containerd__services__events__v1__envelope__descriptor, (ProtobufCMessage **) ret,
                             err);
}

/* The events that name a container, by their type_url. */
static const ProtobufCMessageDescriptor *const container_events[] = {
        &containerd__events__container_create__descriptor,
        &containerd__events__container_update__descriptor,
        &containerd__events__container_delete__descriptor,
        &containerd__events__task_create__descriptor,
        &containerd__events__task_start__descriptor,
        &containerd__events__task_delete__descriptor,
        &containerd__events__task_exit__descriptor,
        &containerd__events__task_oom__descriptor,
        &containerd__events__task_exec_added__descriptor,
        &containerd__events__task_exec_started__descriptor,
        &containerd__events__task_paused__descriptor,
        &containerd__events__task_resumed__descriptor,
        &containerd__events__task_checkpointed__descriptor,
};

int rpc_event_container_id(const rpc_envelope *env, char **ret_id) {
        const ProtobufCMessageDescriptor *desc = NULL;
        for (size_t i = 0; i < ELEMENTSOF(container_events) && !desc; i++)
                if (pb_any_is(env->event, container_events[i]))
                        desc = container_events[i];
        if (!desc)
                return -ENOENT;
        _cleanup_pb_msg_ ProtobufCMessage *m = NULL;
        int r = pb_msg_unpack(desc, env->event->value.data, env->event->value.len, &m);
        if (r < 0)
                return r;
        /* Task events: container_id (TaskExit's `id` is the exec's);
         * container events: id. */
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(desc, "container_id");
        if (!f)
                f = protobuf_c_message_descriptor_get_field_by_name(desc, "id");
        if (!f || f->type != PROTOBUF_C_TYPE_STRING)
                return -ENOENT;
        const char *id = *(char *const *) ((const char *) m + f->offset);
        if (!id || !*id)
                return -ENOENT;
        char *s = strdup(id);
        if (!s)
                return -ENOMEM;
        *ret_id = s;
        return 0;
}
