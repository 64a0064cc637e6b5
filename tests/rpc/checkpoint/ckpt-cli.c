/* ckpt-cli: drives the checkpoint operation of rpc/ from the shell, for the
 * live tests and the benchmark (the mount's control file does the same).
 *
 *   ckpt-cli [--address SOCK] [--ns NS] take ID [WORD...]
 *       one checkpoint; prints the report; exit 0, or 1 with
 *       "error: ENAME" on stderr
 *   ckpt-cli [...] parallel ID... [-- WORD...]
 *       one checkpoint per container at once (one registry, one thread
 *       each); prints "ID ok NAME" / "ID ENAME" lines; exit 0 iff all ok
 *   ckpt-cli [...] busy ID [WORD...]
 *       two takes of ID on one registry, the second started while the first
 *       runs; prints the outcome of each ("first ok", "second EBUSY")
 *   ckpt-cli [...] delete NAME
 *   ckpt-cli parse ID [WORD...]    prints the parse result or the message
 *   ckpt-cli watch-freezer FILE
 *       polls a cgroup v1 freezer.state every 2 ms until SIGTERM/SIGINT,
 *       then prints "span_ms=S frozen_ms=T intervals=N first_ms=A last_ms=B
 *       still_frozen=0|1". A/B: wall-clock ms of the first freeze and the
 *       last thaw; S = B - A, the frozen window; T: the time seen FREEZING
 *       or FROZEN. S > T when CRIU dumps a paused task: it thaws the cgroup
 *       while it holds the tasks stopped under ptrace, and freezes it again
 *       before it lets go, so the task never runs in between.
 */
#include "errname.h"
#include "checkpoint.h"
#include "checkpoint-request.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char *join(char **words, int n) {
        size_t len = 1;
        for (int i = 0; i < n; i++)
                len += strlen(words[i]) + 1;
        char *s = calloc(1, len);
        if (!s)
                abort();
        for (int i = 0; i < n; i++) {
                if (i)
                        strcat(s, " ");
                strcat(s, words[i]);
        }
        return s;
}

typedef struct job {
        ckpt_registry *reg;
        rpc_client *c;
        const char *ns, *id, *line;
        int r;
        char *name;
        char *msg;
} job;

static void *run_job(void *p) {
        job *j = p;
        ckpt_request *req = NULL;
        j->r = ckpt_request_parse(j->line, strlen(j->line), j->id, &req, &j->msg);
        if (j->r < 0) {
                ckpt_registry_note_error(j->reg, j->ns, j->id, j->msg ? j->msg : "?");
                return NULL;
        }
        j->r = ckpt_take(j->reg, j->c, j->ns, j->id, req, &j->name);
        ckpt_request_free(req);
        return NULL;
}

static int print_report(ckpt_registry *reg, const char *ns, const char *id) {
        char *text = NULL;
        if (ckpt_registry_last_report(reg, ns, id, &text) == 0) {
                fputs(text, stdout);
                free(text);
        }
        if (ckpt_registry_status_lines(reg, ns, id, &text) == 0) {
                printf("status: %s", text);
                free(text);
        }
        return 0;
}

static void sleep_ms(long ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
}

static volatile sig_atomic_t stop_watch;
static void on_stop(int sig) { (void) sig; stop_watch = 1; }

