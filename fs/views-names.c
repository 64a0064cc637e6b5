/* Which image names and tags the tree can show as file names, and the one
 * log line for each that it cannot. */
#include "ckpt-views.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "log.h"
#include "names.h"

/* "<ns>\0<name>" of the names already reported: a listing runs often, the
 * log line comes once per name and mount. Grows with the bad names seen. */
static pthread_mutex_t reported_lock = PTHREAD_MUTEX_INITIALIZER;
static char **reported;
static size_t n_reported;

static bool first_report(const char *ns, const char *name) {
        size_t nl = strlen(ns), ml = strlen(name);
        bool first = true;
        pthread_mutex_lock(&reported_lock);
        for (size_t i = 0; first && i < n_reported; i++)
                if (memcmp(reported[i], ns, nl + 1) == 0 && strcmp(reported[i] + nl + 1, name) == 0)
                        first = false;
        char *key = first ? malloc(nl + ml + 2) : NULL;
        char **nv = key ? realloc(reported, (n_reported + 1) * sizeof(*nv)) : NULL;
        if (nv) {
                memcpy(key, ns, nl + 1);
                memcpy(key + nl + 1, name, ml + 1);
                reported = nv;
                reported[n_reported++] = TAKE_PTR(key);
        }
        free(key);
        pthread_mutex_unlock(&reported_lock);
        return first;
}

bool views_name_shown(const char *ns, const char *name) {
        const char *why;
        if (ckpt_name_showable(name, &why))
                return true;
        if (first_report(ns, name))
                log_warning("checkpoint image \"%s\" in %s is not shown under checkpoints/ (%s); "
                            "it is under by-digest/ by the hex of its index digest",
                            name, ns, why);
        return false;
}

bool views_tag_shown(const char *ns, const char *name, const char *tag) {
        if (ckpt_component_valid(tag, strlen(tag)))
                return true;
        if (first_report(ns, name))
                log_warning("checkpoint image \"%s\" in %s is not shown under its container's checkpoints/ "
                            "(its tag is not a file name: empty, '.', '..' or longer than 255 bytes); "
                            "it is under by-digest/ by the hex of its index digest",
                            name, ns);
        return false;
}

