/* The prepare stage of a restore: everything is read and checked before
 * anything is made, so that most refusals leave nothing to undo. */
#include "restore-run.h"
#include "cleanup.h"
#include "names.h"
#include "strv.h"
#include "vocab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The id: the request's, else the label ckptfs puts on its checkpoints,
 * else the <id> of a standard name containerd.io/checkpoint/<id>:<tag>. */
static int pick_id(restore_run *t, const rpc_image *im) {
        const char *id = t->req->id;
        for (size_t i = 0; !id && i < im->n_labels; i++)
                if (strcmp(im->labels[i]->key, LABEL_CKPTFS_CONTAINER) == 0 && restore_id_valid(im->labels[i]->value))
                        id = im->labels[i]->value;
        char from_name[RESTORE_ID_MAX + 1];
        const char *tag;
        size_t n = id ? 0 : ckpt_name_container(t->image, &tag);
        if (n > 0 && n <= RESTORE_ID_MAX) {
                memcpy(from_name, t->image + strlen(CKPT_NAME_PREFIX), n);
                from_name[n] = '\0';
                if (restore_id_valid(from_name))
                        id = from_name;
        }
        if (!id)
                return rrun_fail(t, EINVAL, "the checkpoint %s does not say which container it was of: "
                                 "name one with id=ID", t->image);
        snprintf(t->id, sizeof(t->id), "%s", id);
        return 0;
}

/* An Any in protobuf (the config and runtime options blobs). */
static int read_any(restore_run *t, const restore_desc *d, const char *what, Google__Protobuf__Any **ret) {
        rpc_error err = { 0 };
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = rrun_read_blob(t, d, &buf, &len, &err);
        if (r < 0)
                return rrun_fail(t, rrun_errno(r), "reading the %s %s failed: %s", what, d->digest, err.message);
        r = pb_msg_unpack(&google__protobuf__any__descriptor, (const uint8_t *) buf, len, (ProtobufCMessage **) ret);
        if (r < 0)
                return rrun_fail(t, EINVAL, "the %s %s is not a protobuf Any", what, d->digest);
        return 0;
}

/* Images.Get of the checkpoint and its index: annotations, blobs. */
static int read_checkpoint(restore_run *t) {
        rpc_error err = { 0 };
        rpc_opts o = rrun_opts(t, R_SHORT);
        _cleanup_pb_msg_ rpc_image *im = NULL;
        int r = rpc_images_get(t->c, &o, t->image, &im, &err);
        if (r == -ENOENT)
                return rrun_fail(t, ENOENT, "no checkpoint image %s in namespace %s", t->image, t->ns);
        if (r < 0 || !im->target)
                return rrun_fail(t, r < 0 ? rrun_errno(r) : EIO, "reading image %s failed: %s", t->image,
                                 r < 0 ? err.message : "no target");
        if ((r = pick_id(t, im)) < 0)
                return r;
        restore_desc d = { .size = im->target->size, .found = true };
        snprintf(d.digest, sizeof(d.digest), "%s", im->target->digest);
        _cleanup_free_ char *text = NULL;
        size_t len;
        if ((r = rrun_read_blob(t, &d, &text, &len, &err)) < 0)
                return rrun_fail(t, rrun_errno(r), "reading the index of %s failed: %s", t->image, err.message);
        if (restore_index_parse(text, len, &t->ix) < 0)
                return rrun_fail(t, EINVAL, "the index of %s is not a checkpoint index", t->image);
        const restore_index *ix = &t->ix;
        if (!ix->image_name || !ix->snapshotter || !ix->runtime)
                return rrun_fail(t, EINVAL, "the index of %s names no %s", t->image,
                                 !ix->image_name ? "image" : !ix->snapshotter ? "snapshotter" : "runtime");
        if (!ix->config.found)
                return rrun_fail(t, EINVAL, "checkpoint %s has no container spec (%s)", t->image, MT_CKPT_CONFIG);
        if (!t->req->no_start && !ix->criu.found)
                return rrun_fail(t, EINVAL, "checkpoint %s has no CRIU dump: restore it with no-start", t->image);
        if (!t->req->no_rw && !ix->rw.found)
                return rrun_fail(t, EINVAL, "checkpoint %s has no rw layer: restore it with no-rw", t->image);
        if ((r = read_any(t, &ix->config, "container spec", &t->spec)) < 0)
                return r;
        return ix->runtime_options.found ? read_any(t, &ix->runtime_options, "runtime options", &t->runtime_options) : 0;
}

