/* The shared vocabulary of ckptfs: media types, annotation and label keys,
 * as containerd 1.6 and the OCI image spec spell them. Header only, no
 * state. Every library uses these names; none defines its own copy. */
#pragma once

/* OCI and Docker image media types. */
#define MT_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_LAYER_TAR "application/vnd.oci.image.layer.v1.tar"
#define MT_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar.gzip"

/* The blobs of a containerd checkpoint index. */
/* The prefix of every media type containerd writes only in a checkpoint
 * (the CRIU dump, the checkpoint config and options, the runtime options). */
#define MT_CKPT_PREFIX "application/vnd.containerd.container."
#define MT_CRIU "application/vnd.containerd.container.criu.checkpoint.criu.tar"
#define MT_CKPT_CONFIG "application/vnd.containerd.container.checkpoint.config.v1+proto"
#define MT_CKPT_OPTIONS "application/vnd.containerd.container.checkpoint.options.v1+proto"
#define MT_RUNTIME_OPTIONS "application/vnd.containerd.container.checkpoint.runtime.options+proto"

/* The Any type URL of runc's checkpoint options. */
#define RUNC_CHECKPOINT_OPTIONS_TYPE "containerd.runc.v1.CheckpointOptions"

/* Annotations of a checkpoint index, as containerd's client writes them
 * (container.Checkpoint): the container's image, runtime and snapshotter. */
#define ANN_IMAGE_NAME "org.opencontainers.image.ref.name"
#define ANN_CONTAINERD_IMAGE_NAME "io.containerd.image.name"
#define ANN_RUNTIME "io.containerd.checkpoint.runtime"
#define ANN_SNAPSHOTTER "io.containerd.checkpoint.snapshotter"

/* Image labels. */
#define LABEL_CHECKPOINT "containerd.io/checkpoint"
#define LABEL_GC_REF_CONTENT "containerd.io/gc.ref.content"
/* On the checkpoint images ckptfs makes: the container's id. What
 * retention (keep=N) may delete without being asked for more. */
#define LABEL_CKPTFS_CONTAINER "io.ckptfs.checkpoint.container"

/* The standard checkpoint names: CKPT_NAME_PREFIX "<id>:<tag>". */
#define CKPT_NAME_PREFIX "containerd.io/checkpoint/"
