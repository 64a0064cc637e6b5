#include "paths.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

#include "path.h"

static const char *const entry_names[FS_KIND_MAX] = {
        [FS_CONTAINERS] = "containers",
        [FS_STATUS] = "status",
        [FS_CONTAINER_JSON] = "container.json",
        [FS_PIDS] = "pids",
        [FS_METRICS_JSON] = "metrics.json",
        [FS_CTL_CHECKPOINT] = "checkpoint",
        [FS_CONTAINER_CKPTS] = "checkpoints",
        [FS_NS_CKPTS] = "checkpoints",
        [FS_BY_DIGEST] = "by-digest",
        [FS_CTL_IMPORT] = "import",
        [FS_CTL_PULL] = "pull",
};

const char *fs_kind_entry_name(fs_kind kind) {
        return kind < FS_KIND_MAX ? entry_names[kind] : NULL;
}

int fs_path_of(char *buf, size_t size, fs_kind kind, const char *ns, const char *k1, const char *k2) {
        const char *in_container = NULL;
        switch (kind) {
        case FS_ROOT:
                return path_join(buf, size, NULL);
        case FS_NAMESPACE:
                return ns ? path_join(buf, size, ns, NULL) : -EINVAL;
        case FS_CONTAINERS:
        case FS_NS_CKPTS:
        case FS_BY_DIGEST:
        case FS_CTL_IMPORT:
        case FS_CTL_PULL:
                return ns ? path_join(buf, size, ns, entry_names[kind], NULL) : -EINVAL;
        case FS_CONTAINER:
                return ns && k1 ? path_join(buf, size, ns, entry_names[FS_CONTAINERS], k1, NULL) : -EINVAL;
        case FS_STATUS:
        case FS_CONTAINER_JSON:
        case FS_PIDS:
        case FS_METRICS_JSON:
        case FS_CTL_CHECKPOINT:
        case FS_CONTAINER_CKPTS:
                in_container = entry_names[kind];
                break;
        case FS_CONTAINER_CKPT:
                if (!k2)
                        return -EINVAL;
                in_container = entry_names[FS_CONTAINER_CKPTS];
                break;
        case FS_CKPT_PREFIX:
        case FS_CKPT:
                /* The parts of the name are directories: the path holds it as it is. */
                return ns && k1 ? path_join(buf, size, ns, entry_names[FS_NS_CKPTS], k1, NULL) : -EINVAL;
        default:
                return -EINVAL;
        }
        if (!ns || !k1)
                return -EINVAL;
        const char *tag = kind == FS_CONTAINER_CKPT ? k2 : "";
        return path_join(buf, size, ns, entry_names[FS_CONTAINERS], k1, in_container, tag, NULL);
}

bool fs_kind_shared(fs_kind kind) {
        switch (kind) {
        case FS_CK_BLOB:
        case FS_CK_OCI_LAYOUT:
        case FS_CK_LAYOUT_INDEX:
        case FS_CK_CACHEDIR_TAG:
        case FS_CK_CONFIG_JSON:
        case FS_CK_OPTIONS_JSON:
        case FS_CK_SUMMARY:
        case FS_CK_INSPECT_JSON:
        case FS_CK_TAR_FILE:
        case FS_CK_TAR_SYMLINK:
        case FS_CK_TAR_SPECIAL:
        case FS_CK_DECODED_FILE:
        case FS_CK_PROC_FILE:
        case FS_CK_PROC_MEMTEXT:
        case FS_CK_PROC_SECRET:
        case FS_CK_PROC_MEM:
        case FS_CK_PROC_VMA:
        case FS_CK_PROC_CORE:
        case FS_CK_CRI_TAR:
        case FS_CK_CTL_RESTORE:
        case FS_CTL_PUSH:
                return true;
        default:
                return false;
        }
}

static char *joined(const char *dir, const char *name) {
        char *s = NULL;
        if (!dir || !*dir)
                return strdup(name);
        return asprintf(&s, "%s/%s", dir, name) < 0 ? NULL : s;
}

int fs_child_path(const char *parent_path, const char *parent_alias, const fs_node_spec *spec, char **ret_path,
                  char **ret_alias) {
        const char *name = spec->name ? spec->name : "";
        _cleanup_free_ char *alias = NULL;
        if (spec->alias)
                alias = strdup(spec->alias);
        else if (parent_alias)
                alias = joined(parent_alias, name);
        if ((spec->alias || parent_alias) && !alias)
                return -ENOMEM;
        char *path = alias && fs_kind_shared(spec->kind) ? TAKE_PTR(alias) : joined(parent_path, name);
        if (!path)
                return -ENOMEM;
        *ret_path = path;
        *ret_alias = TAKE_PTR(alias);
        return 0;
}
