#include "containerd.h"

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
