/* Loading the open files of a CRIU dump: files.img (or the older separate
 * images), ids-<pid>.img, fdinfo-<files_id>.img, fs-<pid>.img. */
#include "criu-fds.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "criu-image.h"
#include "criu_core.pb-c.h"
#include "criu_eventfd.pb-c.h"
#include "criu_fdinfo.pb-c.h"
#include "criu_fifo.pb-c.h"
#include "criu_fs.pb-c.h"
#include "criu_memfd.pb-c.h"
#include "criu_pipe.pb-c.h"
#include "criu_regfile.pb-c.h"
#include "criu_sk_inet.pb-c.h"
#include "criu_sk_unix.pb-c.h"

void criu_files_clear(struct criu_files *f) {
        for (size_t i = 0; i < f->n; i++)
                free(f->v[i].path);
        free(f->v);
        f->v = NULL;
        f->n = 0;
}

const struct criu_file *criu_files_find(const struct criu_files *f, uint32_t id) {
        for (size_t i = 0; i < f->n; i++)
                if (f->v[i].id == id)
                        return &f->v[i];
        return NULL;
}

/* The numeric text of an address of 1 (IPv4) or 4 (IPv6) u32 words holding
 * the address bytes in memory order; "" for none. */
static int take_addr(const uint32_t *w, size_t n, char out[static 48]) {
        out[0] = '\0';
        if (n == 0)
                return 0;
        if (n != 1 && n != 4)
                return -EBADMSG;
        uint8_t b[16];
        memcpy(b, w, n * 4);
        return inet_ntop(n == 1 ? AF_INET : AF_INET6, b, out, 48) ? 0 : -EBADMSG;
}

static int take_inet(struct criu_file *c, const InetSkEntry *e) {
        c->ino = e->ino, c->family = e->family, c->sotype = e->type, c->proto = e->proto;
        c->state = e->state, c->src_port = e->src_port, c->dst_port = e->dst_port, c->backlog = e->backlog;
        int r = take_addr(e->src_addr, e->n_src_addr, c->src);
        return r < 0 ? r : take_addr(e->dst_addr, e->n_dst_addr, c->dst);
}

/* A bound name: "" for none, "@rest" for an abstract one (a leading NUL);
 * other NULs and non-printable bytes as "\xNN". */
static int take_unix_name(struct criu_file *c, const ProtobufCBinaryData *n) {
        char *s = malloc(n->len * 4 + 2), *p = s;
        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i < n->len; i++) {
                uint8_t ch = n->data[i];
                if (i == 0 && ch == 0)
                        *p++ = '@';
                else if (ch < 0x20 || ch >= 0x7f || ch == '\\')
                        p += sprintf(p, "\\x%02x", ch);
                else
                        *p++ = (char) ch;
        }
        *p = '\0';
        c->path = s;
        return 0;
}

static int take_unix(struct criu_file *c, const UnixSkEntry *e) {
        c->ino = e->ino, c->family = AF_UNIX, c->sotype = e->type, c->state = e->state;
        c->peer = e->peer, c->backlog = e->backlog;
        return take_unix_name(c, &e->name);
}

static int take_path(struct criu_file *c, const char *s) {
        return (c->path = strdup(s ? s : "")) ? 0 : -ENOMEM;
}

/* The payload of one file_entry; a type without its sub-message is damage. */
static int take_file_entry(struct criu_file *c, const FileEntry *e) {
        c->id = e->id, c->type = e->type;
        switch (e->type) {
        case FD_TYPES__REG:
                if (!e->reg)
                        return -EBADMSG;
                c->pos = e->reg->pos, c->flags = e->reg->flags;
                return take_path(c, e->reg->name);
        case FD_TYPES__PIPE:
                if (!e->pipe)
                        return -EBADMSG;
                c->pipe_id = e->pipe->pipe_id, c->flags = e->pipe->flags;
                return 0;
        case FD_TYPES__FIFO:
                if (!e->fifo)
                        return -EBADMSG;
                c->pipe_id = e->fifo->pipe_id, c->regf_id = e->fifo->has_regf_id ? e->fifo->regf_id : 0;
                return 0;
        case FD_TYPES__INETSK:
                return e->isk ? take_inet(c, e->isk) : -EBADMSG;
        case FD_TYPES__UNIXSK:
                return e->usk ? take_unix(c, e->usk) : -EBADMSG;
        case FD_TYPES__EVENTFD:
                if (e->efd)
                        c->counter = e->efd->counter, c->flags = e->efd->flags;
                return 0;
        case FD_TYPES__MEMFD:
                if (e->memfd)
                        c->pos = e->memfd->pos, c->flags = e->memfd->flags, c->inode_id = e->memfd->inode_id;
                return 0;
        default:
                return 0;
        }
}

/* memfd.img: the name of each memfd inode goes to the MEMFD files of f
 * that use it (as "memfd:<name>"); so files.img must be added first. */
static int take_memfd_inode(struct criu_files *f, const MemfdInodeEntry *e) {
        for (size_t i = 0; i < f->n; i++) {
                struct criu_file *c = &f->v[i];
                if (c->type != FD_TYPES__MEMFD || c->inode_id != e->inode_id || c->path)
                        continue;
                if (asprintf(&c->path, "memfd:%s", e->name ? e->name : "") < 0) {
                        c->path = NULL;
                        return -ENOMEM;
                }
        }
        return 0;
}

