/* Retention: after a checkpoint, only the newest N checkpoints of the
 * container are kept. What counts: the images ckptfs made of it (labelled
 * LABEL_CKPTFS_CONTAINER = its id) and, only when asked (keep-all-names),
 * the images named containerd.io/checkpoint/<id>:<MM-DD-YYYY-HH:MM:SS>
 * whoever made them (ctr, kubelet). Nothing else is ever deleted. Newest by
 * creation time; the image just made is always kept. Deleted as rmdir
 * does (Images.Delete; containerd's GC frees the blobs). */
#pragma once

#include <stdbool.h>

#include "rpc.h"

typedef struct ckpt_retention {
        unsigned keep;      /* N >= 1 */
        bool all_names;     /* default-named images of any maker count too */
} ckpt_retention;

/* Applies the rule to container id of namespace o->ns, `made` being the
 * image just made. *ret_deleted (malloc'd) gets the deleted names joined by
 * ", " ("" for none). Returns the number deleted, or the -errno of the
 * listing; a deletion that fails is skipped (and logged). */
int ckpt_retention_apply(rpc_client *c, const rpc_opts *o, const char *id, const char *made,
                         const ckpt_retention *rule, char **ret_deleted);
