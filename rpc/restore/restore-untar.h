/* Unpacking a CRIU tar (the dump as containerd's differ or ckptfs wrote
 * it: regular files and directories, ustar with pax or GNU long names)
 * from a file into a directory of ours, so that runc restores from there
 * and containerd makes no copy of its own that it would never remove
 * (containerd#10166). Data moves by copy_file_range (in the kernel, a
 * reflink where the file system shares extents). */
#pragma once

/* Extracts the tar in file `fd` into the directory `dirfd` (empty, ours).
 * -EBADMSG for a damaged archive or one with a member that is not a
 * regular file or directory, or whose name is absolute or has "..";
 * -errno of the file system. Stops at the end-of-archive block. */
int rtar_extract(int fd, int dirfd);
