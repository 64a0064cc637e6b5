#!/usr/bin/env bash
# A container with a stopped process (SIGSTOP) on a host that freezes with the
# cgroup v1 freezer: CRIU would hang seizing the frozen stopped process (ctr c
# checkpoint --task hangs until its deadline here, and leaves the task
# UNKNOWN). Through the mount the checkpoint is refused at once with EDEADLK
# and a message naming the pid, nothing frozen; once the process is continued
# the checkpoint goes through.
. "$(dirname "$0")/lib.sh"
require_ckptfs
[ -d /sys/fs/cgroup/freezer ] && [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ] ||
  skip_all "no cgroup v1 freezer on this host: stopped processes do not hang CRIU"

mnt=$TENV_DIR/mnt
ns=$CKPTFS_TEST_NS
id=$(tenv_uid stp)
tenv_run "$id" sh -c 'sleep 1000 & echo $! > /tmp/stopped; kill -STOP $!; while :; do sleep 1; done'
ok "wait_for 10 tenv_cat $id /tmp/stopped" "the container has a stopped child"
ckptfs_mount "$mnt" --namespace "$ns" || bail_out "mount failed"
c=$mnt/$ns/containers/$id

host_pid=""
for p in $(tenv_ctr tasks ps "$id" | awk 'NR > 1 { print $1 }'); do
  [ "$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null)" = T ] && host_pid=$p
done
ok '[ -n "$host_pid" ]' "the stopped child's host pid ($host_pid)"

t0=$(date +%s%N)
fails_with EDEADLK "$FSOP" write "$c/checkpoint" task
ms=$((($(date +%s%N) - t0) / 1000000))
ok "[ $ms -lt 10000 ]" "refused at once, not after CRIU's hang ($ms ms)"
rep=$(cat "$c/checkpoint")
is "$(field result "$rep")" failed "cat checkpoint: result failed"
is "$(field error "$rep")" "EDEADLK (Resource deadlock avoided)" "cat checkpoint: the errno"
like "$rep" "process $host_pid of $id is stopped \\(state T\\)" "the message names the stopped pid"
like "$rep" "kill -CONT $host_pid" "the message says how to go on"
is "$(tenv_task_status "$id")" RUNNING "task still RUNNING"
is "$(freezer "$id")" THAWED "freezer THAWED"
is "$(tenv_ctr images ls -q | grep -c "checkpoint/$id")" 0 "no image created"

echo rw > "$c/checkpoint"
ok $? "the rw part alone (no task dump) still works"

kill -CONT "$host_pid"
echo "name=containerd.io/checkpoint/$id:cont" > "$c/checkpoint"
ok $? "after kill -CONT the checkpoint goes through"
is "$(field result "$(cat "$c/checkpoint")")" ok "cat checkpoint: result ok"

ckptfs_umount "$mnt"
done_testing
