/* Which repository of a registry had a blob, remembered for the life of
 * the process: a later push of that blob to another repository of the
 * same registry mounts it instead of sending it again. */
#include "registry.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define MEMO_MAX 4096

typedef struct memo_entry {
        char host[REGISTRY_HOST_MAX];
        char repo[REGISTRY_REPO_MAX];
        char digest[DIGEST_MAX];
} memo_entry;

static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;
static memo_entry memo[MEMO_MAX];
static size_t memo_next, memo_n;

void registry_memo_note(const char *host, const char *repo, const char *digest) {
        pthread_mutex_lock(&memo_lock);
        for (size_t i = 0; i < memo_n; i++)
                if (strcmp(memo[i].digest, digest) == 0 && strcmp(memo[i].host, host) == 0 &&
                    strcmp(memo[i].repo, repo) == 0) {
                        pthread_mutex_unlock(&memo_lock);
                        return;
                }
        memo_entry *e = &memo[memo_next];
        snprintf(e->host, sizeof(e->host), "%s", host);
        snprintf(e->repo, sizeof(e->repo), "%s", repo);
        snprintf(e->digest, sizeof(e->digest), "%s", digest);
        memo_next = (memo_next + 1) % MEMO_MAX;
        if (memo_n < MEMO_MAX)
                memo_n++;
        pthread_mutex_unlock(&memo_lock);
}

bool registry_memo_find(const char *host, const char *not_repo, const char *digest, char ret_repo[REGISTRY_REPO_MAX]) {
        bool found = false;
        pthread_mutex_lock(&memo_lock);
        for (size_t i = 0; i < memo_n && !found; i++)
                if (strcmp(memo[i].digest, digest) == 0 && strcmp(memo[i].host, host) == 0 &&
                    strcmp(memo[i].repo, not_repo) != 0) {
                        snprintf(ret_repo, REGISTRY_REPO_MAX, "%s", memo[i].repo);
                        found = true;
                }
        pthread_mutex_unlock(&memo_lock);
        return found;
}
