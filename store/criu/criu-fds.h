/* The open files of a CRIU dump, for proc/<pid>/fds, proc/sockets and
 * proc/mounts: files.img (every file, pipe and socket by id; the separate
 * reg-files/pipes/unixsk/inetsk images of older dumps load the same way),
 * fdinfo-<files_id>.img (fd -> id; files_id from ids-<pid>.img), fs-<pid>.img
 * (cwd and root -> REG ids) and mountpoints-<mnt_ns_id>.img
 * (../shared/notes/criu-format.md §2, §6). Pure: no FUSE, no gRPC.
 *
 * Ownership: the load functions fill caller-owned structs freed with the
 * matching *_clear(); strings in them belong to them.
 * Errors: corrupt images are -EBADMSG; the readers' errors pass through. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "criu-open.h"
#include "reader.h"

/* One file_entry (or legacy entry): what an fd can point to. */
struct criu_file {
        uint32_t id;
        uint32_t type;     /* fd_types: 1 REG, 2 PIPE, 4 INETSK, 5 UNIXSK, ... */
        char *path;        /* REG: the name; UNIXSK: the bound name ("@x" abstract, "" none);
                            * MEMFD: "memfd:<name>" once memfd.img is added, else NULL */
        uint64_t pos;      /* REG, MEMFD */
        uint32_t flags;    /* open flags: REG, PIPE, FIFO, MEMFD, EVENTFD */
        uint32_t pipe_id;  /* PIPE, FIFO */
        uint64_t counter;  /* EVENTFD */
        uint32_t inode_id; /* MEMFD */
        uint32_t regf_id;  /* FIFO: the REG entry of its path, 0 none */
        /* sockets (INETSK, UNIXSK) */
        uint32_t ino, family, sotype, proto, state, peer, backlog;
        uint32_t src_port, dst_port;
        char src[48], dst[48]; /* INETSK: numeric addresses, "" when none */
};

struct criu_files {
        struct criu_file *v;
        size_t n;
};

/* Adds the records of one image to f: files.img's file_entry records, or
 * the reg_file/pipe/unix_sk/inet_sk entries of the older separate images;
 * memfd.img's inodes name the MEMFD files already added. Any other record
 * is -EBADMSG. */
int criu_files_add(struct criu_files *f, struct store_reader *image);
void criu_files_clear(struct criu_files *f);
const struct criu_file *criu_files_find(const struct criu_files *f, uint32_t id);

struct criu_fd {
        uint32_t fd;
        uint32_t id;       /* -> criu_file.id */
        uint32_t type;     /* fd_types, as fdinfo says */
        uint32_t fd_flags; /* F_GETFD flags (FD_CLOEXEC) */
};

/* The fds of one process. has_fs: fs-<pid>.img was there (a zombie has no
 * ids, fdinfo or fs image: no fds, has_fs false). */
struct criu_task_fds {
        uint32_t pid;
        struct criu_fd *v;
        size_t n;
        bool has_fs;
        uint32_t cwd_id, root_id;
};

/* The fds of pid: ids-<pid>.img's files_id, fdinfo-<files_id>.img and
 * fs-<pid>.img. No ids image (a zombie) is an empty table, not an error. */
int criu_task_fds_load(uint32_t pid, criu_open_fn opener, void *userdata, struct criu_task_fds *ret);
void criu_task_fds_clear(struct criu_task_fds *t);

/* mnt_ns_id of ids-<pid>.img: -ENOENT when the image or the field is absent. */
int criu_task_mnt_ns(uint32_t pid, criu_open_fn opener, void *userdata, uint32_t *ret_mnt_ns_id);

/* criu-fds-render.c. The names of fd_types ("REG", "INETSK"; "TYPE<n>"
 * for unknown ones), socket states ("ESTABLISHED", "LISTEN"), open flags
 * ("O_RDWR|O_LARGEFILE"). */
const char *criu_fd_type_name(uint32_t type, char buf[static 16]);
const char *criu_sock_state_name(uint32_t state);
/* "addr:port" ("[addr]:port" for IPv6, "*" for no address) onto o. */
void criu_put_endpoint(FILE *o, const char *addr, uint32_t port);
/* open flags as text; buf holds at least 160 bytes. */
const char *criu_open_flags(uint32_t flags, char *buf, size_t size);

/* One line per fd, "FD TYPE DESCRIPTION" ("3 REG /tmp/wl-file pos=8
 * flags=O_RDWR|O_LARGEFILE", "4 PIPE pipe:[ID] flags=O_RDONLY",
 * "7 INETSK tcp 127.0.0.1:40000 -> 127.0.0.1:5555 ESTABLISHED",
 * "5 UNIXSK unix stream ESTABLISHED ino=I peer=P"), then "cwd PATH" and
 * "root PATH". A file id not in files is "FD TYPE TYPE.id" (crit's form). */
int criu_fds_text(const struct criu_task_fds *t, const struct criu_files *files, char **ret, size_t *ret_len);
/* {"pid", "fds": [{"fd", "type", "id", "cloexec", + the file's fields}],
 * "cwd", "root"} (cwd and root only when has_fs). */
int criu_fds_json(const struct criu_task_fds *t, const struct criu_files *files, json_t **ret_json);
/* The fields of one file as a JSON object (criu_fds_json's per-fd fields
 * without fd/cloexec), or NULL on ENOMEM. */
json_t *criu_file_json(const struct criu_file *f);

/* Every socket fd of the processes: a header "PID FD FAMILY TYPE STATE
 * INO LOCAL REMOTE PEER", one line each. LOCAL and REMOTE are addr:port
 * ("-" for no remote); for unix LOCAL is the bound name and REMOTE
 * "ino:<peer's inode>". PEER is "pid/fd" of the first fd in the dump that
 * holds the other end, "-" when none does. json: [{"pid", "fd", + the
 * socket's fields, "peer_pid"?, "peer_fd"?}]. */
int criu_sockets_text(const struct criu_task_fds *tasks, size_t n_tasks, const struct criu_files *files, char **ret,
                      size_t *ret_len);
int criu_sockets_json(const struct criu_task_fds *tasks, size_t n_tasks, const struct criu_files *files,
                      json_t **ret_json);

/* criu-mounts.c: mountpoints-<id>.img. */
struct criu_mount {
        uint32_t mnt_id, parent_mnt_id, root_dev, flags, sb_flags;
        uint32_t shared_id, master_id; /* 0 when absent */
        char *fstype;                  /* a name: "proc", "overlay", fsname for AUTO, "fstype<n>" */
        char *root, *mountpoint, *source, *options;
};

struct criu_mounts {
        struct criu_mount *v;
        size_t n;
};

int criu_mounts_load(struct store_reader *image, struct criu_mounts *ret);
void criu_mounts_clear(struct criu_mounts *m);
/* The mount flags as mountinfo shows them: "ro,nosuid,relatime". */
const char *criu_mount_flags(uint32_t flags, char *buf, size_t size);
/* A header "MNT_ID PARENT MOUNTPOINT ROOT FSTYPE FLAGS SOURCE OPTIONS",
 * one line per mount in image order ("-" for an empty source or options);
 * json: [{"mnt_id", "parent_mnt_id", "mountpoint", "root", "fstype",
 * "source", "options", "root_dev" ("major:minor"), "flags" (as text),
 * "shared_id"?, "master_id"?}]. */
int criu_mounts_text(const struct criu_mounts *m, char **ret, size_t *ret_len);
int criu_mounts_json(const struct criu_mounts *m, json_t **ret_json);
