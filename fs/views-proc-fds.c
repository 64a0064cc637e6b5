/* proc/sockets, sockets.json, mounts, mounts.json and <pid>/fds, fds.json:
 * the open files of the CRIU dump (store/criu's criu-fds.h), rendered on
 * each read like the rest of proc/ (views-proc.c hands these names here). */
#include "ckpt-views.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cleanup.h"
#include "criu-fds.h"
#include "criu-proc.h"
#include "json.h"
#include "views.h"

static int add_image(views_dump *o, const char *name, struct criu_files *f) {
        _cleanup_store_reader_ struct store_reader *rd = NULL;
        int r = views_dump_open(o, name, &rd);
        return r == -ENOENT ? 0 : r < 0 ? r : criu_files_add(f, rd);
}

/* files.img, or the separate images of older dumps; then memfd.img's
 * names of the memfds. */
static int load_files(views_dump *o, struct criu_files *ret) {
        static const char *const legacy[] = { "reg-files.img", "pipes.img", "unixsk.img", "inetsk.img" };
        struct criu_files f = { 0 };
        bool old = !tar_index_find(o->tar, "files.img");
        int r = add_image(o, "files.img", &f);
        for (size_t i = 0; r >= 0 && old && i < sizeof(legacy) / sizeof(*legacy); i++)
                r = add_image(o, legacy[i], &f);
        if (r >= 0)
                r = add_image(o, "memfd.img", &f);
        if (r < 0) {
                criu_files_clear(&f);
                return r;
        }
        *ret = f;
        return 0;
}

static void clear_tasks(struct criu_task_fds *t, size_t n) {
        for (size_t i = 0; i < n; i++)
                criu_task_fds_clear(&t[i]);
        free(t);
}

/* The files of the dump and the fds of every process of p. */
static int load_all(views_dump *o, const struct criu_procs *p, struct criu_files *ret_files,
                    struct criu_task_fds **ret_tasks) {
        struct criu_files files = { 0 };
        struct criu_task_fds *t = calloc(p->n ? p->n : 1, sizeof(*t));
        size_t n = 0;
        int r = t ? load_files(o, &files) : -ENOMEM;
        for (; r >= 0 && n < p->n; n++)
                r = criu_task_fds_load(p->v[n].pid, views_dump_open, o, &t[n]);
        if (r < 0) {
                clear_tasks(t, n); /* a failed load left its entry zeroed */
                criu_files_clear(&files);
                return r;
        }
        *ret_files = files;
        *ret_tasks = t;
        return 0;
}

int views_proc_open_files(fs_ctx *ctx, const fs_node *n, const struct criu_procs *p, struct criu_files *ret_files,
                          struct criu_task_fds **ret_tasks) {
        views_dump d;
        int r = views_dump_of(ctx, n, &d);
        if (r < 0)
                return r;
        r = load_all(&d, p, ret_files, ret_tasks);
        views_dump_clear(&d);
        return views_dump_errno(r);
}

void views_proc_open_files_clear(struct criu_files *files, struct criu_task_fds *tasks, size_t n) {
        clear_tasks(tasks, n);
        criu_files_clear(files);
}

static int sockets(views_dump *o, const struct criu_procs *p, bool json, char **ret, size_t *ret_len) {
        struct criu_files files;
        struct criu_task_fds *t;
        size_t n = p->n;
        int r = load_all(o, p, &files, &t);
        if (r < 0)
                return r;
        if (json) {
                _cleanup_json_ json_t *j = NULL;
                r = criu_sockets_json(t, n, &files, &j);
                if (r >= 0)
                        r = json_dump_text(j, JSON_INDENT(4), ret, ret_len);
        } else
                r = criu_sockets_text(t, n, &files, ret, ret_len);
        views_proc_open_files_clear(&files, t, n);
        return r;
}

static int first_mountpoints(const char *name, const struct tar_member *m, void *userdata) {
        char *out = userdata;
        if (*out || !m || m->type != TAR_TYPE_REG || strncmp(name, "mountpoints-", 12) || strlen(name) >= 48)
                return 0;
        strcpy(out, name);
        return 0;
}

