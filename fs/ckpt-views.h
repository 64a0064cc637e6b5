/* The checkpoint image trees: kinds of nodes below
 * <ns>/checkpoints/ and <ns>/containers/<id>/checkpoints/<tag>/.
 *
 * A checkpoint directory and everything inside it is immutable
 * (content-addressed) and served with long kernel cache timeouts,
 * cache_readdir and keep_cache; the lists of checkpoints are dynamic (1 s)
 * and a removed or re-pointed name is invalidated on its event
 * (views-notify.c). A checkpoint dir's entry is salted with its target
 * digest (fs_node.salt): a re-pointed name gets new inode numbers for the
 * whole dir, and nodes of the old target answer ENOENT. <ns>/by-digest/<hex>/
 * is the directory of the digest's canonical name once more (its entry is
 * cached like the named one; views-notify.c drops it when the digest or its
 * canonical name goes).
 * containers/<id>/checkpoints/<tag>/ stays dynamic.
 * Behaviours only: state lives in store/ (catalog, blobs, views). */
#pragma once

#include "catalog.h"
#include "fs.h"

/* fs/ckpt-views.c */
int views_list_ns_ckpts(fs_ctx *ctx, const fs_node *dir, fs_dirents *out);
int views_list_prefix(fs_ctx *ctx, const fs_node *dir, fs_dirents *out);
int views_list_ckpt(fs_ctx *ctx, const fs_node *dir, fs_dirents *out);
int views_list_container_ckpts(fs_ctx *ctx, const fs_node *dir, fs_dirents *out);
/* The entry containers/<id>/checkpoints/<tag> of `dir` (containers/<id>/
 * checkpoints/); -ENOENT if the catalog has none (a background resync is
 * then requested: never a wait for containerd on a FUSE thread). */
int views_container_ckpt_entry(fs_ctx *ctx, const fs_node *dir, const char *tag, fs_dirents *out);
int views_list_layout(fs_ctx *ctx, const fs_node *dir, fs_dirents *out);
int views_list_layout_blobs(fs_ctx *ctx, const fs_node *dir, fs_dirents *out);
int views_list_layout_sha256(fs_ctx *ctx, const fs_node *dir, fs_dirents *out);
int views_list_manifests(fs_ctx *ctx, const fs_node *dir, fs_dirents *out);
int views_ckpt_attr(fs_ctx *ctx, const fs_node *n, struct stat *st);
int views_blob_attr(fs_ctx *ctx, const fs_node *n, struct stat *st);
int views_blob_open(fs_ctx *ctx, const fs_node *n, struct store_reader **ret, char **ret_digest);
int views_blob_xattrs(fs_ctx *ctx, const fs_node *n, fs_xattrs *out);
int views_content_oci_layout(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len);
int views_content_layout_index(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len);
int views_content_cachedir_tag(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len);
int views_content_config(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len);
int views_content_options(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len);

/* fs/views-summary.c: summary (store/containerd's ckpt-summary.h), in every
 * checkpoint dir; views_ckpt_facts gathers what it says of n's checkpoint
 * (also for inspect.json), with check_images the damaged images (each
 * record image read through); clear it with store_ckpt_facts_clear(). */
struct store_ckpt_facts;
int views_ckpt_facts(fs_ctx *ctx, const fs_node *n, bool check_images, struct store_ckpt_facts *ret);
int views_content_summary(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len);

/* fs/views-tar.c: task/ and rw/ */
int views_list_tar_dir(fs_ctx *ctx, const fs_node *dir, fs_dirents *out);
/* One child by name: O(1) (a directory index of the member tree). */
int views_lookup_tar(fs_ctx *ctx, const fs_node *dir, const char *name, fs_dirents *out);
int views_tar_attr(fs_ctx *ctx, const fs_node *n, struct stat *st);
int views_tar_open(fs_ctx *ctx, const fs_node *n, struct store_reader **ret, char **ret_digest);
int views_tar_readlink(fs_ctx *ctx, const fs_node *n, char **ret);
/* The one opener of a tar member's data for task/, rw/, decoded/ and
 * proc/: a reader (the caller's) of the file `path` of tar blob `desc` of
 * namespace ns, whose index is `tar`; a hard link reads as its target.
 * -ENOENT when the tar has no regular file (or hard link) there. */