static long long now_ms(clockid_t clk) {
        struct timespec ts;
        clock_gettime(clk, &ts);
        return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* From outside, as a user would see it: how long was the task frozen? */
static int watch_freezer(const char *file) {
        struct sigaction sa = { .sa_handler = on_stop };
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        long long frozen_total = 0, since = -1, first = -1, last = -1, first_mono = -1, last_mono = -1;
        int intervals = 0;
        while (!stop_watch) {
                char buf[32] = "";
                int fd = open(file, O_RDONLY | O_CLOEXEC);
                if (fd >= 0) {
                        ssize_t n = read(fd, buf, sizeof(buf) - 1);
                        buf[n > 0 ? n : 0] = 0;
                        close(fd);
                }
                long long t = now_ms(CLOCK_MONOTONIC), wall = now_ms(CLOCK_REALTIME);
                bool frozen = strncmp(buf, "FROZEN", 6) == 0 || strncmp(buf, "FREEZING", 8) == 0;
                if (frozen && since < 0) {
                        since = t;
                        intervals++;
                        if (first < 0) {
                                first = wall;
                                first_mono = t;
                        }
                } else if (!frozen && since >= 0) {
                        frozen_total += t - since;
                        since = -1;
                        last = wall;
                        last_mono = t;
                }
                sleep_ms(2);
        }
        if (since >= 0)
                frozen_total += now_ms(CLOCK_MONOTONIC) - since;   /* still frozen */
        printf("span_ms=%lld frozen_ms=%lld intervals=%d first_ms=%lld last_ms=%lld still_frozen=%d\n",
               first_mono >= 0 && last_mono >= 0 ? last_mono - first_mono : -1, frozen_total, intervals, first, last,
               since >= 0);
        return 0;
}

int main(int argc, char **argv) {
        /* Before the first client (rpc.h): reconnects within ~1 s. */
        setenv("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS", "100", 0);
        const char *address = getenv("CKPTFS_TEST_ADDR"), *ns = getenv("CKPTFS_TEST_NS");
        int i = 1;
        for (; i + 1 < argc && argv[i][0] == '-' && argv[i][1] == '-'; i += 2) {
                if (strcmp(argv[i], "--address") == 0)
                        address = argv[i + 1];
                else if (strcmp(argv[i], "--ns") == 0)
                        ns = argv[i + 1];
                else
                        break;
        }
        if (i + 1 >= argc) {
                fprintf(stderr, "usage: ckpt-cli [--address SOCK] [--ns NS] take|parallel|busy|delete|parse ...\n");
                return 64;
        }
        const char *cmd = argv[i++];
        if (strcmp(cmd, "watch-freezer") == 0)
                return watch_freezer(argv[i]);
        if (strcmp(cmd, "parse") == 0) {
                const char *id = argv[i++];
                char *line = join(argv + i, argc - i), *msg = NULL;
                ckpt_request *req = NULL;
                int r = ckpt_request_parse(line, strlen(line), id, &req, &msg);
                if (r < 0)
                        printf("%s: %s\n", errno_name(-r), msg ? msg : "?");
                else
                        printf("parts=%u explicit=%d name=%s\n", req->parts, req->parts_explicit,
                               req->name ? req->name : "(none)");
                free(msg);
                free(line);
                ckpt_request_free(req);
                return r < 0 ? 1 : 0;
        }
        if (!address || !ns) {
                fprintf(stderr, "ckpt-cli: --address and --ns (or CKPTFS_TEST_ADDR/NS) needed\n");
                return 64;
        }
        rpc_client *c = NULL;
        ckpt_registry *reg = NULL;
        if (rpc_client_new(address, 0, &c) < 0 || ckpt_registry_new(&reg) < 0) {
                fprintf(stderr, "ckpt-cli: cannot set up\n");
                return 70;
        }
        const char *work_dir = getenv("CKPTFS_WORK_DIR");
        if (work_dir && work_dir[0] == '/')
                (void) ckpt_registry_set_work_dir(reg, work_dir);
        const char *upload = getenv("CKPTFS_CHECKPOINT_UPLOAD");
        if (upload && strcmp(upload, "stream") == 0)
                (void) ckpt_registry_set_upload_mode(reg, CKPT_UPLOAD_STREAM);
        int status = 0;
        if (strcmp(cmd, "take") == 0) {
                char *line = join(argv + i + 1, argc - i - 1);
                job j = { .reg = reg, .c = c, .ns = ns, .id = argv[i], .line = line };
                run_job(&j);
                print_report(reg, ns, j.id);
                if (j.r < 0) {
                        fprintf(stderr, "error: %s\n", errno_name(-j.r));
                        status = 1;
                } else
                        printf("created: %s\n", j.name ? j.name : "(no image)");
                free(j.name);
                free(j.msg);
                free(line);
        } else if (strcmp(cmd, "parallel") == 0) {
                int n = 0;
                while (i + n < argc && strcmp(argv[i + n], "--") != 0)
                        n++;
                char *line = i + n < argc ? join(argv + i + n + 1, argc - i - n - 1) : strdup("");
                job *jobs = calloc((size_t) n, sizeof(job));
                pthread_t *th = calloc((size_t) n, sizeof(pthread_t));
                for (int k = 0; k < n; k++) {
                        jobs[k] = (job) { .reg = reg, .c = c, .ns = ns, .id = argv[i + k], .line = line };
                        pthread_create(&th[k], NULL, run_job, &jobs[k]);
                }
                for (int k = 0; k < n; k++) {
                        pthread_join(th[k], NULL);
                        printf("%s %s %s\n", jobs[k].id, errno_name(-jobs[k].r), jobs[k].name ? jobs[k].name : "");
                        if (jobs[k].r < 0) {
                                print_report(reg, ns, jobs[k].id);
                                status = 1;
                        }
                        free(jobs[k].name);
                        free(jobs[k].msg);
                }
                free(jobs);
                free(th);
                free(line);
        } else if (strcmp(cmd, "busy") == 0) {
                char *line = join(argv + i + 1, argc - i - 1);
                job a = { .reg = reg, .c = c, .ns = ns, .id = argv[i], .line = line }, b = a;
                pthread_t ta;
                pthread_create(&ta, NULL, run_job, &a);
                /* Start the second once the first is registered as running. */
                for (int k = 0; k < 2000; k++) {
                        char *s = NULL;
                        bool running = ckpt_registry_status_lines(reg, ns, a.id, &s) == 0 &&
                                       strstr(s, "checkpoint: running");
                        free(s);
                        if (running)
                                break;
                        sleep_ms(1);
                }
                run_job(&b);
                pthread_join(ta, NULL);
                printf("first %s\nsecond %s\n", errno_name(-a.r), errno_name(-b.r));
                free(a.name);
                free(a.msg);
                free(b.name);
                free(b.msg);
                free(line);
        } else if (strcmp(cmd, "delete") == 0) {
                rpc_error err = { 0 };
                int r = ckpt_delete_image(c, ns, argv[i], &err);
                printf("%s%s%s\n", errno_name(-r), r < 0 ? ": " : "", r < 0 ? err.message : "");
                status = r < 0;
        } else {
                fprintf(stderr, "ckpt-cli: unknown command %s\n", cmd);
                status = 64;
        }
        ckpt_registry_free(reg);
        rpc_client_free(c);
        return status;
}
