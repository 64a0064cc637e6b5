/* proc/sockets and sockets.json: every socket fd of the dump's processes. */
#include "criu-fds.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "criu_fdinfo.pb-c.h"
#include "json.h"

static const struct criu_file *socket_of(const struct criu_fd *d, const struct criu_files *files) {
        if (d->type != FD_TYPES__INETSK && d->type != FD_TYPES__UNIXSK)
                return NULL;
        const struct criu_file *f = criu_files_find(files, d->id);
        return f && f->type == d->type ? f : NULL;
}

static void put_endpoint(FILE *o, const char *addr, uint32_t port) {
        const char *a = *addr ? addr : "*";
        fprintf(o, strchr(a, ':') ? " [%s]:%" PRIu32 : " %s:%" PRIu32, a, port);
}

static void put_line(FILE *o, uint32_t pid, uint32_t fd, const struct criu_file *f) {
        static const char *const types[] = { [1] = "stream", [2] = "dgram", [3] = "raw", [5] = "seqpacket" };
        const char *t = f->sotype < 6 && types[f->sotype] ? types[f->sotype] : "unknown";
        const char *fam = f->type == FD_TYPES__UNIXSK ? "unix" : f->family == 10 ? "inet6" : "inet";
        fprintf(o, "%" PRIu32 " %" PRIu32 " %s %s %s %" PRIu32, pid, fd, fam, t, criu_sock_state_name(f->state), f->ino);
        if (f->type == FD_TYPES__UNIXSK) {
                fprintf(o, " %s - %" PRIu32 "\n", f->path && *f->path ? f->path : "-", f->peer);
                return;
        }
        put_endpoint(o, f->src, f->src_port);
        if (f->dst_port)
                put_endpoint(o, f->dst, f->dst_port);
        else
                fputs(" -", o);
        fputs(" -\n", o);
}

int criu_sockets_text(const struct criu_task_fds *tasks, size_t n_tasks, const struct criu_files *files, char **ret,
                      size_t *ret_len) {
        char *buf = NULL;
        size_t len = 0;
        FILE *o = open_memstream(&buf, &len);
        if (!o)
                return -ENOMEM;
        fputs("PID FD FAMILY TYPE STATE INO LOCAL REMOTE PEER\n", o);
        for (size_t i = 0; i < n_tasks; i++)
                for (size_t k = 0; k < tasks[i].n; k++) {
                        const struct criu_file *f = socket_of(&tasks[i].v[k], files);
                        if (f)
                                put_line(o, tasks[i].pid, tasks[i].v[k].fd, f);
                }
        if (fclose(o) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        *ret_len = len;
        return 0;
}

static json_t *socket_json(uint32_t pid, uint32_t fd, const struct criu_file *f) {
        json_t *o = criu_file_json(f);
        if (o && (json_object_set_new(o, "pid", json_integer(pid)) < 0 ||
                  json_object_set_new(o, "fd", json_integer(fd)) < 0)) {
                json_decref(o);
                return NULL;
        }
        return o;
}

int criu_sockets_json(const struct criu_task_fds *tasks, size_t n_tasks, const struct criu_files *files,
                      json_t **ret_json) {
        _cleanup_json_ json_t *a = json_array();
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n_tasks; i++)
                for (size_t k = 0; k < tasks[i].n; k++) {
                        const struct criu_file *f = socket_of(&tasks[i].v[k], files);
                        if (f && json_array_append_new(a, socket_json(tasks[i].pid, tasks[i].v[k].fd, f)) < 0)
                                return -ENOMEM;
                }
        *ret_json = TAKE_PTR(a);
        return 0;
}