struct store_desc;
struct tar_index;
int views_criu_member(fs_ctx *ctx, const char *ns, const struct store_desc *desc, const struct tar_index *tar,
                      const char *path, struct store_reader **ret);

/* fs/views-decoded.c: decoded/, the record images of task/ as JSON in the
 * shape of `crit decode --pretty` (store/criu); only when built with the
 * CRIU image decoder (CKPTFS_CRIU_IMAGES). */
int views_list_decoded(fs_ctx *ctx, const fs_node *dir, fs_dirents *out);
int views_decoded_attr(fs_ctx *ctx, const fs_node *n, struct stat *st);
int views_content_decoded(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len);
/* The CRIU tar of node n (key "<digest>[/<rest>]"): its descriptor (clear
 * it), index, the rest of the key (NULL for none) and creation time. */
struct store_desc;
struct tar_index;
int views_criu_tar_of(fs_ctx *ctx, const fs_node *n, struct store_desc *ret_desc, const struct tar_index **ret_tar,
                      const char **ret_member, int64_t *ret_created);

/* fs/views-dump.c: the CRIU dump behind a node of decoded/, proc/ or a
 * checkpoint dir's summary/inspect.json, as the views of store/criu take
 * it: views_dump_open is a criu_open_fn (criu-open.h) over d, members by
 * name through views_criu_member. views_dump_of fills *ret (clear it with
 * views_dump_clear) from views_criu_tar_of. */
typedef struct views_dump {
        fs_ctx *ctx;
        const char *ns;
        store_desc desc;
        const struct tar_index *tar;
        const char *rest;   /* n's key after "<digest>/"; NULL for none */
} views_dump;
int views_dump_of(fs_ctx *ctx, const fs_node *n, views_dump *ret);
void views_dump_clear(views_dump *d);
int views_dump_open(void *userdata, const char *name, struct store_reader **ret_reader);
/* A decoder's -EBADMSG/-EOPNOTSUPP is a damaged checkpoint: -EIO. */
int views_dump_errno(int r);

/* fs/views-proc.c: proc/, the processes of the CRIU dump (store/criu's
 * criu-proc.h): ps, ps.json and <pid>/{comm,status}. Keys: the directory
 * "<digest>", a pid dir "<digest>/<pid>", a file "<digest>/<file>" or
 * "<digest>/<pid>/<file>". */
int views_list_proc(fs_ctx *ctx, const fs_node *dir, fs_dirents *out);
int views_list_proc_pid(fs_ctx *ctx, const fs_node *dir, fs_dirents *out);
int views_content_proc(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len);
/* The processes of n's dump (clear them with criu_procs_clear()); -EIO
 * for damaged images. */
struct criu_procs;
int views_proc_procs(fs_ctx *ctx, const fs_node *n, struct criu_procs *ret);
/* fs/views-proc-core.c: proc/<pid>/core, the ELF core file (store/criu's
 * criu-coredump.h) served by offset; views_add_proc_core adds it to the
 * listing of pid dir `dir`. */
int views_proc_core_open(fs_ctx *ctx, const fs_node *n, struct store_reader **ret, char **ret_digest);
int views_proc_core_attr(fs_ctx *ctx, const fs_node *n, struct stat *st);
int views_add_proc_core(fs_dirents *out, const fs_node *dir);
/* fs/views-proc-fds.c: proc/sockets, sockets.json, mounts, mounts.json and
 * <pid>/fds, fds.json (store/criu's criu-fds.h); rest is the key after
 * "<digest>/". views_content_proc hands these files over. */
bool views_proc_fds_handles(const char *rest);
/* The files of n's dump and the fds of every process of p (tasks[i] is
 * p->v[i]'s); freed with views_proc_open_files_clear(files, tasks, p->n).
 * Damaged images: -EIO. */
struct criu_procs;
struct criu_files;
struct criu_task_fds;
int views_proc_open_files(fs_ctx *ctx, const fs_node *n, const struct criu_procs *p, struct criu_files *ret_files,
                          struct criu_task_fds **ret_tasks);