/* Containers.Get: the id must be free. */
static int check_id_free(restore_run *t) {
        rpc_error err = { 0 };
        rpc_opts o = rrun_opts(t, R_SHORT);
        _cleanup_pb_msg_ rpc_container_get *cg = NULL;
        int r = rpc_containers_get(t->c, &o, t->id, &cg, &err);
        if (r == 0)
                return rrun_fail(t, EEXIST, "a container %s exists in namespace %s: remove it, or restore "
                                 "with id=ANOTHER", t->id, t->ns);
        if (r != -ENOENT)
                return rrun_fail(t, rrun_errno(r), "looking up container %s failed: %s", t->id, err.message);
        return 0;
}

/* The base image down to its config: the chain id of its layers, the
 * parent of the new snapshot (containerd's image.RootFS + ChainID). */
static int read_base_image(restore_run *t) {
        const char *name = t->ix.image_name;
        rpc_error err = { 0 };
        rpc_opts o = rrun_opts(t, R_SHORT);
        _cleanup_pb_msg_ rpc_image *im = NULL;
        int r = rpc_images_get(t->c, &o, name, &im, &err);
        if (r == -ENOENT)
                return rrun_fail(t, ENOENT, "the base image %s of checkpoint %s is absent: pull it "
                                 "(ctr images pull %s) and restore again", name, t->image, name);
        if (r < 0 || !im->target)
                return rrun_fail(t, r < 0 ? rrun_errno(r) : EIO, "reading image %s failed: %s", name,
                                 r < 0 ? err.message : "no target");
        if (!(t->base_name = strdup(name)))
                return rrun_fail(t, ENOMEM, "out of memory");
        restore_desc d = { .size = im->target->size, .found = true };
        snprintf(d.media_type, sizeof(d.media_type), "%s", im->target->media_type);
        snprintf(d.digest, sizeof(d.digest), "%s", im->target->digest);
        /* index -> manifest -> config; a deeper nesting is not an image. */
        for (int depth = 0; depth < 3; depth++) {
                _cleanup_free_ char *text = NULL;
                size_t len;
                if ((r = rrun_read_blob(t, &d, &text, &len, &err)) < 0)
                        return rrun_fail(t, r == -ENOENT ? ENOENT : rrun_errno(r),
                                         "reading blob %s of image %s failed: %s", d.digest, name, err.message);
                bool manifest = strcmp(d.media_type, MT_MANIFEST) == 0 ||
                                strcmp(d.media_type, MT_DOCKER_MANIFEST) == 0;
                if ((r = restore_image_step(d.media_type, text, len, &d)) < 0)
                        return rrun_fail(t, r == -ENOENT ? ENOENT : EINVAL, "image %s: %s", name,
                                         r == -ENOENT ? "no manifest for this platform" : "a blob is not an image");
                if (!manifest)
                        continue;
                _cleanup_free_ char *cfg = NULL;
                if ((r = rrun_read_blob(t, &d, &cfg, &len, &err)) < 0)
                        return rrun_fail(t, rrun_errno(r), "reading the config of image %s failed: %s", name,
                                         err.message);
                _cleanup_strv_free_ char **ids = NULL;
                size_t n;
                if (restore_config_diff_ids(cfg, len, &ids, &n) < 0 ||
                    restore_chain_id((const char *const *) ids, n, t->chain) < 0)
                        return rrun_fail(t, EINVAL, "the config of image %s has no valid rootfs.diff_ids", name);
                return 0;
        }
        return rrun_fail(t, EINVAL, "image %s: nested too deep", name);
}

int restore_prepare(restore_run *t) {
        int r = read_checkpoint(t);
        if (r >= 0)
                r = check_id_free(t);
        if (r >= 0)
                r = read_base_image(t);
        return r;
}
