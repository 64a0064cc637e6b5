/* What an import reads (fs/ctl-import.c): PATH as an OCI layout (a
 * directory, or a tar with index.json at the top: oci-src.h), else as an
 * engine's checkpoint archive (archive.h) converted into a private layout
 * directory first, which is then read as a directory. Touches the file
 * system (the conversion); no containerd, no FUSE. */
#pragma once

#include "archive.h"
#include "oci-src.h"

/* *l must be { .dir = "" } on entry; the caller clears it
 * (store_archive_layout_clear) whether this succeeds or not: l->dir is
 * set when PATH was an archive. name/image: the import line's (NULL: none).
 * Returns 0, or the errno for the user with *msg (malloc'd, may be NULL):
 * -ENOENT, -EINVAL (an unsafe tar or archive, zstd, an archive of an
 * unknown engine, no base image name), -EIO (a corrupt or truncated tar or
 * archive), -errno. A tar that is neither a layout nor an archive is given
 * back as a layout: its check (oci_plan_build) says what is missing. */
int import_src_open(const char *path, const char *work_root, const char *name, const char *image, oci_src **ret,
                    store_archive_layout *l, char **msg);