void views_proc_open_files_clear(struct criu_files *files, struct criu_task_fds *tasks, size_t n);
int views_content_proc_fds(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len);
/* fs/views-proc-stats.c: proc/stats and stats.json (`file`), CRIU's dump
 * statistics (store/criu's criu-stats.h); for a dump without them, stats
 * says so and stats.json is {}. */
bool views_proc_stats_file(const char *file);
int views_proc_stats(fs_ctx *ctx, const fs_node *n, const char *file, char **ret, size_t *ret_len);
/* The statistics of n's dump: 0, -ENOENT when it has none, -EIO when they
 * do not decode. */
struct criu_dump_stats;
int views_proc_stats_of(fs_ctx *ctx, const fs_node *n, struct criu_dump_stats *ret);

/* fs/views-inspect.c: inspect.json (0400: it holds the environment), the
 * shape of `checkpointctl inspect --all --format json` from the parts of
 * store/criu's criu-inspect.h and ckpt-summary.h. Key: the CRIU tar's
 * digest, as proc/. */
int views_content_inspect(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len);

/* fs/views-proc-mem.c: proc/<pid>/{cmdline,environ,maps,mem,vmas/} of a
 * process with memory (criu-mem.h, criu-vma.h); views_list_proc_pid adds
 * them through views_list_proc_mem. */
int views_list_proc_mem(fs_ctx *ctx, const fs_node *dir, fs_dirents *out);
int views_content_proc_mem(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len);
int views_proc_mem_attr(fs_ctx *ctx, const fs_node *n, struct stat *st);
int views_proc_mem_open(fs_ctx *ctx, const fs_node *n, struct store_reader **ret, char **ret_digest);
int views_list_proc_vmas(fs_ctx *ctx, const fs_node *dir, fs_dirents *out);
int views_proc_mem_seek(const struct store_reader *rd, uint64_t off, bool hole, uint64_t *ret_off);

/* fs/views-cri.c: cri.tar (store/containerd's cri-tar.h), served by
 * offset; its stat size is exact. */
int views_cri_open(fs_ctx *ctx, const fs_node *n, struct store_reader **ret, char **ret_digest);
int views_cri_attr(fs_ctx *ctx, const fs_node *n, struct stat *st);

/* fs/views-digest.c: <ns>/by-digest/ (its entries are FS_CKPT dirs of the
 * canonical name of each digest, catalog.h's store_catalog_digests(), with
 * that name's path as alias: paths.h) */
int views_list_by_digest(fs_ctx *ctx, const fs_node *dir, fs_dirents *out);
int views_lookup_by_digest(fs_ctx *ctx, const fs_node *dir, const char *name, fs_dirents *out);
/* st_nlink 2 for a file of the canonical name's directory: it is also
 * under by-digest/ (tar and rsync -H then keep one copy). */
int views_shared_nlink(fs_ctx *ctx, const fs_node *n, struct stat *st);
/* fs/views-names.c: whether image `name` of ns can be shown under
 * checkpoints/ (names.h's ckpt_name_showable()), and as the entry `tag`
 * under a container's checkpoints/; a name that cannot is logged (warning)
 * once per mount. */
bool views_name_shown(const char *ns, const char *name);
bool views_tag_shown(const char *ns, const char *name, const char *tag);

/* fs/ckpt-of.c, shared by the views: the checkpoint a node belongs to
 * (keys ns, name), and the blob `digest` among those its index reaches. */
struct store_ckpt;
struct store_desc;
struct store_descs;
int views_ckpt_of(fs_ctx *ctx, const fs_node *n, struct store_ckpt *ret);
/* The checkpoint of node `n` and the descriptors of its index: its
 * children, or (reach) every blob it reaches. */
/* The times of st from ns since the epoch (a checkpoint's creation);
 * nothing for ns <= 0 (unknown). */
void views_set_times(struct stat *st, int64_t ns);
int views_ckpt_descs(fs_ctx *ctx, const fs_node *n, bool reach, struct store_ckpt *ret_ck,
                     struct store_descs *ret_descs);
