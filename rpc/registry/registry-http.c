#include "registry-http.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "registry-auth.h"

struct registry_client {
        registry_ref ref;
        char base[REGISTRY_HOST_MAX + 16];   /* "http://host" */
        char *auth;                          /* secret: base64 user:password */
        char scope[REGISTRY_REPO_MAX + 64];
        /* more scopes the token asks for (pull on the sources of mounts),
         * each "&scope=<escaped>"; set before the client is shared */
        char more_scopes[2048];
        long timeout_ms;
        pthread_mutex_t lock;                /* guards token and basic */
        char *token;                         /* secret: the Bearer token of scope */
        bool basic;                          /* the registry asked for Basic */
        /* idle curl handles, each with its open connections: a handle is
         * used by one thread at a time (curl shares no connection between
         * concurrent threads), and its connection is reused by the next
         * request that takes it. Guarded by lock. */
        CURL *idle[REGISTRY_IDLE_MAX];
        size_t n_idle;
};

static CURL *take_handle(registry_client *c) {
        CURL *h = NULL;
        pthread_mutex_lock(&c->lock);
        if (c->n_idle > 0)
                h = c->idle[--c->n_idle];
        pthread_mutex_unlock(&c->lock);
        if (h) {
                curl_easy_reset(h);
                return h;
        }
        return curl_easy_init();
}

static void give_handle(registry_client *c, CURL *h) {
        pthread_mutex_lock(&c->lock);
        if (c->n_idle < REGISTRY_IDLE_MAX) {
                c->idle[c->n_idle++] = h;
                h = NULL;
        }
        pthread_mutex_unlock(&c->lock);
        if (h)
                curl_easy_cleanup(h);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_setup(void) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
}

