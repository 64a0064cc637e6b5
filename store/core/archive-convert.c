/* A checked archive (archive-open.c) into a containerd checkpoint image as
 * an OCI layout directory (archive.h). */
#include "archive.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint-index.h"
#include "cleanup.h"
#include "digest.h"
#include "json.h"
#include "pbmsg.h"
#include "runtime_v2_runc_options_oci.pb-c.h"
#include "tarindex.h"
#include "vocab.h"
#include "vtar.h"

#define SPEC_TYPE_URL "types.containerd.io/opencontainers/runtime-spec/1/Spec"
#define RUNC_V2 "io.containerd.runc.v2"
#define RUNC_OPTIONS_TYPE "containerd.runc.v1.Options"

static int fail(char *err, size_t errlen, int r, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int r, const char *fmt, ...) {
        if (err && errlen) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(err, errlen, fmt, ap);
                va_end(ap);
        }
        return r;
}

/* ---------------------------------------------------------------- a borrowed slice */
typedef struct slice {
        struct store_reader *parent;
        uint64_t off;
} slice;

static ssize_t slice_pread(void *ctx, void *buf, size_t len, uint64_t off) {
        slice *s = ctx;
        return store_reader_pread(s->parent, buf, len, s->off + off);
}

/* bytes [off, off + size) of parent, which must outlive the reader. */
static int slice_new(struct store_reader *parent, uint64_t off, uint64_t size, struct store_reader **ret) {
        slice *s = malloc(sizeof(*s));
        if (!s)
                return -ENOMEM;
        *s = (slice) { parent, off };
        int r = store_reader_new(slice_pread, free, s, size, ret);
        if (r < 0)
                free(s);
        return r;
}

/* ---------------------------------------------------------------- the CRIU tar */
static int cmp_member(const void *a, const void *b) {
        return strcmp((*(const struct tar_member *const *) a)->path, (*(const struct tar_member *const *) b)->path);
}

/* files.img of a containers/storage engine, its root entries at 0755. */
static int add_files_img(store_archive *a, vtar *t, const struct tar_member *m, unsigned *fixed) {
        if (m->size > (64u << 20))
                return -EFBIG;
        _cleanup_free_ uint8_t *img = malloc(m->size ? m->size : 1);
        if (!img)
                return -ENOMEM;
        int r = store_reader_read_exact(store_archive_tar(a), img, m->size, m->data_offset);
        if (r < 0)
                return r == -ENODATA ? -EBADMSG : r;
        _cleanup_free_ uint8_t *out = NULL;
        size_t len = 0;
        r = store_archive_fix_root_mode(img, m->size, S_IFDIR | 0755, &out, &len, fixed);
        if (r < 0)
                return r;
        return vtar_add_bytes(t, m->path + 11, m->mode, m->mtime_sec, out, len);
}

static int add_member(store_archive *a, vtar *t, const struct tar_member *m, unsigned *fixed) {
        if (m->type == TAR_TYPE_DIR)
                return vtar_add_dir(t, m->path + 11, m->mode, m->mtime_sec);
        if (store_archive_get_kind(a) != ARCHIVE_CONTAINERD_CRI && strcmp(m->path, "checkpoint/files.img") == 0)
                return add_files_img(a, t, m, fixed);
        struct store_reader *data = NULL;
        int r = slice_new(store_archive_tar(a), m->data_offset, m->size, &data);
        if (r == 0 && (r = vtar_add_file(t, m->path + 11, m->mode, m->mtime_sec, data)) < 0)
                store_reader_free(data);
        return r;
}

/* checkpoint/'s members (the last of each path) as a flat ustar. */
static int criu_tar(store_archive *a, struct store_reader **ret, store_convert_result *res) {
        const struct tar_index *idx = store_archive_index(a);
        _cleanup_free_ const struct tar_member **ms = calloc(idx->n ? idx->n : 1, sizeof(*ms));
        if (!ms)
                return -ENOMEM;
        size_t n = 0;
        for (size_t i = 0; i < idx->n; i++) {
                const struct tar_member *m = &idx->members[i];
                if (strncmp(m->path, "checkpoint/", 11) == 0 && m->path[11] && tar_index_find(idx, m->path) == m)
                        ms[n++] = m;
        }
        qsort(ms, n, sizeof(*ms), cmp_member);
        _cleanup_vtar_ vtar *t = NULL;
        int r = vtar_new(&t);
        uint64_t files = 0;
        for (size_t i = 0; r == 0 && i < n; i++) {
                r = add_member(a, t, ms[i], &res->root_fixed);
                files += ms[i]->type != TAR_TYPE_DIR;
        }
        if (r == 0)
                r = vtar_finish(t, ret);
        if (r < 0)
                return r;
        t = NULL;
        res->criu_members = files;
        return 0;
}

