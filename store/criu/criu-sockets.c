/* proc/sockets and sockets.json: every socket fd of the dump's processes,
 * each with the process and fd that hold its other end when the dump has
 * it (a unix peer by inode; a TCP/UDP peer by the swapped addresses). */
#include "criu-fds.h"
#include "memtext.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "criu_fdinfo.pb-c.h"
#include "json.h"

typedef struct sock_set {
        const struct criu_task_fds *tasks;
        size_t n_tasks;
        const struct criu_files *files;
} sock_set;

static const struct criu_file *socket_of(const struct criu_fd *d, const struct criu_files *files) {
        if (d->type != FD_TYPES__INETSK && d->type != FD_TYPES__UNIXSK)
                return NULL;
        const struct criu_file *f = criu_files_find(files, d->id);
        return f && f->type == d->type ? f : NULL;
}

static bool is_peer(const struct criu_file *a, const struct criu_file *b) {
        if (a->type != b->type || a == b)
                return false;
        if (a->type == FD_TYPES__UNIXSK)
                return a->peer && b->ino == a->peer;
        return a->dst_port && a->proto == b->proto && b->src_port == a->dst_port && b->dst_port == a->src_port &&
               !strcmp(b->src, a->dst) && !strcmp(b->dst, a->src);
}

/* The first fd (in pstree order) holding the other end of f: 1 and
 * *ret_pid, *ret_fd; 0 when the dump does not hold it. */
static int find_peer(const sock_set *s, const struct criu_file *f, uint32_t *ret_pid, uint32_t *ret_fd) {
        for (size_t i = 0; i < s->n_tasks; i++)
                for (size_t k = 0; k < s->tasks[i].n; k++) {
                        const struct criu_file *g = socket_of(&s->tasks[i].v[k], s->files);
                        if (g && is_peer(f, g)) {
                                *ret_pid = s->tasks[i].pid;
                                *ret_fd = s->tasks[i].v[k].fd;
                                return 1;
                        }
                }
        return 0;
}

static void put_line(FILE *o, const sock_set *s, uint32_t pid, uint32_t fd, const struct criu_file *f) {
        static const char *const types[] = { [1] = "stream", [2] = "dgram", [3] = "raw", [5] = "seqpacket" };
        const char *t = f->sotype < 6 && types[f->sotype] ? types[f->sotype] : "unknown";
        const char *fam = f->type == FD_TYPES__UNIXSK ? "unix" : f->family == 10 ? "inet6" : "inet";
        fprintf(o, "%" PRIu32 " %" PRIu32 " %s %s %s %" PRIu32, pid, fd, fam, t, criu_sock_state_name(f->state),
                f->ino);
        if (f->type == FD_TYPES__UNIXSK) {
                fprintf(o, " %s", f->path && *f->path ? f->path : "-");
                if (f->peer)
                        fprintf(o, " ino:%" PRIu32, f->peer);
                else
                        fputs(" -", o);
        } else {
                fputc(' ', o);
                criu_put_endpoint(o, f->src, f->src_port);
                fputc(' ', o);
                if (f->dst_port)
                        criu_put_endpoint(o, f->dst, f->dst_port);
                else
                        fputc('-', o);
        }
        uint32_t ppid, pfd;
        if (find_peer(s, f, &ppid, &pfd))
                fprintf(o, " %" PRIu32 "/%" PRIu32 "\n", ppid, pfd);
        else
                fputs(" -\n", o);
}

int criu_sockets_text(const struct criu_task_fds *tasks, size_t n_tasks, const struct criu_files *files, char **ret,
                      size_t *ret_len) {
        sock_set s = { .tasks = tasks, .n_tasks = n_tasks, .files = files };
        struct memtext t;
        if (memtext_open(&t) < 0)
                return -ENOMEM;
        fputs("PID FD FAMILY TYPE STATE INO LOCAL REMOTE PEER\n", t.f);
        for (size_t i = 0; i < n_tasks; i++)
                for (size_t k = 0; k < tasks[i].n; k++) {
                        const struct criu_file *f = socket_of(&tasks[i].v[k], files);
                        if (f)
                                put_line(t.f, &s, tasks[i].pid, tasks[i].v[k].fd, f);
                }
        return memtext_finish(&t, ret, ret_len);
}

static json_t *socket_json(const sock_set *s, uint32_t pid, uint32_t fd, const struct criu_file *f) {
        _cleanup_json_ json_t *file = criu_file_json(f);
        json_t *o = json_pack("{s:I, s:I}", "pid", (json_int_t) pid, "fd", (json_int_t) fd);
        uint32_t ppid, pfd;
        if (o && file && find_peer(s, f, &ppid, &pfd) &&
            (json_object_set_new(file, "peer_pid", json_integer(ppid)) < 0 ||
             json_object_set_new(file, "peer_fd", json_integer(pfd)) < 0))
                file = (json_decref(file), NULL);
        if (o && (!file || json_object_update(o, file) < 0)) {
                json_decref(o);
                return NULL;
        }
        return o;
}

int criu_sockets_json(const struct criu_task_fds *tasks, size_t n_tasks, const struct criu_files *files,
                      json_t **ret_json) {
        sock_set s = { .tasks = tasks, .n_tasks = n_tasks, .files = files };
        _cleanup_json_ json_t *a = json_array();
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n_tasks; i++)
                for (size_t k = 0; k < tasks[i].n; k++) {
                        const struct criu_file *f = socket_of(&tasks[i].v[k], files);
                        if (f && json_array_append_new(a, socket_json(&s, tasks[i].pid, tasks[i].v[k].fd, f)) < 0)
                                return -ENOMEM;
                }
        *ret_json = TAKE_PTR(a);
        return 0;
}
