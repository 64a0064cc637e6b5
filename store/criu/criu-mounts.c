/* proc/mounts and mounts.json: the mount tree of mountpoints-<id>.img. */
#include "criu-fds.h"
#include "memtext.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "cleanup.h"
#include "criu-image.h"
#include "criu_mnt.pb-c.h"
#include "json.h"

/* mnt.proto's fstype values as the kernel names the file systems. */
static const char *const fstype_names[] = {
        [1] = "proc",     [2] = "sysfs",    [3] = "devtmpfs", [4] = "binfmt_misc", [5] = "tmpfs",
        [6] = "devpts",   [7] = "simfs",    [8] = "pstore",   [9] = "securityfs",  [10] = "fusectl",
        [11] = "debugfs", [12] = "cgroup",  [13] = "aufs",    [14] = "mqueue",     [15] = "fuse",
        [17] = "overlay", [18] = "autofs",  [19] = "tracefs", [23] = "cgroup2",
};

static char *fstype_of(const MntEntry *e) {
        char *s = NULL;
        if (e->fsname && *e->fsname)
                return strdup(e->fsname);
        if (e->fstype < sizeof(fstype_names) / sizeof(*fstype_names) && fstype_names[e->fstype])
                return strdup(fstype_names[e->fstype]);
        return asprintf(&s, "fstype%" PRIu32, e->fstype) < 0 ? NULL : s;
}

/* The per-mount flags as /proc/<pid>/mountinfo names them. */
static const struct {
        uint32_t bit;
        const char *name;
} mount_bits[] = {
        { MS_NOSUID, "nosuid" },         { MS_NODEV, "nodev" },       { MS_NOEXEC, "noexec" },
        { MS_NOATIME, "noatime" },       { MS_NODIRATIME, "nodiratime" }, { MS_RELATIME, "relatime" },
        { MS_STRICTATIME, "strictatime" },
};

const char *criu_mount_flags(uint32_t flags, char *buf, size_t size) {
        size_t n = (size_t) snprintf(buf, size, "%s", flags & MS_RDONLY ? "ro" : "rw");
        for (size_t i = 0; i < sizeof(mount_bits) / sizeof(*mount_bits) && n < size; i++)
                if (flags & mount_bits[i].bit)
                        n += (size_t) snprintf(buf + n, size - n, ",%s", mount_bits[i].name);
        return buf;
}

void criu_mounts_clear(struct criu_mounts *m) {
        for (size_t i = 0; i < m->n; i++) {
                struct criu_mount *c = &m->v[i];
                free(c->fstype), free(c->root), free(c->mountpoint), free(c->source), free(c->options);
        }
        free(m->v);
        m->v = NULL;
        m->n = 0;
}

static int take(struct criu_mount *c, const MntEntry *e) {
        *c = (struct criu_mount) { .mnt_id = e->mnt_id, .parent_mnt_id = e->parent_mnt_id, .root_dev = e->root_dev,
                                   .flags = e->flags, .sb_flags = e->has_sb_flags ? e->sb_flags : 0,
                                   .shared_id = e->has_shared_id ? e->shared_id : 0,
                                   .master_id = e->has_master_id ? e->master_id : 0 };
        c->fstype = fstype_of(e);
        c->root = strdup(e->root ? e->root : "");
        c->mountpoint = strdup(e->mountpoint ? e->mountpoint : "");
        c->source = strdup(e->source ? e->source : "");
        c->options = strdup(e->options ? e->options : "");
        return c->fstype && c->root && c->mountpoint && c->source && c->options ? 0 : -ENOMEM;
}

int criu_mounts_load(struct store_reader *image, struct criu_mounts *ret) {
        struct criu_mounts m = { 0 };
        _cleanup_criu_image_ struct criu_image *img = NULL;
        int k = criu_image_open(image, &img);
        while (k >= 0) {
                struct criu_record rec;
                k = criu_image_next(img, &rec);
                if (k <= 0)
                        break;
                struct criu_mount *v = NULL;
                if (rec.msg->descriptor != &mnt_entry__descriptor)
                        k = -EBADMSG;
                else if (!(v = realloc(m.v, (m.n + 1) * sizeof(*v))))
                        k = -ENOMEM;
                else {
                        m.v = v;
                        k = take(&v[m.n++], (const MntEntry *) rec.msg);
                }
                criu_record_done(&rec);
        }
        if (k < 0) {
                criu_mounts_clear(&m);
                return k;
        }
        *ret = m;
        return 0;
}

int criu_mounts_text(const struct criu_mounts *m, char **ret, size_t *ret_len) {
        struct memtext t;
        if (memtext_open(&t) < 0)
                return -ENOMEM;
        fputs("MNT_ID PARENT MOUNTPOINT ROOT FSTYPE FLAGS SOURCE OPTIONS\n", t.f);
        for (size_t i = 0; i < m->n; i++) {
                const struct criu_mount *c = &m->v[i];
                char f[96];
                fprintf(t.f, "%" PRIu32 " %" PRIu32 " %s %s %s %s %s %s\n", c->mnt_id, c->parent_mnt_id,
                        c->mountpoint, c->root, c->fstype, criu_mount_flags(c->flags, f, sizeof(f)),
                        *c->source ? c->source : "-", *c->options ? c->options : "-");
        }
        return memtext_finish(&t, ret, ret_len);
}

static json_t *mount_json(const struct criu_mount *c) {
        char dev[32], f[96];
        snprintf(dev, sizeof(dev), "%" PRIu32 ":%" PRIu32, c->root_dev >> 20, c->root_dev & 0xfffff);
        json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "mnt_id", (json_int_t) c->mnt_id,
                              "parent_mnt_id", (json_int_t) c->parent_mnt_id, "mountpoint", c->mountpoint, "root",
                              c->root, "fstype", c->fstype, "source", c->source, "options", c->options, "root_dev",
                              dev, "flags", criu_mount_flags(c->flags, f, sizeof(f)));
        if (o && c->shared_id && json_object_set_new(o, "shared_id", json_integer(c->shared_id)) < 0)
                goto fail;
        if (o && c->master_id && json_object_set_new(o, "master_id", json_integer(c->master_id)) < 0)
                goto fail;
        return o;
fail:
        json_decref(o);
        return NULL;
}

int criu_mounts_json(const struct criu_mounts *m, json_t **ret_json) {
        _cleanup_json_ json_t *a = json_array();
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < m->n; i++)
                if (json_array_append_new(a, mount_json(&m->v[i])) < 0)
                        return -ENOMEM;
        *ret_json = TAKE_PTR(a);
        return 0;
}
