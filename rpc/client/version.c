#include "containerd.h"
#include "google_empty.pb-c.h"

int rpc_version_get(rpc_client *c, const rpc_opts *o, rpc_version **ret, rpc_error *err) {
        Google__Protobuf__Empty req = GOOGLE__PROTOBUF__EMPTY__INIT;
        return rpc_unary(c, o, "/containerd.services.version.v1.Version/Version", &req.base,
                         &containerd__services__version__v1__version_response__descriptor,
                         (ProtobufCMessage **) ret, err);
}
