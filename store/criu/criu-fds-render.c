/* The texts of proc/<pid>/fds and fds.json: names of fd types, socket
 * states and open flags, and one description per fd. */
#include "criu-fds.h"
#include "memtext.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cleanup.h"
#include "criu_fdinfo.pb-c.h"
#include "json.h"

static const char *const fd_type_names[] = {
        [1] = "REG",       [2] = "PIPE",     [3] = "FIFO",       [4] = "INETSK",  [5] = "UNIXSK",
        [6] = "EVENTFD",   [7] = "EVENTPOLL", [8] = "INOTIFY",   [9] = "SIGNALFD", [10] = "PACKETSK",
        [11] = "TTY",      [12] = "FANOTIFY", [13] = "NETLINKSK", [14] = "NS",     [15] = "TUNF",
        [16] = "EXT",      [17] = "TIMERFD", [18] = "MEMFD",     [19] = "BPFMAP", [20] = "PIDFD",
};

const char *criu_fd_type_name(uint32_t type, char buf[static 16]) {
        if (type < sizeof(fd_type_names) / sizeof(*fd_type_names) && fd_type_names[type])
                return fd_type_names[type];
        snprintf(buf, 16, "TYPE%" PRIu32, type);
        return buf;
}

/* The kernel's TCP_* states; unix sockets use the same numbers. */
static const char *const sock_states[] = {
        [1] = "ESTABLISHED", [2] = "SYN_SENT",   [3] = "SYN_RECV", [4] = "FIN_WAIT1",
        [5] = "FIN_WAIT2",   [6] = "TIME_WAIT",  [7] = "CLOSE",    [8] = "CLOSE_WAIT",
        [9] = "LAST_ACK",    [10] = "LISTEN",    [11] = "CLOSING", [12] = "NEW_SYN_RECV",
};

const char *criu_sock_state_name(uint32_t state) {
        if (state < sizeof(sock_states) / sizeof(*sock_states) && sock_states[state])
                return sock_states[state];
        return "UNKNOWN";
}

/* glibc's O_LARGEFILE is 0 on 64-bit hosts; the kernel's f_flags (and so
 * CRIU's images) carry its own bit. */
#if defined(__aarch64__) || defined(__arm__)
#define KERNEL_O_LARGEFILE 0400000u
#else
#define KERNEL_O_LARGEFILE 0100000u
#endif

static const struct {
        uint32_t bit;
        const char *name;
} open_bits[] = {
        /* multi-bit flags first: O_SYNC holds O_DSYNC, O_TMPFILE O_DIRECTORY */
        { O_SYNC, "O_SYNC" },         { O_TMPFILE, "O_TMPFILE" },     { O_CREAT, "O_CREAT" },
        { O_EXCL, "O_EXCL" },         { O_NOCTTY, "O_NOCTTY" },       { O_TRUNC, "O_TRUNC" },
        { O_APPEND, "O_APPEND" },     { O_NONBLOCK, "O_NONBLOCK" },   { O_DSYNC, "O_DSYNC" },
        { O_ASYNC, "O_ASYNC" },       { O_DIRECT, "O_DIRECT" },       { KERNEL_O_LARGEFILE, "O_LARGEFILE" },
        { O_DIRECTORY, "O_DIRECTORY" }, { O_NOFOLLOW, "O_NOFOLLOW" }, { O_NOATIME, "O_NOATIME" },
        { O_CLOEXEC, "O_CLOEXEC" },   { O_PATH, "O_PATH" },
};

const char *criu_open_flags(uint32_t flags, char *buf, size_t size) {
        static const char *const acc[] = { "O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE" };
        size_t n = (size_t) snprintf(buf, size, "%s", acc[flags & O_ACCMODE]);
        flags &= ~(uint32_t) O_ACCMODE;
        for (size_t i = 0; i < sizeof(open_bits) / sizeof(*open_bits) && n < size; i++)
                if ((flags & open_bits[i].bit) == open_bits[i].bit) {
                        n += (size_t) snprintf(buf + n, size - n, "|%s", open_bits[i].name);
                        flags &= ~open_bits[i].bit;
                }
        if (flags && n < size)
                snprintf(buf + n, size - n, "|0%" PRIo32, flags);
        return buf;
}

static const char *sock_type_name(uint32_t t) {
        switch (t) {
        case SOCK_STREAM:
                return "stream";
        case SOCK_DGRAM:
                return "dgram";
        case SOCK_RAW:
                return "raw";
        case SOCK_SEQPACKET:
                return "seqpacket";
        default:
                return "unknown";
        }
}