/* The mountpoints image of the first process's mount namespace, or the
 * first in the tar when its ids name none. */
static int mounts(views_dump *o, const struct criu_procs *p, bool json, char **ret, size_t *ret_len) {
        uint32_t mnt_ns = 0;
        int r = p->n ? criu_task_mnt_ns(p->v[0].pid, views_dump_open, o, &mnt_ns) : -ENOENT;
        char name[48] = "";
        if (r >= 0)
                snprintf(name, sizeof(name), "mountpoints-%u.img", mnt_ns);
        else if (r == -ENOENT && tar_index_foreach_child(o->tar, "", first_mountpoints, name) >= 0 && *name)
                r = 0;
        _cleanup_store_reader_ struct store_reader *rd = NULL;
        if (r >= 0)
                r = views_dump_open(o, name, &rd);
        struct criu_mounts m;
        if (r >= 0)
                r = criu_mounts_load(rd, &m);
        if (r < 0)
                return r;
        if (json) {
                _cleanup_json_ json_t *j = NULL;
                r = criu_mounts_json(&m, &j);
                if (r >= 0)
                        r = json_dump_text(j, JSON_INDENT(4), ret, ret_len);
        } else
                r = criu_mounts_text(&m, ret, ret_len);
        criu_mounts_clear(&m);
        return r;
}

static int fds(views_dump *o, uint32_t pid, bool json, char **ret, size_t *ret_len) {
        struct criu_files files = { 0 };
        struct criu_task_fds t;
        int r = load_files(o, &files);
        if (r >= 0)
                r = criu_task_fds_load(pid, views_dump_open, o, &t);
        if (r < 0) {
                criu_files_clear(&files);
                return r;
        }
        if (json) {
                _cleanup_json_ json_t *j = NULL;
                r = criu_fds_json(&t, &files, &j);
                if (r >= 0)
                        r = json_dump_text(j, JSON_INDENT(4), ret, ret_len);
        } else
                r = criu_fds_text(&t, &files, ret, ret_len);
        criu_task_fds_clear(&t);
        criu_files_clear(&files);
        return r;
}

/* "<pid>/fds" or "<pid>/fds.json": the pid, or 0 when rest is neither. */
static uint32_t fds_pid(const char *rest, bool *ret_json) {
        char *end;
        if (*rest < '0' || *rest > '9')
                return 0;
        unsigned long pid = strtoul(rest, &end, 10);
        if (pid == 0 || pid > UINT32_MAX || (strcmp(end, "/fds") && strcmp(end, "/fds.json")))
                return 0;
        *ret_json = !strcmp(end, "/fds.json");
        return (uint32_t) pid;
}

bool views_proc_fds_handles(const char *rest) {
        bool json;
        return rest && (!strcmp(rest, "sockets") || !strcmp(rest, "sockets.json") || !strcmp(rest, "mounts") ||
                        !strcmp(rest, "mounts.json") || fds_pid(rest, &json));
}

static int render(views_dump *o, const struct criu_procs *p, const char *rest, char **ret, size_t *ret_len) {
        bool json = false;
        uint32_t pid = fds_pid(rest, &json);
        if (pid)
                return criu_procs_find(p, pid) ? fds(o, pid, json, ret, ret_len) : -ENOENT;
        if (!strncmp(rest, "sockets", 7))
                return sockets(o, p, !strcmp(rest, "sockets.json"), ret, ret_len);
        return mounts(o, p, !strcmp(rest, "mounts.json"), ret, ret_len);
}

int views_content_proc_fds(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len) {
        views_dump d;
        int r = views_dump_of(ctx, n, &d);
        if (r < 0)
                return r;
        struct criu_procs p = { 0 };
        r = views_proc_fds_handles(d.rest) ? criu_procs_load(views_dump_open, &d, &p) : -ENOENT;
        if (r >= 0)
                r = render(&d, &p, d.rest, ret, ret_len);
        criu_procs_clear(&p);
        views_dump_clear(&d);
        return views_dump_errno(r);
}
