/* The source of an import (import-src.h): an OCI layout as it is, or an
 * engine's archive converted into one first. */
#include "import-src.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "cleanup.h"

static bool has_file(oci_src *s, const char *rel) {
        struct store_reader *rd = NULL;
        if (oci_src_open_file(s, rel, &rd) < 0)
                return false;
        store_reader_free(rd);
        return true;
}

int import_src_open(const char *path, const char *work_root, const char *name, const char *image, oci_src **ret,
                    store_archive_layout *l, char **msg) {
        _cleanup_oci_src_ oci_src *s = NULL;
        _cleanup_free_ char *amsg = NULL;
        int r = oci_src_open(path, &s, msg);
        if (r >= 0 && (!oci_src_is_tar(s) || has_file(s, "index.json"))) {
                *ret = TAKE_PTR(s);
                return 0;
        }
        /* oci_src's refusal of an unsafe tar stands (it names the member);
         * a tar it cannot read may be a zstd archive, said so below */
        if (r < 0 && r != -EBADMSG)
                return r;
        int ra = store_archive_to_layout(path, work_root, name, image, l, &amsg);
        if (ra >= 0) {
                free(*msg);
                *msg = NULL;
                return oci_src_open(l->dir, ret, msg);
        }
        if (r < 0 && ra != -EINVAL)
                return r == -EBADMSG ? -EIO : r; /* a truncated or corrupt tar: a damaged backup */
        if (ra == -EMEDIUMTYPE && !has_file(s, "checkpoint/inventory.img")) {
                *ret = TAKE_PTR(s); /* neither: the layout's check says what is missing */
                return 0;
        }
        free(*msg);
        *msg = TAKE_PTR(amsg);
        return ra == -EMEDIUMTYPE ? -EINVAL : ra;
}