int registry_client_new(const registry_ref *ref, bool insecure, const char *auth, bool push, long timeout_ms,
                        registry_client **ret) {
        pthread_once(&curl_once, curl_setup);
        registry_client *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->ref = *ref;
        snprintf(c->base, sizeof(c->base), "%s://%s", insecure || ref->loopback ? "http" : "https", ref->host);
        snprintf(c->scope, sizeof(c->scope), "repository:%s:%s", ref->repo, push ? "pull,push" : "pull");
        c->timeout_ms = timeout_ms > 0 ? timeout_ms : 30000;
        pthread_mutex_init(&c->lock, NULL);
        if (auth && !(c->auth = strdup(auth))) {
                registry_client_free(c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

static void free_secret(char *s) {
        if (s) {
                explicit_bzero(s, strlen(s));
                free(s);
        }
}

registry_client *registry_client_free(registry_client *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n_idle; i++)
                curl_easy_cleanup(c->idle[i]);
        free_secret(c->auth);
        free_secret(c->token);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
}

int registry_client_add_pull_scope(registry_client *c, const char *repo) {
        char s[REGISTRY_REPO_MAX + 32], *e;
        snprintf(s, sizeof(s), "repository:%s:pull", repo);
        if (!(e = curl_escape(s, 0)))
                return -ENOMEM;
        char item[1024];
        snprintf(item, sizeof(item), "&scope=%s", e);
        curl_free(e);
        if (strstr(c->more_scopes, item))
                return 0;
        size_t have = strlen(c->more_scopes);
        if (have + strlen(item) >= sizeof(c->more_scopes))
                return -E2BIG;
        memcpy(c->more_scopes + have, item, strlen(item) + 1);
        return 0;
}

const registry_ref *registry_client_ref(const registry_client *c) {
        return &c->ref;
}

int registry_membuf_sink(void *ud, const uint8_t *data, size_t len) {
        registry_membuf *m = ud;
        if (m->len + len > m->max)
                return -EFBIG;
        uint8_t *p = realloc(m->data, m->len + len + 1);
        if (!p)
                return -ENOMEM;
        memcpy(p + m->len, data, len);
        m->data = p;
        m->len += len;
        p[m->len] = 0;
        return 0;
}

/* One transfer's state, for the curl callbacks. */
typedef struct xfer {
        CURL *h;
        const registry_req *q;
        registry_resp *resp;
        uint64_t sent;
        int sink_err;
        char errbody[2048];
        size_t errlen;
        char www_auth[2048];
} xfer;

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud) {
        xfer *x = ud;
        const registry_body *b = x->q->body;
        size_t want = size * nitems, left = (size_t) (b->len - x->sent);
        if (want > left)
                want = left;
        if (want == 0)
                return 0;
        if (b->buf) {
                memcpy(buf, b->buf + b->off + x->sent, want);
                x->sent += want;
                return want;
        }
        ssize_t n = b->read_at(b->ud, (uint8_t *) buf, want, b->off + x->sent);
        if (n <= 0) {
                x->sink_err = n < 0 ? (int) n : -EIO;
                return CURL_READFUNC_ABORT;
        }
        x->sent += (size_t) n;
        return (size_t) n;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud) {
        xfer *x = ud;
        size_t n = size * nmemb;
        long code = 0;
        curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
        if (code < 200 || code >= 300) {
                size_t k = n < sizeof(x->errbody) - 1 - x->errlen ? n : sizeof(x->errbody) - 1 - x->errlen;
                memcpy(x->errbody + x->errlen, data, k);
                x->errlen += k;
                x->errbody[x->errlen] = 0;
                return n;
        }
        if (x->q->sink && (x->sink_err = x->q->sink(x->q->sink_ud, (const uint8_t *) data, n)) < 0)
                return 0;
        return n;
}

/* Copies the value of header line `line` into out when its name is `name`. */
static bool header_value(const char *line, size_t len, const char *name, char *out, size_t size) {
        size_t nl = strlen(name);
        if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
                return false;
        const char *v = line + nl + 1;
        size_t vl = len - nl - 1;
        while (vl && (*v == ' ' || *v == '\t'))
                v++, vl--;
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
                vl--;
        snprintf(out, size, "%.*s", (int) vl, v);
        return true;
}

static size_t on_header(char *line, size_t size, size_t nitems, void *ud) {
        xfer *x = ud;
        size_t n = size * nitems;
        registry_resp *r = x->resp;
        char cl[32];
        if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
                /* a new response (after a 100 Continue or a redirect) */
                r->location[0] = r->digest[0] = r->content_type[0] = r->range[0] = x->www_auth[0] = 0;
                r->content_length = -1;
        } else if (header_value(line, n, "content-length", cl, sizeof(cl)))
                r->content_length = strtoll(cl, NULL, 10);
        else if (!header_value(line, n, "location", r->location, sizeof(r->location)) &&
                 !header_value(line, n, "docker-content-digest", r->digest, sizeof(r->digest)) &&
                 !header_value(line, n, "content-type", r->content_type, sizeof(r->content_type)) &&
                 !header_value(line, n, "range", r->range, sizeof(r->range)))
                (void) header_value(line, n, "www-authenticate", x->www_auth, sizeof(x->www_auth));
        return n;
}

/* The registry's errors[0] "code: message" of an error body. */
static void take_message(const char *body, size_t len, registry_resp *r) {
        json_t *j = json_loadb(body, len, 0, NULL);
        json_t *e0 = json_array_get(json_object_get(j, "errors"), 0);
        const char *code = json_string_value(json_object_get(e0, "code"));
        const char *msg = json_string_value(json_object_get(e0, "message"));
        if (code || msg)
                snprintf(r->message, sizeof(r->message), "%s%s%s", code ? code : "", code && msg ? ": " : "",
                         msg ? msg : "");
        else if (len)
                snprintf(r->message, sizeof(r->message), "%.200s", body);
        json_decref(j);
}

static void set_url(registry_client *c, CURL *h, const char *path) {
        if (strncmp(path, "http://", 7) == 0 || strncmp(path, "https://", 8) == 0) {
                curl_easy_setopt(h, CURLOPT_URL, path);
                return;
        }
        char url[4096];
        snprintf(url, sizeof(url), "%s%s", c->base, path);
        curl_easy_setopt(h, CURLOPT_URL, url);
}

