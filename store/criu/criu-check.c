/* Checking the images of a dump (criu-check.h). */
#include "criu-check.h"

#include <string.h>

#include "cleanup.h"
#include "criu-image.h"

static bool has_prefix(const char *s, const char *p) {
        return strncmp(s, p, strlen(p)) == 0;
}

static bool has_suffix(const char *s, const char *x) {
        size_t n = strlen(s), k = strlen(x);
        return n >= k && !strcmp(s + n - k, x);
}

bool criu_image_name_is_record(const char *name) {
        /* The raw images (criu-format.md §1): no magic, no records. */
        static const char *const raw[] = { "pages-", "ifaddr-", "route-", "route6-", "rule-", "iptables-",
                                           "ip6tables-", "nftables-", "netns-ct-", "netns-exp-", "tmpfs-" };
        if (!strcmp(name, "stats-dump") || !strcmp(name, "irmap-cache"))
                return true;
        if (!has_suffix(name, ".img") || has_suffix(name, ".tar.gz.img"))
                return false;
        for (size_t i = 0; i < ELEMENTSOF(raw); i++)
                if (has_prefix(name, raw[i]))
                        return false;
        return true;
}

int criu_image_check(struct store_reader *r) {
        _cleanup_criu_image_ struct criu_image *img = NULL;
        int k = criu_image_open(r, &img);
        while (k >= 0) {
                struct criu_record rec;
                k = criu_image_next(img, &rec);
                if (k <= 0)
                        break;
                criu_record_done(&rec);
        }
        return k < 0 ? k : 0;
}
