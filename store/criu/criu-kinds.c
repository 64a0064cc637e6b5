/* The image kinds crit knows (lib/pycriu/images/images.py, "handlers"):
 * magic, name, record message, extra payload. */
#include "criu-kinds.h"

#include <stddef.h>
#include <stdint.h>

#include "cleanup.h"
#include "criu_magic.h"
#include "criu_autofs.pb-c.h"
#include "criu_bpfmap_data.pb-c.h"
#include "criu_bpfmap_file.pb-c.h"
#include "criu_cgroup.pb-c.h"
#include "criu_core.pb-c.h"
#include "criu_cpuinfo.pb-c.h"
#include "criu_creds.pb-c.h"
#include "criu_eventfd.pb-c.h"
#include "criu_eventpoll.pb-c.h"
#include "criu_ext_file.pb-c.h"
#include "criu_fdinfo.pb-c.h"
#include "criu_fh.pb-c.h"
#include "criu_fifo.pb-c.h"
#include "criu_file_lock.pb-c.h"
#include "criu_fs.pb-c.h"
#include "criu_ghost_file.pb-c.h"
#include "criu_fsnotify.pb-c.h"
#include "criu_inventory.pb-c.h"
#include "criu_ipc_msg.pb-c.h"
#include "criu_ipc_sem.pb-c.h"
#include "criu_ipc_shm.pb-c.h"
#include "criu_ipc_var.pb-c.h"
#include "criu_memfd.pb-c.h"
#include "criu_mm.pb-c.h"
#include "criu_mnt.pb-c.h"
#include "criu_netdev.pb-c.h"
#include "criu_ns.pb-c.h"
#include "criu_packet_sock.pb-c.h"
#include "criu_pidns.pb-c.h"
#include "criu_pipe.pb-c.h"
#include "criu_pipe_data.pb-c.h"
#include "criu_pstree.pb-c.h"
#include "criu_regfile.pb-c.h"
#include "criu_remap_file_path.pb-c.h"
#include "criu_rlimit.pb-c.h"
#include "criu_sa.pb-c.h"
#include "criu_seccomp.pb-c.h"
#include "criu_signalfd.pb-c.h"
#include "criu_sk_inet.pb-c.h"
#include "criu_sk_netlink.pb-c.h"
#include "criu_sk_packet.pb-c.h"
#include "criu_sk_unix.pb-c.h"
#include "criu_stats.pb-c.h"
#include "criu_tcp_stream.pb-c.h"
#include "criu_timens.pb-c.h"
#include "criu_timer.pb-c.h"
#include "criu_timerfd.pb-c.h"
#include "criu_tty.pb-c.h"
#include "criu_tun.pb-c.h"
#include "criu_userns.pb-c.h"
#include "criu_utsns.pb-c.h"
#include "criu_vma.pb-c.h"
#include "criu_pagemap.pb-c.h"

#define K(name, msg) { #name, name##_MAGIC, &msg##__descriptor, CRIU_EXTRA_NONE, false }
#define KX(name, msg, extra) { #name, name##_MAGIC, &msg##__descriptor, extra, false }
/* Images holding memory, registers or data in flight. */
#define KS(name, msg, extra) { #name, name##_MAGIC, &msg##__descriptor, extra, true }

static const struct criu_kind kinds[] = {
        K(INVENTORY, inventory_entry),
        KS(CORE, core_entry, CRIU_EXTRA_NONE),
        K(IDS, task_kobj_ids_entry),
        K(CREDS, creds_entry),
        K(UTSNS, utsns_entry),
        K(TIMENS, timens_entry),
        K(PIDNS, pidns_entry),
        K(IPC_VAR, ipc_var_entry),
        K(FS, fs_entry),
        KS(MM, mm_entry, CRIU_EXTRA_NONE),
        K(CGROUP, cgroup_entry),
        KS(TCP_STREAM, tcp_stream_entry, CRIU_EXTRA_TCP_STREAM),
        K(STATS, stats_entry),
        K(PSTREE, pstree_entry),
        K(REG_FILES, reg_file_entry),
        K(NS_FILES, ns_file_entry),
        K(EVENTFD_FILE, eventfd_file_entry),
        K(EVENTPOLL_FILE, eventpoll_file_entry),
        K(EVENTPOLL_TFD, eventpoll_tfd_entry),
        K(SIGNALFD, signalfd_entry),
        K(TIMERFD, timerfd_entry),
        K(INOTIFY_FILE, inotify_file_entry),
        K(INOTIFY_WD, inotify_wd_entry),
        K(FANOTIFY_FILE, fanotify_file_entry),
        K(FANOTIFY_MARK, fanotify_mark_entry),
        K(VMAS, vma_entry),
        K(PIPES, pipe_entry),
        K(FIFO, fifo_entry),
        K(SIGACT, sa_entry),
        K(NETLINK_SK, netlink_sk_entry),
        K(REMAP_FPATH, remap_file_path_entry),
        K(MNTS, mnt_entry),
        K(TTY_FILES, tty_file_entry),
        K(TTY_INFO, tty_info_entry),
        K(TTY_DATA, tty_data_entry),
        K(RLIMIT, rlimit_entry),
        K(TUNFILE, tunfile_entry),
        K(EXT_FILES, ext_file_entry),
        K(IRMAP_CACHE, irmap_cache_entry),
        K(FILE_LOCKS, file_lock_entry),
        K(FDINFO, fdinfo_entry),
        K(UNIXSK, unix_sk_entry),
        K(INETSK, inet_sk_entry),
        K(PACKETSK, packet_sock_entry),
        K(ITIMERS, itimer_entry),
        K(POSIX_TIMERS, posix_timer_entry),
        K(NETDEV, net_device_entry),
        KS(PIPES_DATA, pipe_data_entry, CRIU_EXTRA_PIPE_DATA),
        KS(FIFO_DATA, pipe_data_entry, CRIU_EXTRA_PIPE_DATA),
        KS(SK_QUEUES, sk_packet_entry, CRIU_EXTRA_SK_QUEUE),
        KS(IPCNS_SHM, ipc_shm_entry, CRIU_EXTRA_IPC_SHM),
        KS(IPCNS_SEM, ipc_sem_entry, CRIU_EXTRA_UNSUPPORTED),
        KS(IPCNS_MSG, ipc_msg_entry, CRIU_EXTRA_UNSUPPORTED),
        K(NETNS, netns_entry),
        K(USERNS, userns_entry),
        K(SECCOMP, seccomp_entry),
        K(AUTOFS, autofs_entry),
        K(FILES, file_entry),
        K(CPUINFO, cpuinfo_entry),
        K(MEMFD_INODE, memfd_inode_entry),
        K(BPFMAP_FILE, bpfmap_file_entry),
        KS(BPFMAP_DATA, bpfmap_data_entry, CRIU_EXTRA_BPFMAP),
        /* The first record is a pagemap_head, every later one a pagemap_entry. */
        KS(PAGEMAP, pagemap_entry, CRIU_EXTRA_PAGEMAP),
        /* Ghost files hold raw contents or chunks after the entry. */
        KS(GHOST_FILE, ghost_file_entry, CRIU_EXTRA_UNSUPPORTED),
};

const struct criu_kind *criu_kind_by_magic(uint32_t magic) {
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                if (kinds[i].magic == magic)
                        return &kinds[i];
        return NULL;
}

const ProtobufCMessageDescriptor *criu_pagemap_head_descriptor(void) {
        return &pagemap_head__descriptor;
}