/* "tcp", "udp", "tcp6", ... for an inet socket. */
static const char *inet_proto_name(const struct criu_file *f, char buf[static 16]) {
        const char *p = f->proto == 6 ? "tcp" : f->proto == 17 ? "udp" : f->proto == 136 ? "udplite" : NULL;
        if (!p) {
                snprintf(buf, 16, "ip%" PRIu32, f->proto);
                p = buf;
        }
        if (f->family == AF_INET6) {
                snprintf(buf, 16, "%s6", p == buf ? "ip" : p);
                return buf;
        }
        return p;
}

void criu_put_endpoint(FILE *o, const char *addr, uint32_t port) {
        const char *a = *addr ? addr : "*";
        if (strchr(a, ':'))
                fprintf(o, "[%s]:%" PRIu32, a, port);
        else
                fprintf(o, "%s:%" PRIu32, a, port);
}

/* The description of one file, after "FD TYPE ". */
static void describe(FILE *o, const struct criu_file *f, const struct criu_files *files) {
        char b[160];
        switch (f->type) {
        case FD_TYPES__REG:
                fprintf(o, "%s pos=%" PRIu64 " flags=%s", f->path, f->pos, criu_open_flags(f->flags, b, sizeof(b)));
                return;
        case FD_TYPES__PIPE:
                fprintf(o, "pipe:[%" PRIu32 "] flags=%s", f->pipe_id, criu_open_flags(f->flags, b, sizeof(b)));
                return;
        case FD_TYPES__FIFO: {
                const struct criu_file *r = f->regf_id ? criu_files_find(files, f->regf_id) : NULL;
                fprintf(o, "%s pipe:[%" PRIu32 "]", r && r->path ? r->path : "?", f->pipe_id);
                return;
        }
        case FD_TYPES__INETSK:
                fprintf(o, "%s ", inet_proto_name(f, b));
                criu_put_endpoint(o, f->src, f->src_port);
                if (f->dst_port) {
                        fputs(" -> ", o);
                        criu_put_endpoint(o, f->dst, f->dst_port);
                }
                fprintf(o, " %s", criu_sock_state_name(f->state));
                return;
        case FD_TYPES__UNIXSK:
                fprintf(o, "unix %s %s ino=%" PRIu32 " peer=%" PRIu32 "%s%s", sock_type_name(f->sotype),
                        criu_sock_state_name(f->state), f->ino, f->peer, f->path && *f->path ? " " : "",
                        f->path ? f->path : "");
                return;
        case FD_TYPES__EVENTFD:
                fprintf(o, "eventfd count=%" PRIu64, f->counter);
                return;
        case FD_TYPES__MEMFD:
                fprintf(o, "%s inode=%" PRIu32 " pos=%" PRIu64, f->path ? f->path : "memfd", f->inode_id, f->pos);
                return;
        default:
                fprintf(o, "%s.%" PRIu32, criu_fd_type_name(f->type, b), f->id);
        }
}

static void put_fd_line(FILE *o, const struct criu_fd *d, const struct criu_files *files) {
        char b[16];
        const struct criu_file *f = criu_files_find(files, d->id);
        fprintf(o, "%" PRIu32 " %s ", d->fd, criu_fd_type_name(d->type, b));
        if (f && f->type == d->type)
                describe(o, f, files);
        else /* not in files.img: what crit prints for a file it does not know */
                fprintf(o, "%s.%" PRIu32, criu_fd_type_name(d->type, b), d->id);
        fputc('\n', o);
}

static const char *reg_path(const struct criu_files *files, uint32_t id) {
        const struct criu_file *f = criu_files_find(files, id);
        return f && f->type == FD_TYPES__REG ? f->path : "?";
}

int criu_fds_text(const struct criu_task_fds *t, const struct criu_files *files, char **ret, size_t *ret_len) {
        struct memtext t_;
        if (memtext_open(&t_) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < t->n; i++)
                put_fd_line(t_.f, &t->v[i], files);
        if (t->has_fs)
                fprintf(t_.f, "cwd %s\nroot %s\n", reg_path(files, t->cwd_id), reg_path(files, t->root_id));
        return memtext_finish(&t_, ret, ret_len);
}

/* Sets key to a new value, which may be NULL (ENOMEM): -ENOMEM then. */
static int put(json_t *o, const char *key, json_t *v) {
        return v && json_object_set_new(o, key, v) == 0 ? 0 : -ENOMEM;
}