/* ---------------------------------------------------------------- config.dump and spec.dump */
typedef struct meta {
        char *image;   /* base image name */
        char *runtime; /* containerd runtime name */
        char *binary;  /* the OCI runtime under runc's shim when not runc ("crun"); NULL: runc */
        bool systemd;  /* linux.cgroupsPath is "slice:prefix:name" */
        uint8_t *spec; /* the spec JSON for the config blob */
        size_t spec_len;
} meta;

static void meta_clear(meta *m) {
        free(m->image);
        free(m->runtime);
        free(m->binary);
        free(m->spec);
}

static int read_config(store_archive *a, const store_convert_opts *o, meta *m, char *err, size_t errlen) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = store_archive_read_small(a, "config.dump", &buf, &len);
        if (r < 0)
                return fail(err, errlen, r, "cannot read config.dump: %s", strerror(-r));
        _cleanup_json_ json_t *j = json_loadb(buf, len, 0, NULL);
        if (!json_is_object(j))
                return fail(err, errlen, -EBADMSG, "config.dump is not a JSON object");
        const char *image = o->image;
        if (!image || !*image)
                image = json_string_value(json_object_get(j, "rootfsImageName"));
        if (!image || !*image)
                image = json_string_value(json_object_get(j, "rootfsImage"));
        if (!image || !*image)
                return fail(err, errlen, -EINVAL, "no base image name (config.dump has no rootfsImageName): give image=");
        const char *rt = o->runtime;
        if (!rt || !*rt) {
                rt = json_string_value(json_object_get(j, "runtime"));
                /* a bare OCI runtime (podman, CRI-O: "runc", "crun") runs under
                 * runc's shim, which takes its binary name in the options */
                if (rt && *rt && strncmp(rt, "io.containerd.", 14) != 0 && strcmp(rt, "runc") != 0 &&
                    !strchr(rt, '/') && !(m->binary = strdup(rt)))
                        return -ENOMEM;
                if (!rt || strncmp(rt, "io.containerd.", 14) != 0)
                        rt = RUNC_V2;
        }
        m->image = strdup(image);
        m->runtime = strdup(rt);
        return m->image && m->runtime ? 0 : -ENOMEM;
}

/* spec.dump as it is, or with root.path set to "rootfs" (containerd's
 * bundle layout) when it names another engine's storage. */
static int read_spec(store_archive *a, meta *m, char *err, size_t errlen) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = store_archive_read_small(a, "spec.dump", &buf, &len);
        if (r < 0)
                return fail(err, errlen, r, "cannot read spec.dump: %s", strerror(-r));
        _cleanup_json_ json_t *j = json_loadb(buf, len, 0, NULL);
        if (!json_is_object(j))
                return fail(err, errlen, -EBADMSG, "spec.dump is not a JSON object");
        const char *cg = json_string_value(json_object_get(json_object_get(j, "linux"), "cgroupsPath"));
        const char *colon = cg ? strchr(cg, ':') : NULL;
        m->systemd = colon && strchr(colon + 1, ':') && cg[0] != '/';
        json_t *root = json_object_get(j, "root");
        const char *path = json_string_value(json_object_get(root, "path"));
        if (path && strcmp(path, "rootfs") == 0) {
                m->spec = (uint8_t *) TAKE_PTR(buf);
                m->spec_len = len;
                return 0;
        }
        if (!json_is_object(root)) {
                root = json_object();
                if (!root || json_object_set_new(j, "root", root) < 0)
                        return -ENOMEM;
        }
        if (json_object_set_new(root, "path", json_string("rootfs")) < 0)
                return -ENOMEM;
        char *out = NULL;
        r = json_dump_text(j, JSON_PRESERVE_ORDER | JSON_COMPACT, &out, &len);
        if (r < 0)
                return r;
        m->spec = (uint8_t *) out;
        m->spec_len = len;
        return 0;
}

