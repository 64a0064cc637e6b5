#include "containerd.h"

#include <string.h>

int rpc_introspection_plugins(rpc_client *c, const rpc_opts *o, const char *const *filters, size_t n_filters,
                              rpc_plugin_list **ret, rpc_error *err) {
        Containerd__Services__Introspection__V1__PluginsRequest req =
                CONTAINERD__SERVICES__INTROSPECTION__V1__PLUGINS_REQUEST__INIT;
        req.n_filters = n_filters;
        req.filters = (char **) filters;
        return rpc_unary(c, o, "/containerd.services.introspection.v1.Introspection/Plugins", &req.base,
                         &containerd__services__introspection__v1__plugins_response__descriptor,
                         (ProtobufCMessage **) ret, err);
}

const char *rpc_plugin_export(const rpc_plugin *p, const char *key) {
        for (size_t i = 0; i < p->n_exports; i++)
                if (p->exports[i]->key && strcmp(p->exports[i]->key, key) == 0)
                        return p->exports[i]->value;
        return NULL;
}