static int put_inet(json_t *o, const struct criu_file *f) {
        char b[16];
        int r = put(o, "family", json_string(f->family == AF_INET6 ? "inet6" : "inet"));
        if (r >= 0)
                r = put(o, "proto", json_string(inet_proto_name(f, b)));
        if (r >= 0)
                r = put(o, "src", json_string(f->src));
        if (r >= 0)
                r = put(o, "src_port", json_integer(f->src_port));
        if (r >= 0)
                r = put(o, "dst", json_string(f->dst));
        if (r >= 0)
                r = put(o, "dst_port", json_integer(f->dst_port));
        return r;
}

static int put_sock(json_t *o, const struct criu_file *f) {
        int r = put(o, "ino", json_integer(f->ino));
        if (r >= 0)
                r = put(o, "sotype", json_string(sock_type_name(f->sotype)));
        if (r >= 0)
                r = put(o, "state", json_string(criu_sock_state_name(f->state)));
        if (r >= 0 && f->type == FD_TYPES__INETSK)
                return put_inet(o, f);
        if (r >= 0)
                r = put(o, "family", json_string("unix"));
        if (r >= 0)
                r = put(o, "name", json_string(f->path ? f->path : ""));
        if (r >= 0)
                r = put(o, "peer", json_integer(f->peer));
        return r;
}

static int put_fields(json_t *o, const struct criu_file *f) {
        char b[160];
        switch (f->type) {
        case FD_TYPES__REG:
                if (put(o, "path", json_string(f->path)) < 0 || put(o, "pos", json_integer((json_int_t) f->pos)) < 0)
                        return -ENOMEM;
                return put(o, "flags", json_string(criu_open_flags(f->flags, b, sizeof(b))));
        case FD_TYPES__PIPE:
        case FD_TYPES__FIFO:
                if (put(o, "pipe_id", json_integer(f->pipe_id)) < 0)
                        return -ENOMEM;
                if (f->type == FD_TYPES__FIFO)
                        return 0;
                return put(o, "flags", json_string(criu_open_flags(f->flags, b, sizeof(b))));
        case FD_TYPES__INETSK:
        case FD_TYPES__UNIXSK:
                return put_sock(o, f);
        case FD_TYPES__EVENTFD:
                return put(o, "counter", json_integer((json_int_t) f->counter));
        case FD_TYPES__MEMFD:
                if (put(o, "inode_id", json_integer(f->inode_id)) < 0 ||
                    (f->path && put(o, "name", json_string(f->path + strlen("memfd:"))) < 0))
                        return -ENOMEM;
                return put(o, "pos", json_integer((json_int_t) f->pos));
        default:
                return 0;
        }
}

json_t *criu_file_json(const struct criu_file *f) {
        char b[16];
        json_t *o = json_pack("{s:s, s:I}", "type", criu_fd_type_name(f->type, b), "id", (json_int_t) f->id);
        if (o && put_fields(o, f) < 0) {
                json_decref(o);
                return NULL;
        }
        return o;
}

static json_t *fd_json(const struct criu_fd *d, const struct criu_files *files) {
        const struct criu_file *f = criu_files_find(files, d->id);
        char b[16];
        _cleanup_json_ json_t *file = f && f->type == d->type
                                              ? criu_file_json(f)
                                              : json_pack("{s:s, s:I}", "type", criu_fd_type_name(d->type, b), "id",
                                                          (json_int_t) d->id);
        json_t *o = json_pack("{s:I, s:b}", "fd", (json_int_t) d->fd, "cloexec", d->fd_flags & 1);
        if (o && (!file || json_object_update(o, file) < 0)) {
                json_decref(o);
                return NULL;
        }
        return o;
}

int criu_fds_json(const struct criu_task_fds *t, const struct criu_files *files, json_t **ret_json) {
        _cleanup_json_ json_t *o = json_pack("{s:I, s:[]}", "pid", (json_int_t) t->pid, "fds");
        if (!o)
                return -ENOMEM;
        json_t *a = json_object_get(o, "fds");
        for (size_t i = 0; i < t->n; i++)
                if (json_array_append_new(a, fd_json(&t->v[i], files)) < 0)
                        return -ENOMEM;
        if (t->has_fs && (put(o, "cwd", json_string(reg_path(files, t->cwd_id))) < 0 ||
                          put(o, "root", json_string(reg_path(files, t->root_id))) < 0))
                return -ENOMEM;
        *ret_json = TAKE_PTR(o);
        return 0;
}
