#include "checkpoint-guard.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint-journal.h"
#include "checkpoint-recover.h"
#include "log.h"
#include "monotime.h"
#include "rpc.h"

#define RETRY_EVERY_MS 250
#define RETRY_FOR_MS_DEFAULT (10 * 60 * 1000)

/* The guardian holds nothing of its parent's but the pipe and stdio: no
 * FUSE fd, no lock, no socket that would keep them alive. */
static void close_other_fds(int keep) {
        DIR *d = opendir("/proc/self/fd");
        if (!d)
                return;
        int dfd = dirfd(d);
        for (struct dirent *e; (e = readdir(d));) {
                int fd = atoi(e->d_name);
                if (e->d_name[0] != '.' && fd > STDERR_FILENO && fd != keep && fd != dfd)
                        close(fd);
        }
        closedir(d);
}

static void wait_for_eof(int fd) {
        char buf[64];
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n == 0 || (n < 0 && errno != EINTR))
                        return;
        }
}

/* Whether the journal still holds records of owner. */
static bool jobs_left(const char *dir, pid_t owner) {
        ckpt_job *jobs = NULL;
        size_t n = 0;
        bool left = false;
        if (ckpt_journal_list(dir, &jobs, &n) < 0)
                return true;
        for (size_t i = 0; i < n; i++) {
                left = left || jobs[i].owner == owner;
                ckpt_job_clear(&jobs[i]);
        }
        free(jobs);
        return left;
}

static _Noreturn void guard_main(const ckpt_guard_config *cfg, int fd, pid_t owner) {
        (void) prctl(PR_SET_NAME, "ckptfs-guard");
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        signal(SIGPIPE, SIG_IGN);
        close_other_fds(fd);
        if (cfg->detach) {
                int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
                for (int i = 0; nul >= 0 && i <= STDERR_FILENO; i++)
                        dup2(nul, i);
                if (nul > STDERR_FILENO)
                        close(nul);
                log_setup(LOG_TARGET_SYSLOG, log_max_level(), "ckptfs-guard");
        }
        wait_for_eof(fd);
        if (!jobs_left(cfg->journal_dir, owner))
                _exit(EXIT_SUCCESS);
        rpc_client *c = NULL;
        if (rpc_client_new(cfg->address, cfg->timeout_ms, &c) < 0)
                _exit(EXIT_FAILURE);
        struct timespec t0 = monotime_now();
        long limit = cfg->retry_for_ms > 0 ? (long) cfg->retry_for_ms : RETRY_FOR_MS_DEFAULT;
        /* containerd may be away too (killed with us, restarting): try
         * until it answers, for a bounded time; what is left then is for the
         * next start. */
        for (;;) {
                int r = ckpt_journal_recover(c, cfg->journal_dir, owner);
                if (r > 0)
                        log_info("guardian: process %d died midway; %d checkpoint(s) finished, %ld ms after its end",
                                 (int) owner, r, monotime_ms_since(&t0));
                if (!jobs_left(cfg->journal_dir, owner) || monotime_ms_since(&t0) >= limit)
                        break;
                monotime_sleep_ms(RETRY_EVERY_MS);
        }
        rpc_client_free(c);
        _exit(EXIT_SUCCESS);
}

int ckpt_guard_spawn(const ckpt_guard_config *cfg, int *ret_fd, int *ret_pid) {
        int p[2];
        if (!cfg || !cfg->address || !cfg->journal_dir)
                return -EINVAL;
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid_t owner = getpid();
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(p[0]);
                close(p[1]);
                return r;
        }
        if (pid == 0) {
                close(p[1]);
                guard_main(cfg, p[0], owner);
        }
        close(p[0]);
        *ret_fd = p[1];
        if (ret_pid)
                *ret_pid = pid;
        return 0;
}