/* ---------------------------------------------------------------- small blobs */
static int write_any(const char *outdir, const char *type_url, const ProtobufCMessage *msg, const uint8_t *value,
                     size_t value_len, char digest[DIGEST_MAX], int64_t *size) {
        _cleanup_free_ uint8_t *inner = NULL;
        if (msg) {
                int r = pb_msg_pack(msg, &inner, &value_len);
                if (r < 0)
                        return r;
                value = inner;
        }
        Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
        any.type_url = (char *) type_url;
        any.value.data = (uint8_t *) value;
        any.value.len = value_len;
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len = 0;
        int r = pb_msg_pack(&any.base, &buf, &len);
        if (r < 0)
                return r;
        return store_archive_write_bytes(outdir, buf, len, digest, size);
}

static int write_options(const char *outdir, char digest[DIGEST_MAX], int64_t *size) {
        /* the archives do not record the options the dump was taken with */
        Containerd__Runc__V1__CheckpointOptions co = CONTAINERD__RUNC__V1__CHECKPOINT_OPTIONS__INIT;
        co.cgroups_mode = (char *) "";
        co.image_path = (char *) "";
        co.work_path = (char *) "";
        return write_any(outdir, RUNC_CHECKPOINT_OPTIONS_TYPE, &co.base, NULL, 0, digest, size);
}

/* runc's shim options when the defaults do not fit: another OCI runtime
 * binary, systemd cgroups. */
static int write_runtime_options(const meta *m, const char *outdir, char digest[DIGEST_MAX], int64_t *size) {
        Containerd__Runc__V1__Options ro = CONTAINERD__RUNC__V1__OPTIONS__INIT;
        if (m->binary)
                ro.binary_name = m->binary;
        ro.systemd_cgroup = m->systemd;
        return write_any(outdir, RUNC_OPTIONS_TYPE, &ro.base, NULL, 0, digest, size);
}

/* rootfs-diff.tar as a gzip layer: as it is when gzip, compressed when not. */
static int write_rw(store_archive *a, const char *outdir, char digest[DIGEST_MAX], int64_t *size, int *ret_gz) {
        const struct tar_member *m = tar_index_find(store_archive_index(a), "rootfs-diff.tar");
        if (!m || m->type != TAR_TYPE_REG || m->size == 0)
                return -ENOENT;
        _cleanup_store_reader_ struct store_reader *data = NULL;
        int r = slice_new(store_archive_tar(a), m->data_offset, m->size, &data);
        if (r < 0)
                return r;
        uint8_t magic[2] = { 0 };
        if (m->size >= 2 && (r = store_reader_read_exact(data, magic, 2, 0)) < 0)
                return r;
        int gz = !(magic[0] == 0x1f && magic[1] == 0x8b);
        r = store_archive_write_blob(outdir, data, gz, digest, size);
        if (r == 0)
                *ret_gz = gz;
        return r;
}

static int write_file(const char *outdir, const char *name, const char *text, size_t len) {
        char path[4200];
        if ((size_t) snprintf(path, sizeof(path), "%s/%s", outdir, name) >= sizeof(path))
                return -ENAMETOOLONG;
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        ssize_t n = write(fd, text, len);
        return n < 0 ? -errno : (size_t) n != len ? -EIO : 0;
}

/* oci-layout and index.json naming the checkpoint index as ctr import reads
 * it (io.containerd.image.name, plus the tag part as ref.name). */
static int write_layout(const char *outdir, const char *name, const store_convert_result *res) {
        const char *slash = strrchr(name, '/');
        const char *colon = strchr(slash ? slash : name, ':');
        _cleanup_json_ json_t *j = json_pack("{s:i,s:s,s:[{s:s,s:s,s:I,s:{s:s,s:s}}]}", "schemaVersion", 2,
                                             "mediaType", MT_INDEX, "manifests", "mediaType", MT_INDEX, "digest",
                                             res->index_digest, "size", (json_int_t) res->index_size,
                                             "annotations", ANN_CONTAINERD_IMAGE_NAME, name, ANN_IMAGE_NAME,
                                             colon ? colon + 1 : name);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = j ? json_dump_text(j, JSON_PRESERVE_ORDER | JSON_COMPACT, &text, &len) : -ENOMEM;
        if (r < 0)
                return r;
        static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
        r = write_file(outdir, "oci-layout", layout, sizeof(layout) - 1);
        return r < 0 ? r : write_file(outdir, "index.json", text, len);
}