/* The entry `entry` of checkpoint `image` (a checkpoint dir of `kind`),
 * salted with its target: its inode numbers change when the name is
 * re-pointed. Adds nothing when the image is gone. */
int views_add_ckpt_entry(fs_ctx *ctx, fs_dirents *out, fs_kind kind, const char *entry, const char *ns,
                         const char *image, const char *k1, const char *k2);
/* The image name behind containers/<id>/checkpoints/<tag> (the standard
 * name, or another one whose config names the container). -ENOENT when the
 * catalog has none, after requesting a background resync of ns. */
int views_container_ckpt_name(fs_ctx *ctx, const char *ns, const char *id, const char *tag, char **ret);
int views_find_blob(fs_ctx *ctx, const fs_node *n, const char *digest, struct store_desc *ret,
                    int64_t *ret_created_ns);

/* The table entries, expanded inside fs_kinds[] (tree.c). */
#define FS_DIR_RO (S_IFDIR | 0555)
#define FS_REG_RO (S_IFREG | 0444)
/* A checkpoint holds the memory of a process: its directory admits only the
 * owner of the mount, even with -o allow_other. What is inside keeps the
 * modes of the image (backups copy them as they are). */
#define FS_DIR_SECRET (S_IFDIR | 0500)
/* A file holding a process's memory (proc/<pid>/core, ...): the owner only. */
#define FS_REG_SECRET (S_IFREG | 0400)
#define FS_VIEWS_KINDS                                                                                         \
        [FS_NS_CKPTS] = { .mode = FS_DIR_RO, .dynamic = true, .list = views_list_ns_ckpts },                  \
        [FS_BY_DIGEST] = { .mode = FS_DIR_RO, .dynamic = true, .list = views_list_by_digest,                   \
                           .lookup = views_lookup_by_digest },                                                 \
        [FS_CKPT_PREFIX] = { .mode = FS_DIR_RO, .dynamic = true, .list = views_list_prefix },                 \
        [FS_CKPT] = { .mode = FS_DIR_SECRET, .list = views_list_ckpt, .attr = views_ckpt_attr },                  \
        [FS_CK_BLOB] = { .mode = FS_REG_RO, .attr = views_blob_attr, .open_reader = views_blob_open,           \
                         .xattrs = views_blob_xattrs },                                                        \
        [FS_CK_LAYOUT] = { .mode = FS_DIR_RO, .list = views_list_layout, .attr = views_ckpt_attr },           \
        [FS_CK_OCI_LAYOUT] = { .mode = FS_REG_RO, .content = views_content_oci_layout,                         \
                               .attr = views_ckpt_attr },                                                      \
        [FS_CK_LAYOUT_INDEX] = { .mode = FS_REG_RO, .content = views_content_layout_index,                     \
                                 .attr = views_ckpt_attr },                                                    \
        [FS_CK_LAYOUT_BLOBS] = { .mode = FS_DIR_RO, .list = views_list_layout_blobs, .attr = views_ckpt_attr }, \
        [FS_CK_LAYOUT_SHA256] = { .mode = FS_DIR_RO, .list = views_list_layout_sha256,                         \
                                  .attr = views_ckpt_attr },                                                   \
        [FS_CK_MANIFESTS] = { .mode = FS_DIR_RO, .list = views_list_manifests, .attr = views_ckpt_attr },     \
        [FS_CK_CACHEDIR_TAG] = { .mode = FS_REG_RO, .content = views_content_cachedir_tag,                     \
                                 .attr = views_ckpt_attr },                                                    \
        [FS_CK_CONFIG_JSON] = { .mode = FS_REG_RO, .content = views_content_config, .attr = views_ckpt_attr }, \
        [FS_CK_OPTIONS_JSON] = { .mode = FS_REG_RO, .content = views_content_options,                          \
                                 .attr = views_ckpt_attr },                                                    \
        [FS_CK_SUMMARY] = { .mode = FS_REG_RO, .content = views_content_summary, .attr = views_ckpt_attr },   \
        [FS_CK_TAR_DIR] = { .mode = FS_DIR_RO, .list = views_list_tar_dir, .lookup = views_lookup_tar,        \
                            .attr = views_tar_attr },                                                  \
        [FS_CK_TAR_FILE] = { .mode = FS_REG_RO, .attr = views_tar_attr, .open_reader = views_tar_open },      \
        [FS_CK_TAR_SYMLINK] = { .mode = S_IFLNK | 0777, .attr = views_tar_attr,                                \
                                .readlink = views_tar_readlink },                                              \
        [FS_CK_TAR_SPECIAL] = { .mode = 0444, .attr = views_tar_attr },                                       \
        [FS_CK_CRI_TAR] = { .mode = FS_REG_SECRET, .open_reader = views_cri_open, .attr = views_cri_attr },   \
        FS_DECODED_KINDS
