#include "checkpoint-retention.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "containerd.h"
#include "log.h"
#include "names.h"
#include "vocab.h"

static const char *label_of(const rpc_image *img, const char *key) {
        for (size_t i = 0; i < img->n_labels; i++)
                if (img->labels[i]->key && strcmp(img->labels[i]->key, key) == 0)
                        return img->labels[i]->value;
        return NULL;
}

static bool counts(const rpc_image *img, const char *id, bool all_names) {
        const char *made_for = label_of(img, LABEL_CKPTFS_CONTAINER);
        if (made_for && strcmp(made_for, id) == 0)
                return true;
        const char *tag;
        size_t n = all_names ? ckpt_name_container(img->name, &tag) : 0;
        return n == strlen(id) && strncmp(img->name + strlen(CKPT_NAME_PREFIX), id, n) == 0 &&
               ckpt_tag_is_default(tag);
}

/* Newest first; equal times by name, so the order is total. */
static int newest_first(const void *a, const void *b) {
        const rpc_image *x = *(rpc_image *const *) a, *y = *(rpc_image *const *) b;
        int64_t xs = x->created_at ? x->created_at->seconds : 0, ys = y->created_at ? y->created_at->seconds : 0;
        int32_t xn = x->created_at ? x->created_at->nanos : 0, yn = y->created_at ? y->created_at->nanos : 0;
        if (xs != ys)
                return xs < ys ? 1 : -1;
        if (xn != yn)
                return xn < yn ? 1 : -1;
        return -strcmp(x->name, y->name);
}

static int add_name(char **list, size_t *len, const char *name) {
        size_t n = strlen(name);
        char *nl = realloc(*list, *len + n + 3);
        if (!nl)
                return -ENOMEM;
        *list = nl;
        if (*len)
                *len += (size_t) sprintf(nl + *len, ", ");
        memcpy(nl + *len, name, n + 1);
        *len += n;
        return 0;
}

int ckpt_retention_apply(rpc_client *c, const rpc_opts *o, const char *id, const char *made,
                         const ckpt_retention *rule, char **ret_deleted) {
        rpc_error err = { 0 };
        _cleanup_pb_msg_ rpc_image_list *list = NULL;
        int r = rpc_images_list(c, o, NULL, 0, &list, &err);
        if (r < 0)
                return log_warning_errno(r, "retention of %s: cannot list the images: %s", id, err.message);
        _cleanup_free_ rpc_image **cand = calloc(list->n_images + 1, sizeof(*cand));
        _cleanup_free_ char *deleted = strdup("");
        size_t n = 0, len = 0;
        if (!cand || !deleted)
                return -ENOMEM;
        for (size_t i = 0; i < list->n_images; i++)
                if (strcmp(list->images[i]->name, made) != 0 && counts(list->images[i], id, rule->all_names))
                        cand[n++] = list->images[i];
        qsort(cand, n, sizeof(*cand), newest_first);
        int gone = 0;
        /* The one just made is the first kept. */
        for (size_t i = rule->keep > 0 ? rule->keep - 1 : 0; i < n; i++) {
                r = rpc_images_delete(c, o, cand[i]->name, false, &err);
                if (r < 0 && r != -ENOENT) {
                        log_warning_errno(r, "retention of %s: cannot delete %s: %s", id, cand[i]->name, err.message);
                        continue;
                }
                if (add_name(&deleted, &len, cand[i]->name) < 0)
                        return -ENOMEM;
                gone++;
        }
        if (gone)
                log_info("retention of %s (keep=%u): deleted %s", id, rule->keep, deleted);
        *ret_deleted = TAKE_PTR(deleted);
        return gone;
}
