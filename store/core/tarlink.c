#include "tarlink.h"

#include <string.h>
#include <sys/stat.h>

const struct tar_member *tar_link_resolve(const struct tar_index *tar, const struct tar_member *m) {
        /* Bounded: a chain that loops must not hold a FUSE thread. */
        for (int hops = 0; m && m->type == TAR_TYPE_HARDLINK && m->link_target && hops < TAR_LINK_MAX_HOPS; hops++)
                m = tar_index_find(tar, m->link_target);
        return m;
}

mode_t tar_member_file_type(const struct tar_member *m) {
        static const mode_t types[_TAR_TYPE_MAX] = {
                [TAR_TYPE_REG] = S_IFREG,  [TAR_TYPE_DIR] = S_IFDIR,   [TAR_TYPE_SYMLINK] = S_IFLNK,
                [TAR_TYPE_HARDLINK] = S_IFREG, [TAR_TYPE_CHAR] = S_IFCHR, [TAR_TYPE_BLOCK] = S_IFBLK,
                [TAR_TYPE_FIFO] = S_IFIFO,
        };
        return (unsigned) m->type < _TAR_TYPE_MAX ? types[m->type] : 0;
}

uint64_t tar_member_shown_size(const struct tar_index *tar, const struct tar_member *m) {
        switch (m->type) {
        case TAR_TYPE_REG:
        case TAR_TYPE_HARDLINK: {
                const struct tar_member *data = tar_link_resolve(tar, m);
                return data ? data->size : 0;
        }
        case TAR_TYPE_SYMLINK:
                return m->link_target ? strlen(m->link_target) : 0;
        default:
                return 0;
        }
}
