#include "containerd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

int rpc_leases_create(rpc_client *c, const rpc_opts *o, const char *id, const char *const *labels, size_t n_labels,
                      rpc_error *err) {
        pb_str_entry entries[n_labels ? n_labels : 1], *entryp[n_labels ? n_labels : 1];
        int r = pb_str_entries_init(&containerd__services__leases__v1__create_request__labels_entry__descriptor,
                                    labels, n_labels, entries, entryp);
        if (r < 0)
                return rpc_error_set(err, r, "Leases.Create: cannot encode the labels");
        Containerd__Services__Leases__V1__CreateRequest req = CONTAINERD__SERVICES__LEASES__V1__CREATE_REQUEST__INIT;
        req.id = (char *) id;
        req.n_labels = n_labels;
        req.labels = (Containerd__Services__Leases__V1__CreateRequest__LabelsEntry **) entryp;
        return rpc_unary(c, o, "/containerd.services.leases.v1.Leases/Create", &req.base,
                         &containerd__services__leases__v1__create_response__descriptor, NULL, err);
}

int rpc_leases_delete(rpc_client *c, const rpc_opts *o, const char *id, bool sync, rpc_error *err) {
        Containerd__Services__Leases__V1__DeleteRequest req = CONTAINERD__SERVICES__LEASES__V1__DELETE_REQUEST__INIT;
        req.id = (char *) id;
        req.sync = sync;
        return rpc_unary(c, o, "/containerd.services.leases.v1.Leases/Delete", &req.base,
                         &google__protobuf__empty__descriptor, NULL, err);
}

int rpc_leases_add_resource(rpc_client *c, const rpc_opts *o, const char *id, const char *type,
                            const char *resource, rpc_error *err) {
        Containerd__Services__Leases__V1__Resource res = CONTAINERD__SERVICES__LEASES__V1__RESOURCE__INIT;
        res.id = (char *) resource;
        res.type = (char *) type;
        Containerd__Services__Leases__V1__AddResourceRequest req =
                CONTAINERD__SERVICES__LEASES__V1__ADD_RESOURCE_REQUEST__INIT;
        req.id = (char *) id;
        req.resource = &res;
        return rpc_unary(c, o, "/containerd.services.leases.v1.Leases/AddResource", &req.base,
                         &google__protobuf__empty__descriptor, NULL, err);
}

int rpc_lease_name(const char *prefix, char *ret, size_t size) {
        unsigned char rnd[8];
        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t) sizeof(rnd))
                return -EIO;
        size_t p = strlen(prefix);
        if (p + 2 * sizeof(rnd) + 1 > size)
                return -ENAMETOOLONG;
        memcpy(ret, prefix, p);
        for (size_t i = 0; i < sizeof(rnd); i++)
                snprintf(ret + p + 2 * i, 3, "%02x", rnd[i]);
        return 0;
}

int rpc_leases_create_expiring(rpc_client *c, const rpc_opts *o, const char *id, long expire_s, rpc_error *err) {
        char expire[64];
        time_t when = time(NULL) + expire_s;
        struct tm tm;
        gmtime_r(&when, &tm);
        strftime(expire, sizeof(expire), "%Y-%m-%dT%H:%M:%SZ", &tm);
        const char *labels[] = { "containerd.io/gc.expire", expire };
        return rpc_leases_create(c, o, id, labels, 1, err);
}