/* One record of files.img or of an older separate image into c. */
static int take_record(struct criu_file *c, const ProtobufCMessage *m) {
        if (m->descriptor == &file_entry__descriptor)
                return take_file_entry(c, (const FileEntry *) m);
        if (m->descriptor == &reg_file_entry__descriptor) {
                const RegFileEntry *e = (const RegFileEntry *) m;
                c->id = e->id, c->type = FD_TYPES__REG, c->pos = e->pos, c->flags = e->flags;
                return take_path(c, e->name);
        }
        if (m->descriptor == &pipe_entry__descriptor) {
                const PipeEntry *e = (const PipeEntry *) m;
                c->id = e->id, c->type = FD_TYPES__PIPE, c->pipe_id = e->pipe_id, c->flags = e->flags;
                return 0;
        }
        if (m->descriptor == &unix_sk_entry__descriptor) {
                c->id = ((const UnixSkEntry *) m)->id, c->type = FD_TYPES__UNIXSK;
                return take_unix(c, (const UnixSkEntry *) m);
        }
        if (m->descriptor == &inet_sk_entry__descriptor) {
                c->id = ((const InetSkEntry *) m)->id, c->type = FD_TYPES__INETSK;
                return take_inet(c, (const InetSkEntry *) m);
        }
        return -EBADMSG;
}

int criu_files_add(struct criu_files *f, struct store_reader *image) {
        _cleanup_criu_image_ struct criu_image *img = NULL;
        int k = criu_image_open(image, &img);
        if (k < 0)
                return k;
        for (;;) {
                struct criu_record rec;
                k = criu_image_next(img, &rec);
                if (k <= 0)
                        return k;
                if (rec.msg->descriptor == &memfd_inode_entry__descriptor) {
                        k = take_memfd_inode(f, (const MemfdInodeEntry *) rec.msg);
                        criu_record_done(&rec);
                        if (k < 0)
                                return k;
                        continue;
                }
                struct criu_file *v = realloc(f->v, (f->n + 1) * sizeof(*v));
                if (!v) {
                        criu_record_done(&rec);
                        return -ENOMEM;
                }
                f->v = v;
                v[f->n] = (struct criu_file) { 0 };
                k = take_record(&v[f->n], rec.msg);
                criu_record_done(&rec);
                f->n++; /* counted even when half filled: clear() frees its path */
                if (k < 0)
                        return k;
        }
}

static int load_fdinfo(struct criu_task_fds *t, uint32_t files_id, criu_open_fn opener, void *ud) {
        char name[40];
        snprintf(name, sizeof(name), "fdinfo-%u.img", files_id);
        _cleanup_store_reader_ struct store_reader *r = NULL;
        _cleanup_criu_image_ struct criu_image *img = NULL;
        int k = opener(ud, name, &r);
        if (k >= 0)
                k = criu_image_open(r, &img);
        while (k >= 0) {
                struct criu_record rec;
                k = criu_image_next(img, &rec);
                if (k <= 0)
                        return k;
                const FdinfoEntry *e = (const FdinfoEntry *) rec.msg;
                struct criu_fd *v = NULL;
                if (rec.msg->descriptor != &fdinfo_entry__descriptor)
                        k = -EBADMSG;
                else if (!(v = realloc(t->v, (t->n + 1) * sizeof(*v))))
                        k = -ENOMEM;
                else {
                        t->v = v;
                        v[t->n++] = (struct criu_fd) { .fd = e->fd, .id = e->id, .type = e->type,
                                                       .fd_flags = e->flags };
                }
                criu_record_done(&rec);
        }
        return k;
}

void criu_task_fds_clear(struct criu_task_fds *t) {
        free(t->v);
        *t = (struct criu_task_fds) { 0 };
}

int criu_task_fds_load(uint32_t pid, criu_open_fn opener, void *userdata, struct criu_task_fds *ret) {
        struct criu_task_fds t = { .pid = pid };
        struct criu_record rec;
        char name[40];
        snprintf(name, sizeof(name), "ids-%u.img", pid);
        int k = criu_image_first_of(opener, userdata, name, &task_kobj_ids_entry__descriptor, &rec);
        if (k == -ENOENT) { /* a zombie */
                *ret = t;
                return 0;
        }
        if (k < 0)
                return k;
        uint32_t files_id = ((const TaskKobjIdsEntry *) rec.msg)->files_id;
        criu_record_done(&rec);
        k = load_fdinfo(&t, files_id, opener, userdata);
        snprintf(name, sizeof(name), "fs-%u.img", pid);
        if (k >= 0 && (k = criu_image_first_of(opener, userdata, name, &fs_entry__descriptor, &rec)) >= 0) {
                t.has_fs = true;
                t.cwd_id = ((const FsEntry *) rec.msg)->cwd_id;
                t.root_id = ((const FsEntry *) rec.msg)->root_id;
                criu_record_done(&rec);
        } else if (k == -ENOENT)
                k = 0;
        if (k < 0) {
                criu_task_fds_clear(&t);
                return k;
        }
        *ret = t;
        return 0;
}

int criu_task_mnt_ns(uint32_t pid, criu_open_fn opener, void *userdata, uint32_t *ret_mnt_ns_id) {
        struct criu_record rec;
        char name[40];
        snprintf(name, sizeof(name), "ids-%u.img", pid);
        int k = criu_image_first_of(opener, userdata, name, &task_kobj_ids_entry__descriptor, &rec);
        if (k < 0)
                return k;
        const TaskKobjIdsEntry *e = (const TaskKobjIdsEntry *) rec.msg;
        k = e->has_mnt_ns_id ? 0 : -ENOENT;
        if (k == 0)
                *ret_mnt_ns_id = e->mnt_ns_id;
        criu_record_done(&rec);
        return k;
}