typedef struct blobs {
        ckpt_desc d[5];
        char digests[5][DIGEST_MAX];
        size_t n;
} blobs;

static void add_desc(blobs *b, const char *mt, int64_t size) {
        b->d[b->n] = (ckpt_desc) { .media_type = mt, .digest = b->digests[b->n], .size = size, .platform = true };
        b->n++;
}

/* The blobs in `ctr c checkpoint`'s order: runtime options, rw layer, CRIU
 * dump, config, checkpoint options. */
static int write_blobs(store_archive *a, const meta *m, const char *outdir, blobs *b, store_convert_result *res,
                       char *err, size_t errlen) {
        int64_t size;
        int r = 0;
        if (m->binary || m->systemd) {
                r = write_runtime_options(m, outdir, b->digests[b->n], &size);
                if (r < 0)
                        return fail(err, errlen, r, "writing the runtime options failed: %s", strerror(-r));
                add_desc(b, MT_RUNTIME_OPTIONS, size);
        }
        r = write_rw(a, outdir, b->digests[b->n], &size, &res->rw_recompressed);
        if (r < 0 && r != -ENOENT)
                return fail(err, errlen, r, "writing the rw layer failed: %s", strerror(-r));
        res->rw_size = r == 0 ? size : -1;
        if (r == 0)
                add_desc(b, MT_LAYER_GZIP, size);
        _cleanup_store_reader_ struct store_reader *criu = NULL;
        r = criu_tar(a, &criu, res);
        if (r == 0)
                r = store_archive_write_blob(outdir, criu, 0, b->digests[b->n], &size);
        if (r < 0)
                return fail(err, errlen, r, "writing the CRIU tar failed: %s", strerror(-r));
        res->criu_size = (uint64_t) size;
        add_desc(b, MT_CRIU, size);
        r = write_any(outdir, SPEC_TYPE_URL, NULL, m->spec, m->spec_len, b->digests[b->n], &size);
        if (r < 0)
                return fail(err, errlen, r, "writing the config blob failed: %s", strerror(-r));
        add_desc(b, MT_CKPT_CONFIG, size);
        r = write_options(outdir, b->digests[b->n], &size);
        if (r < 0)
                return fail(err, errlen, r, "writing the checkpoint options failed: %s", strerror(-r));
        add_desc(b, MT_CKPT_OPTIONS, size);
        return 0;
}

int store_archive_convert(store_archive *a, const store_convert_opts *opts, const char *outdir,
                          store_convert_result *ret, char *err, size_t errlen) {
        if (!opts || !opts->name || !*opts->name)
                return fail(err, errlen, -EINVAL, "no image name for the layout");
        if (mkdir(outdir, 0755) < 0 && errno != EEXIST)
                return fail(err, errlen, -errno, "cannot create %s: %m", outdir);
        meta m = { 0 };
        store_convert_result res = { .rw_size = -1 };
        blobs b = { .n = 0 };
        int r = read_config(a, opts, &m, err, errlen);
        if (r == 0)
                r = read_spec(a, &m, err, errlen);
        if (r == 0)
                r = write_blobs(a, &m, outdir, &b, &res, err, errlen);
        _cleanup_free_ char *json = NULL;
        size_t len = 0;
        if (r == 0) {
                const char *snap = opts->snapshotter && *opts->snapshotter ? opts->snapshotter : "overlayfs";
                r = ckpt_index_build(b.d, b.n, m.runtime, snap, m.image, &json, &len);
                if (r < 0)
                        fail(err, errlen, r, "cannot build the index: %s", strerror(-r));
        }
        if (r == 0 && (r = store_archive_write_bytes(outdir, json, len, res.index_digest, &res.index_size)) < 0)
                fail(err, errlen, r, "writing the index failed: %s", strerror(-r));
        if (r == 0 && (r = write_layout(outdir, opts->name, &res)) < 0)
                fail(err, errlen, r, "writing index.json failed: %s", strerror(-r));
        meta_clear(&m);
        if (r == 0)
                *ret = res;
        return r;
}
