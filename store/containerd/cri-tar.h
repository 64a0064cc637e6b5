/* cri.tar: a checkpoint as the archive a Kubernetes node writes through
 * containerd's CRI plugin (CheckpointContainer, /var/lib/kubelet/
 * checkpoints/<name>.tar), so that checkpointctl and other readers of kubelet
 * archives read a containerd checkpoint image. Members, in the lexical
 * order of containerd's directory walk:
 *   checkpoint/          every regular member of the CRIU tar (its own
 *                        order), bytes served from the CRIU blob;
 *   config.dump          checkpointctl's ContainerConfig (cri-dump.h);
 *   rootfs-diff.tar      the rw layer blob as stored (gzip: containerd
 *                        writes the blob's bytes under this name); only
 *                        when the checkpoint has a layer;
 *   spec.dump            the spec as the config blob stores it;
 *   stats-dump           CRIU's dump statistics, when the CRIU tar has one
 *                        (containerd's CRIU writes it beside checkpoint/);
 *   status.dump          CRI's ContainerStatus (cri-dump.h).
 * The dumps need a config blob: without one they are left out. Files are
 * 0600, directories 0700 (as containerd writes them), mtime the image's
 * creation; not written: container.log, dump.log, status (containerd's own
 * files, not in a checkpoint image).
 *
 * Built per call as a vtar (vtar.h): headers and the small dumps in
 * memory, everything else read by offset from the blobs; its size is
 * exact. Member data is not checked against digests (as members of tar
 * views are not: blob-check.h). Thread-safe. Errors: -ENOENT (no CRIU
 * tar), -EIO for images that do not decode, -errno. */
#pragma once

#include "blob.h"
#include "catalog.h"
#include "reader.h"
#include "views.h"

/* The archive of checkpoint `ck`, whose index has the descriptors `kids`. */
int store_cri_tar_open(store_views *v, store_catalog *cat, store_blobs *blobs, const store_ckpt *ck,
                       const store_descs *kids, struct store_reader **ret);