/* Without the decoder no decoded/ is listed: the kinds only keep their modes. */
#if CKPTFS_CRIU_IMAGES
#define FS_DECODED_KINDS                                                                                       \
        [FS_CK_DECODED] = { .mode = FS_DIR_RO, .list = views_list_decoded, .attr = views_ckpt_attr },         \
        [FS_CK_DECODED_FILE] = { .mode = FS_REG_RO, .content = views_content_decoded,                          \
                                 .attr = views_decoded_attr },                                                 \
        [FS_CK_PROC] = { .mode = FS_DIR_RO, .list = views_list_proc, .attr = views_ckpt_attr },               \
        [FS_CK_PROC_PID] = { .mode = FS_DIR_RO, .list = views_list_proc_pid, .attr = views_ckpt_attr },       \
        [FS_CK_PROC_FILE] = { .mode = FS_REG_RO, .content = views_content_proc, .attr = views_ckpt_attr },    \
        [FS_CK_PROC_CORE] = { .mode = FS_REG_SECRET, .open_reader = views_proc_core_open,                      \
                              .attr = views_proc_core_attr },                                                  \
        [FS_CK_INSPECT_JSON] = { .mode = FS_REG_SECRET, .content = views_content_inspect,                      \
                                 .attr = views_ckpt_attr },                                                    \
        FS_PROC_MEM_KINDS
#define FS_PROC_MEM_KINDS                                                                                      \
        [FS_CK_PROC_MEMTEXT] = { .mode = FS_REG_RO, .content = views_content_proc_mem, .attr = views_ckpt_attr }, \
        [FS_CK_PROC_SECRET] = { .mode = FS_REG_SECRET, .content = views_content_proc_mem,                     \
                                .attr = views_ckpt_attr },                                                     \
        [FS_CK_PROC_MEM] = { .mode = FS_REG_SECRET, .open_reader = views_proc_mem_open,                       \
                             .attr = views_proc_mem_attr, .seek = views_proc_mem_seek },                       \
        [FS_CK_PROC_VMAS] = { .mode = FS_DIR_SECRET, .list = views_list_proc_vmas, .attr = views_ckpt_attr },  \
        [FS_CK_PROC_VMA] = { .mode = FS_REG_SECRET, .open_reader = views_proc_mem_open,                       \
                             .attr = views_proc_mem_attr, .seek = views_proc_mem_seek }
#else
#define FS_DECODED_KINDS                                                                                       \
        [FS_CK_DECODED] = { .mode = FS_DIR_RO }, [FS_CK_DECODED_FILE] = { .mode = FS_REG_RO },                \
        [FS_CK_PROC] = { .mode = FS_DIR_RO }, [FS_CK_PROC_PID] = { .mode = FS_DIR_RO },                       \
        [FS_CK_PROC_FILE] = { .mode = FS_REG_RO }, [FS_CK_PROC_CORE] = { .mode = FS_REG_SECRET },             \
        [FS_CK_INSPECT_JSON] = { .mode = FS_REG_SECRET },                                                      \
        [FS_CK_PROC_MEMTEXT] = { .mode = FS_REG_RO },                                                          \
        [FS_CK_PROC_SECRET] = { .mode = FS_REG_SECRET }, [FS_CK_PROC_MEM] = { .mode = FS_REG_SECRET },         \
        [FS_CK_PROC_VMAS] = { .mode = FS_DIR_SECRET }, [FS_CK_PROC_VMA] = { .mode = FS_REG_SECRET }
#endif
