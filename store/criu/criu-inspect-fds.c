/* The file_descriptors and sockets parts of inspect.json (criu-inspect.h),
 * in the shapes checkpointctl prints them from crit's fds and sockets. */
#include "criu-inspect.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cleanup.h"
#include "criu_fdinfo.pb-c.h"
#include "json.h"

/* What an fd leads to, the way /proc/PID/fd links name it. */
static void fd_path(const struct criu_file *f, char *buf, size_t size) {
        char b[16];
        if (!f) {
                snprintf(buf, size, "%s", "?");
                return;
        }
        switch (f->type) {
        case FD_TYPES__REG:
        case FD_TYPES__MEMFD:
                snprintf(buf, size, "%s", f->path ? f->path : "");
                return;
        case FD_TYPES__PIPE:
        case FD_TYPES__FIFO:
                snprintf(buf, size, "pipe:[%" PRIu32 "]", f->pipe_id);
                return;
        case FD_TYPES__INETSK:
        case FD_TYPES__UNIXSK:
                snprintf(buf, size, "socket:[%" PRIu32 "]", f->ino);
                return;
        case FD_TYPES__EVENTFD:
                snprintf(buf, size, "%s", "anon_inode:[eventfd]");
                return;
        default:
                snprintf(buf, size, "%s.%" PRIu32, criu_fd_type_name(f->type, b), f->id);
        }
}

/* {type, fd, path}; fd is "<type> <number>" as checkpointctl joins them,
 * "cwd"/"root" for those. */
static int add_open_file(json_t *list, const char *type, const char *fd, const char *path) {
        char both[64];
        snprintf(both, sizeof(both), "%s%s%s", type, *type ? " " : "", fd);
        json_t *o = json_pack("{s:s, s:s, s:s}", "type", type, "fd", both, "path", path);
        return o && json_array_append_new(list, o) == 0 ? 0 : -ENOMEM;
}

static int task_files(const struct criu_task_fds *t, const struct criu_files *files, json_t *list) {
        char path[4096], num[16], b[16];
        int r = 0;
        for (size_t i = 0; r >= 0 && i < t->n; i++) {
                fd_path(criu_files_find(files, t->v[i].id), path, sizeof(path));
                snprintf(num, sizeof(num), "%" PRIu32, t->v[i].fd);
                r = add_open_file(list, criu_fd_type_name(t->v[i].type, b), num, path);
        }
        const uint32_t ids[] = { t->cwd_id, t->root_id };
        const char *const names[] = { "cwd", "root" };
        for (size_t k = 0; r >= 0 && t->has_fs && k < 2; k++) {
                fd_path(criu_files_find(files, ids[k]), path, sizeof(path));
                r = add_open_file(list, "", names[k], path);
        }
        return r;
}

int criu_inspect_file_descriptors(const struct criu_task_fds *tasks, size_t n, const struct criu_files *files,
                                  json_t **ret_json) {
        _cleanup_json_ json_t *all = json_array();
        if (!all)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_t *open_files = json_array();
                json_t *o = json_pack("{s:I, s:o}", "pid", (json_int_t) tasks[i].pid, "open_files", open_files);
                if (!o || json_array_append_new(all, o) < 0)
                        return -ENOMEM;
                int r = task_files(&tasks[i], files, open_files);
                if (r < 0)
                        return r;
                if (!json_array_size(open_files))
                        json_object_del(o, "open_files");   /* omitempty */
        }
        *ret_json = json_incref(all);
        return 0;
}

/* One socket as {protocol, data: {...}}; NULL data for an fd that is no
 * socket. */
static json_t *socket_node(const struct criu_file *f) {
        char state[32];
        snprintf(state, sizeof(state), "%s", criu_sock_state_name(f->state));
        if (f->type == FD_TYPES__UNIXSK)
                return json_pack("{s:{s:s, s:s, s:s}}", "data", "type", "UNIX", "address", f->path ? f->path : "",
                                 "state", state);
        const char *proto = f->proto == 6 ? "TCP" : f->proto == 17 ? "UDP" : "IP";
        json_t *data = json_pack("{s:s, s:s, s:s, s:I}", "type", proto, "state", state, "src", f->src, "src_port",
                                 (json_int_t) f->src_port);
        if (data && f->dst_port &&
            (json_object_set_new(data, "dst", json_string(f->dst)) < 0 ||
             json_object_set_new(data, "dst_port", json_integer(f->dst_port)) < 0)) {
                json_decref(data);
                return NULL;
        }
        return data ? json_pack("{s:s, s:o}", "protocol", proto, "data", data) : NULL;
}

int criu_inspect_sockets(const struct criu_task_fds *tasks, size_t n, const struct criu_files *files,
                         json_t **ret_json) {
        _cleanup_json_ json_t *all = json_array();
        if (!all)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                _cleanup_json_ json_t *sockets = json_array();
                if (!sockets)
                        return -ENOMEM;
                for (size_t k = 0; k < tasks[i].n; k++) {
                        const struct criu_file *f = criu_files_find(files, tasks[i].v[k].id);
                        if (!f || (f->type != FD_TYPES__INETSK && f->type != FD_TYPES__UNIXSK))
                                continue;
                        json_t *s = socket_node(f);
                        if (!s || json_array_append_new(sockets, s) < 0)
                                return -ENOMEM;
                }
                if (!json_array_size(sockets))
                        continue;   /* as crit, processes without sockets are left out */
                json_t *o = json_pack("{s:I, s:O}", "pid", (json_int_t) tasks[i].pid, "open_sockets", sockets);
                if (!o || json_array_append_new(all, o) < 0)
                        return -ENOMEM;
        }
        *ret_json = json_incref(all);
        return 0;
}