/* The Authorization header (a secret) for this client, "" when none. */
static void auth_header(registry_client *c, char *out, size_t size) {
        out[0] = 0;
        pthread_mutex_lock(&c->lock);
        if (c->token)
                snprintf(out, size, "Authorization: Bearer %s", c->token);
        else if (c->basic && c->auth)
                snprintf(out, size, "Authorization: Basic %s", c->auth);
        pthread_mutex_unlock(&c->lock);
}

static int transport_errno(CURLcode rc, const char *method, registry_error *err) {
        snprintf(err->message, sizeof(err->message), "%s: %s", method, curl_easy_strerror(rc));
        return rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
}

/* One attempt. Returns the status or -errno; *ret_www the challenge of a 401. */
static int perform(registry_client *c, const registry_req *q, registry_resp *resp, char *www, size_t wsize,
                   registry_error *err) {
        CURL *h = take_handle(c);
        if (!h)
                return -ENOMEM;
        xfer x = { .h = h, .q = q, .resp = resp };
        *resp = (registry_resp) { .content_length = -1 };
        set_url(c, h, q->path);
        struct curl_slist *hdrs = NULL;
        char line[4096];
        auth_header(c, line, sizeof(line));
        if (line[0])
                hdrs = curl_slist_append(hdrs, line);
        explicit_bzero(line, sizeof(line));
        if (q->accept) {
                snprintf(line, sizeof(line), "Accept: %s", q->accept);
                hdrs = curl_slist_append(hdrs, line);
        }
        if (q->content_range) {
                snprintf(line, sizeof(line), "Content-Range: %s", q->content_range);
                hdrs = curl_slist_append(hdrs, line);
        }
        uint64_t bytes = q->expect;
        if (strcmp(q->method, "GET") != 0 && strcmp(q->method, "HEAD") != 0) {
                /* libcurl's default type of a body is form data: the
                 * registry then refuses the digest */
                snprintf(line, sizeof(line), "Content-Type: %s",
                         q->content_type ? q->content_type : "application/octet-stream");
                hdrs = curl_slist_append(hdrs, line);
                hdrs = curl_slist_append(hdrs, "Expect:");
                curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
                curl_easy_setopt(h, CURLOPT_READDATA, &x);
                curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t) (q->body ? q->body->len : 0));
                bytes += q->body ? q->body->len : 0;
        }
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
        if (strcmp(q->method, "HEAD") == 0)
                curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long) (c->timeout_ms + (long) (bytes / 1000)));
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 20L);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        /* redirects (blob storage elsewhere) without our credentials */
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, strcmp(q->method, "GET") == 0 ? 1L : 0L);
        curl_easy_setopt(h, CURLOPT_UNRESTRICTED_AUTH, 0L);
        CURLcode rc = curl_easy_perform(h);
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
        curl_slist_free_all(hdrs);
        /* a handle whose transfer failed may hold a broken connection: drop it */
        if (rc == CURLE_OK)
                give_handle(c, h);
        else
                curl_easy_cleanup(h);
        if (x.sink_err < 0) {
                snprintf(err->message, sizeof(err->message), "%s %s: %s", q->method, q->path, strerror(-x.sink_err));
                return x.sink_err;
        }
        if (rc != CURLE_OK)
                return transport_errno(rc, q->method, err);
        resp->status = code;
        if (code >= 300)
                take_message(x.errbody, x.errlen, resp);
        snprintf(www, wsize, "%s", x.www_auth);
        return (int) code;
}

/* GET realm?service=&scope= (with the Basic credential when we have one)
 * and keeps the token. */
