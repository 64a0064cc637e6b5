#include "containerd.h"

#include <errno.h>

int rpc_images_get(rpc_client *c, const rpc_opts *o, const char *name, rpc_image **ret, rpc_error *err) {
        Containerd__Services__Images__V1__GetImageRequest req = CONTAINERD__SERVICES__IMAGES__V1__GET_IMAGE_REQUEST__INIT;
        req.name = (char *) name;
        rpc_image *image = NULL;
        int r = rpc_unary_inner(c, o, "/containerd.services.images.v1.Images/Get", &req.base,
                                &containerd__services__images__v1__get_image_response__descriptor, "image",
                                (ProtobufCMessage **) &image, err);
        if (r < 0)
                return r;
        if (!image->target) {
                pb_msg_free(image);
                return rpc_error_set(err, EBADMSG, "Images.Get returned no target for %s", name);
        }
        *ret = image;
        return 0;
}

int rpc_images_list(rpc_client *c, const rpc_opts *o, const char *const *filters, size_t n_filters,
                    rpc_image_list **ret, rpc_error *err) {
        Containerd__Services__Images__V1__ListImagesRequest req =
                CONTAINERD__SERVICES__IMAGES__V1__LIST_IMAGES_REQUEST__INIT;
        req.n_filters = n_filters;
        req.filters = (char **) filters;
        return rpc_unary(c, o, "/containerd.services.images.v1.Images/List", &req.base,
                         &containerd__services__images__v1__list_images_response__descriptor,
                         (ProtobufCMessage **) ret, err);
}

int rpc_images_create(rpc_client *c, const rpc_opts *o, const char *name, const Containerd__Types__Descriptor *target,
                      const char *const *labels, size_t n_labels, rpc_error *err) {
        if (!name || !*name || !target)
                return rpc_error_set(err, EINVAL, "Images.Create needs a name and a target");
        pb_str_entry entries[n_labels ? n_labels : 1], *entryp[n_labels ? n_labels : 1];
        int r = pb_str_entries_init(&containerd__services__images__v1__image__labels_entry__descriptor, labels,
                                    n_labels, entries, entryp);
        if (r < 0)
                return rpc_error_set(err, r, "Images.Create: cannot encode the labels");
        Containerd__Services__Images__V1__Image image = CONTAINERD__SERVICES__IMAGES__V1__IMAGE__INIT;
        image.name = (char *) name;
        image.target = (Containerd__Types__Descriptor *) target;
        image.n_labels = n_labels;
        image.labels = (Containerd__Services__Images__V1__Image__LabelsEntry **) entryp;
        Containerd__Services__Images__V1__CreateImageRequest req =
                CONTAINERD__SERVICES__IMAGES__V1__CREATE_IMAGE_REQUEST__INIT;
        req.image = &image;
        return rpc_unary(c, o, "/containerd.services.images.v1.Images/Create", &req.base,
                         &containerd__services__images__v1__create_image_response__descriptor, NULL, err);
}

int rpc_images_delete(rpc_client *c, const rpc_opts *o, const char *name, bool sync, rpc_error *err) {
        Containerd__Services__Images__V1__DeleteImageRequest req =
                CONTAINERD__SERVICES__IMAGES__V1__DELETE_IMAGE_REQUEST__INIT;
        req.name = (char *) name;
        req.sync = sync;
        return rpc_unary(c, o, "/containerd.services.images.v1.Images/Delete", &req.base,
                         &google__protobuf__empty__descriptor, NULL, err);
}
