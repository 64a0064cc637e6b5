/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Checkpoint archives of other engines, turned into a containerd checkpoint
 * image (archive-open.c reads and checks, archive-convert.c converts,
 * archive-blob.c writes blobs).
 *
 * Input: one file, a plain tar or a gzip tar (zstd is recognised and
 * refused: the build has no libzstd), of one of these layouts
 * (/work/shared/notes/checkpoint-archives.md):
 *   - ARCHIVE_CONTAINERD_CRI: what kubelet gets from containerd's CRI
 *     plugin (checkpoint/, config.dump, spec.dump, status.dump,
 *     rootfs-diff.tar), also ckptfs's own cri.tar;
 *   - ARCHIVE_CRIO: CRI-O's (bind.mounts or io.kubernetes.cri-o.LogPath,
 *     no status.dump);
 *   - ARCHIVE_PODMAN: `podman container checkpoint --export`
 *     (network.status, ctr.log, artifacts/ or devshm-checkpoint.tar).
 * All need checkpoint/ (with inventory.img), spec.dump and config.dump.
 *
 * Safety: the archive is refused (-EINVAL, with a message naming the
 * member) when a member name has a ".." component (tarindex) or is
 * absolute (a ustar name or prefix, a pax path, a GNU long name), a symlink points out of the archive (absolute target, or
 * ".." climbing above the root), a member is a device file, anything in
 * checkpoint/ is not a regular file or a directory, or a metadata file
 * (spec.dump, config.dump, status.dump) is over 16 MiB; -EBADMSG when the
 * tar is corrupt (bad checksums, truncated headers or data, sizes past the
 * end).
 *
 * Output (store_archive_convert): an OCI image layout directory (oci-layout,
 * index.json naming the image, blobs/sha256/) holding the checkpoint index
 * as containerd's client writes it (checkpoint-index.h) and its blobs:
 *   - the CRIU tar: checkpoint/'s members as a flat ustar, names relative
 *     to checkpoint/, sorted (vtar.h); for Podman and CRI-O, whose
 *     containers/storage makes a container's root 0555 where containerd's
 *     snapshotters make it 0755, files.img's entries of the root directory
 *     say 0755 (CRIU's restore refuses a root of another mode); the other
 *     files byte for byte;
 *   - the rw layer (rootfs-diff.tar) as a tar+gzip layer: kept byte for
 *     byte when it is gzip already, gzip-compressed when it is a plain tar
 *     (containerd's restore --rw looks for the gzip layer media type);
 *   - the config blob: a google.protobuf.Any of type
 *     types.containerd.io/opencontainers/runtime-spec/1/Spec whose value is
 *     spec.dump, byte for byte unless root.path is not "rootfs" (Podman and
 *     CRI-O: the path of their own storage), which is then set to "rootfs"
 *     (containerd's runc shim mounts the rootfs there);
 *   - checkpoint options (containerd.runc.v1.CheckpointOptions, all
 *     defaults: the archives do not record the options of the dump);
 *   - runtime options (containerd.runc.v1.Options, only when needed):
 *     binary_name when config.dump's runtime is a bare OCI runtime other
 *     than runc ("crun"), systemd_cgroup when the spec's
 *     linux.cgroupsPath is systemd's "slice:prefix:name";
 * and index annotations: the runtime (config.dump's, mapped to
 * io.containerd.runc.v2 when it is a bare OCI runtime such as runc or
 * crun), the snapshotter (given, default overlayfs) and the base image name
 * (config.dump's rootfsImageName, else rootfsImage; or given).
 *
 * Threads: an archive is used by one thread at a time. Errors: 0 or
 * -errno; err (may be NULL) gets a one-line reason.
 */

#include <stddef.h>
#include <stdint.h>

#include "reader.h"

typedef enum store_archive_kind {
        ARCHIVE_CONTAINERD_CRI,
        ARCHIVE_CRIO,
        ARCHIVE_PODMAN,
} store_archive_kind;

const char *store_archive_kind_name(store_archive_kind k);

typedef struct store_archive store_archive;

/* Takes `file` (the archive as stored) on success only. Errors: -EINVAL
 * (unsafe member, see above), -EBADMSG (corrupt), -EPROTONOSUPPORT (zstd),
 * -EMEDIUMTYPE (a tar, but not a layout known here), -ENOMEM, I/O errors. */
int store_archive_open(struct store_reader *file, store_archive **ret, char *err, size_t errlen);
store_archive_kind store_archive_get_kind(const store_archive *a);
/* The uncompressed tar and its index (borrowed, live as long as a). */
struct store_reader *store_archive_tar(const store_archive *a);
const struct tar_index *store_archive_index(const store_archive *a);
/* A copy of a metadata member's bytes, NUL-terminated; -ENOENT if absent. */
int store_archive_read_small(const store_archive *a, const char *path, char **ret, size_t *ret_len);
void store_archive_free(store_archive *a);
static inline void store_archive_freep(store_archive **a) {
        if (*a)
                store_archive_free(*a);
}
#define _cleanup_store_archive_ __attribute__((cleanup(store_archive_freep)))

typedef struct store_convert_opts {
        const char *name;        /* the image name in the layout (required) */
        const char *image;       /* base image name; NULL: config.dump's */
        const char *runtime;     /* NULL: config.dump's, mapped */
        const char *snapshotter; /* NULL: overlayfs */
} store_convert_opts;

typedef struct store_convert_result {
        char index_digest[72];   /* the checkpoint index, DIGEST_MAX */
        int64_t index_size;
        uint64_t criu_members;   /* files in the CRIU tar */
        uint64_t criu_size;
        int64_t rw_size;         /* -1: the archive has no rootfs-diff.tar */
        int rw_recompressed;     /* 1: rootfs-diff.tar was a plain tar */
        unsigned root_fixed;     /* files.img entries of "/" given mode 0755 */
} store_convert_result;

/* Writes the layout into outdir (created if missing; existing blobs of the
 * same digest are overwritten). -EBADMSG: spec.dump or config.dump is not
 * a JSON object; -EINVAL: no base image name known, or opts->name empty. */
int store_archive_convert(store_archive *a, const store_convert_opts *opts, const char *outdir,
                          store_convert_result *ret, char *err, size_t errlen);

/* archive-rootmode.c: files.img (img[0, len), magics included) with the
 * mode of every regular-file entry named "/" that is a directory of
 * another mode set to `want` (S_IFDIR | 0755 for containerd); *ret_changed
 * entries changed (*ret is a copy either way, malloc'd). -EBADMSG when it
 * is not a files.img or a record is malformed. */
int store_archive_fix_root_mode(const uint8_t *img, size_t len, uint32_t want, uint8_t **ret, size_t *ret_len,
                                unsigned *ret_changed);

/* archive-blob.c: writes all of r as outdir/blobs/sha256/<hex> (through a
 * temporary file and rename), gzip-compressing it when gzip is set; the
 * digest and size of what was written. */
int store_archive_write_blob(const char *outdir, struct store_reader *r, int gzip, char ret_digest[72],
                             int64_t *ret_size);
int store_archive_write_bytes(const char *outdir, const void *buf, size_t len, char ret_digest[72],
                              int64_t *ret_size);