static int fetch_token(registry_client *c, const registry_challenge *ch, registry_error *err) {
        CURL *h = curl_easy_init();
        if (!h)
                return -ENOMEM;
        char *svc = curl_easy_escape(h, ch->service, 0), *scope = curl_easy_escape(h, c->scope, 0);
        _cleanup_free_ char *url = NULL;
        int k = asprintf(&url, "%s%sservice=%s&scope=%s%s", ch->realm, strchr(ch->realm, '?') ? "&" : "?",
                         svc ? svc : "", scope ? scope : "", c->more_scopes);
        curl_free(svc);
        curl_free(scope);
        if (k < 0) {
                curl_easy_cleanup(h);
                return -ENOMEM;
        }
        registry_req q = { .method = "GET", .path = url };
        registry_membuf m = { .max = 1 << 20 };
        xfer x = { .h = h, .q = &q };
        registry_resp resp = { 0 };
        x.resp = &resp;
        q.sink = registry_membuf_sink;
        q.sink_ud = &m;
        curl_easy_setopt(h, CURLOPT_URL, url);
        struct curl_slist *hdrs = NULL;
        char line[2048];
        if (c->auth) {
                snprintf(line, sizeof(line), "Authorization: Basic %s", c->auth);
                hdrs = curl_slist_append(hdrs, line);
                explicit_bzero(line, sizeof(line));
        }
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        CURLcode rc = curl_easy_perform(h);
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        curl_slist_free_all(hdrs);
        curl_easy_cleanup(h);
        int r = 0;
        if (rc != CURLE_OK)
                r = transport_errno(rc, "token", err);
        else if (code == 401 || code == 403) {
                snprintf(err->message, sizeof(err->message), "the token server refused %s (HTTP %ld)%s", c->scope, code,
                         c->auth ? "" : ": no credentials for this registry (--registry-auth)");
                r = -EACCES;
        } else if (code != 200) {
                snprintf(err->message, sizeof(err->message), "the token server answered HTTP %ld", code);
                r = -EIO;
        }
        json_t *j = r < 0 ? NULL : json_loadb((const char *) m.data, m.len, 0, NULL);
        const char *tok = json_string_value(json_object_get(j, "token"));
        if (!tok)
                tok = json_string_value(json_object_get(j, "access_token"));
        if (r >= 0 && !tok) {
                snprintf(err->message, sizeof(err->message), "the token server's answer holds no token");
                r = -EIO;
        }
        if (r >= 0) {
                char *t = strdup(tok);
                pthread_mutex_lock(&c->lock);
                free_secret(c->token);
                c->token = t;
                pthread_mutex_unlock(&c->lock);
                r = t ? 0 : -ENOMEM;
        }
        json_decref(j);
        if (m.data)
                explicit_bzero(m.data, m.len);
        free(m.data);
        return r;
}

/* After a 401: sets up what the challenge asks. 1: retry; 0: nothing to do. */
static int answer_challenge(registry_client *c, const char *www, registry_error *err) {
        registry_challenge ch;
        if (!www[0] || registry_challenge_parse(www, &ch) < 0)
                return 0;
        if (ch.scheme == REGISTRY_AUTH_BASIC) {
                /* once more with the credential (another thread may have
                 * turned it on meanwhile: retry all the same) */
                if (!c->auth)
                        return 0;
                pthread_mutex_lock(&c->lock);
                c->basic = true;
                pthread_mutex_unlock(&c->lock);
                return 1;
        }
        int r = fetch_token(c, &ch, err);
        return r < 0 ? r : 1;
}

int registry_request(registry_client *c, const registry_req *q, registry_resp *ret, registry_error *err) {
        char www[2048];
        int r = perform(c, q, ret, www, sizeof(www), err);
        if (r != 401)
                return r;
        int a = answer_challenge(c, www, err);
        if (a < 0)
                return a;
        return a ? perform(c, q, ret, www, sizeof(www), err) : r;
}

int registry_status_errno(const registry_resp *resp, const char *what, registry_error *err) {
        long s = resp->status;
        if (s >= 200 && s < 300)
                return 0;
        snprintf(err->message, sizeof(err->message), "%s: HTTP %ld%s%s", what, s, resp->message[0] ? " " : "",
                 resp->message);
        if (s == 401 || s == 403)
                return -EACCES;
        if (s == 404)
                return -ENOENT;
        if (s == 416)
                return -ERANGE;
        return -EIO;
}
