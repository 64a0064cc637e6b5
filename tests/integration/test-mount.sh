#!/usr/bin/env bash
# The read-only mount: the tree against `ctr`, exact sizes, stable
# inodes, EROFS/ENOENT, changes within 2 s, containerd going away and coming
# back, clean unmount and SIGTERM.
. "$(dirname "$0")/lib.sh"
require_ckptfs

mnt=$TENV_DIR/mnt
mkdir -p "$mnt"
ns=$CKPTFS_TEST_NS

# --- before any mount: usage and an unreachable daemon
run_ok "--help exits 0" "$CKPTFS" --help
like "$("$CKPTFS" --version)" '^ckptfs [0-9]' "--version prints the version"
err=$("$CKPTFS" --address "$TENV_DIR/nope.sock" -f "$mnt" 2>&1)
st=$?
isnt "$st" 0 "unreachable containerd: non-zero exit"
is "$(printf '%s\n' "$err" | wc -l)" 1 "unreachable containerd: a one-line error"
like "$err" "nope\.sock" "the error names the socket"
ok '! _lib_mounted "$mnt"' "no mount left behind"

# --- containers: one running, one without a task
run_id=$(tenv_uid mnt-run)
tenv_run "$run_id" memhog 4
run2_id=$(tenv_uid mnt-run2)
tenv_run "$run2_id" memhog 4
idle_id=$(tenv_uid mnt-idle)
tenv_ctr containers create "$CKPTFS_TEST_IMAGE" "$idle_id" sleep 1000 >/dev/null
ok $? "created a container without a task"

ckptfs_mount "$mnt" --namespace "$ns" || bail_out "mount failed"
c=$mnt/$ns/containers

is "$(stat -c %a "$mnt")" 700 "the top is private to root (0700)"
is "$(ls "$mnt")" "$ns" "--namespace shows just that namespace"
is "$(ls "$c" | sort)" "$(tenv_ctr containers ls -q | sort)" "container ids equal ctr c ls"
is "$(sed -n 's/^state: //p' "$c/$run_id/status")" running "running task: state: running"
is "$(sed -n 's/^pid: //p' "$c/$run_id/status")" "$(tenv_task_pid "$run_id")" "pid equals ctr task ls"
is "$(cat "$c/$idle_id/status")" "state: none" "no task: state: none"
is "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["image"])' "$c/$run_id/container.json")" \
   "$(tenv_ctr containers info "$run_id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Image"])')" \
   "container.json image equals ctr c info"
is "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["runtime"]["name"], d["snapshotter"], d["spec"]["process"]["args"][0])' "$c/$run_id/container.json")" \
   "io.containerd.runc.v2 overlayfs memhog" "container.json: runtime, snapshotter, spec"
for f in status container.json; do
  is "$(stat -c %s "$c/$run_id/$f")" "$(cat "$c/$run_id/$f" | wc -c)" "exact st_size of $f"
done

# --- read-only tree, unknown names
fails_with EROFS touch "$c/newfile"
fails_with EROFS mkdir "$c/newdir"
fails_with EROFS rm -f "$c/$run_id/status"
fails_with EROFS sh -c "echo x > '$c/$run_id/status'"
fails_with EROFS mv "$c/$run_id/status" "$c/$run_id/s2"
fails_with EROFS ln -s x "$c/$run_id/link"
fails_with EROFS chmod 777 "$c/$run_id/status"
fails_with EROFS rmdir "$c/$run_id"
fails_with ENOENT stat "$c/no-such-container"
fails_with ENOENT cat "$c/$run_id/no-such-file"
fails_with ENOENT ls "$mnt/no-such-namespace"

# --- stable inode numbers (and across remounts, below)
ino_before=$(stat -c %i "$c/$run_id/status" "$c/$run_id" "$c")
is "$(stat -c %i "$c/$run_id/status" "$c/$run_id" "$c")" "$ino_before" "inode numbers stable within a mount"

# --- changes show within 2 s
new_id=$(tenv_uid mnt-new)
tenv_ctr containers create "$CKPTFS_TEST_IMAGE" "$new_id" sleep 1000 >/dev/null
ok 'wait_for 2 test -d "$c/$new_id"' "a new container shows within 2 s"
tenv_ctr containers rm "$new_id" >/dev/null
ok 'wait_for 2 test ! -e "$c/$new_id"' "a removed container goes within 2 s"
tenv_ctr tasks kill -s SIGKILL "$run_id" >/dev/null
ok 'wait_for 2 grep -qx "state: stopped" "$c/$run_id/status"' "a task state change shows within 2 s"
like "$(cat "$c/$run_id/status")" "exit_status: 137" "stopped task: exit status"

# --- task and container events (Events.Subscribe on /tasks/ and /containers/)
# drop what the live view cached (700 ms) and what the kernel cached (1 s):
# each change shows at once, not at the end of a cache timeout.
# ms_until CMD...: milliseconds until CMD succeeds (empty after 2 s).
ms_until() { local t0; t0=$(_tenv_now_ms); wait_for 2 "$@" && echo $(($(_tenv_now_ms) - t0)); }
events_flow() {
  local id t
  cat "$c/$run2_id/status" >/dev/null   # now cached
  tenv_ctr tasks pause "$run2_id" >/dev/null
  t=$(ms_until grep -qx "state: paused" "$c/$run2_id/status")
  ok "[ -n '$t' ] && [ '$t' -lt 500 ]" "$1ctr task pause: status says paused at once (${t:-no} ms)"
  cat "$c/$run2_id/status" >/dev/null
  tenv_ctr tasks resume "$run2_id" >/dev/null
  t=$(ms_until grep -qx "state: running" "$c/$run2_id/status")
  ok "[ -n '$t' ] && [ '$t' -lt 500 ]" "$1ctr task resume: status says running at once (${t:-no} ms)"
  id=$(tenv_uid mnt-ev)
  ls "$c" >/dev/null
  tenv_ctr containers create "$CKPTFS_TEST_IMAGE" "$id" sleep 1000 >/dev/null
  t=$(ms_until test -d "$c/$id")
  ok "[ -n '$t' ] && [ '$t' -lt 500 ]" "$1ctr c create: the directory appears at once (${t:-no} ms)"
  stat "$c/$id" "$c/$id/status" >/dev/null   # the kernel holds the entries
  tenv_ctr containers rm "$id" >/dev/null
  t=$(ms_until test ! -e "$c/$id")
  ok "[ -n '$t' ] && [ '$t' -lt 500 ]" "$1ctr c rm: the directory goes at once (${t:-no} ms)"
}
events_flow ""

# --- containerd goes away, then comes back
tenv_daemon_kill KILL
sleep 1.5   # let cached entries expire
t0=$(_tenv_now_ms)
fails_with ENOTCONN ls "$c"
fails_with ENOTCONN cat "$c/$idle_id/status"
t1=$(_tenv_now_ms)
ok "[ $((t1 - t0)) -lt 10000 ]" "calls fail fast while containerd is down ($((t1 - t0)) ms, deadline 10 s)"

tenv_daemon_start
ok $? "containerd restarted"
ok 'wait_for 5 grep -qx "state: none" "$c/$idle_id/status"' "the same mount works again without remounting"
# The events thread retries every 300 ms and resubscribes: a task event shows
# at once again.
probe() {
  local i st=1
  cat "$c/$run2_id/status" >/dev/null
  tenv_ctr tasks pause "$run2_id" >/dev/null
  for i in 1 2 3; do
    grep -qx "state: paused" "$c/$run2_id/status" && { st=0; break; }
    sleep 0.1
  done
  tenv_ctr tasks resume "$run2_id" >/dev/null
  wait_for 2 grep -qx "state: running" "$c/$run2_id/status"
  return $st
}
ok 'wait_for 10 probe' "the subscription is back after the restart"
events_flow "after the restart: "

# --- unmount, remount: same inode numbers
ckptfs_umount "$mnt"
ckptfs_mount "$mnt" --namespace "$ns" || bail_out "remount failed"
is "$(stat -c %i "$c/$run_id/status" "$c/$run_id" "$c")" "$ino_before" "inode numbers stable across remounts"

# --- secrets: private to root; with allow_other, still no way into a checkpoint
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
fails_with EACCES as_nobody ls "$mnt"
ao=$TENV_DIR/mnt-ao
mkdir -p "$ao"
chmod 755 "$TENV_DIR"
ckptfs_mount "$ao" --namespace "$ns" -o allow_other || bail_out "allow_other mount failed"
aoc=$ao/$ns/containers
run_ok "a checkpoint for the secrecy checks" mkdir "$aoc/$run2_id/checkpoints/secret"
is "$(stat -c %a "$ao")" 755 "allow_other: the top opens to others"
run_ok "allow_other: others read status" as_nobody cat "$aoc/$run2_id/status"
fails_with EACCES as_nobody cat "$aoc/$run2_id/container.json"
is "$(stat -c %a "$aoc/$run2_id/checkpoints/secret")" 500 "a checkpoint directory is owner-only (0500)"
fails_with EACCES as_nobody ls "$aoc/$run2_id/checkpoints/secret"
fails_with EACCES as_nobody cat "$aoc/$run2_id/checkpoints/secret/task/pages-1.img"
run_ok "the owner reads the memory" sh -c 'cat "$1" >/dev/null' _ "$aoc/$run2_id/checkpoints/secret/task/pages-1.img"
ckptfs_umount "$ao"
chmod 700 "$TENV_DIR"

# --- without -f: the command returns once mounted, the daemon serves on
bg=$TENV_DIR/mnt-bg
mkdir -p "$bg"
"$CKPTFS" --address "$CKPTFS_TEST_ADDR" --namespace "$ns" "$bg"
is "$?" 0 "background mount: exit status 0"
ok '_lib_mounted "$bg"' "background mount: mounted when the command returns"
is "$(ls "$bg/$ns/containers" | sort)" "$(tenv_ctr containers ls -q | sort)" "background mount: serves the tree"
fusermount3 -u "$bg"
ok '! _lib_mounted "$bg"' "background mount: unmounted"

# --- SIGTERM unmounts and leaves nothing behind (exit 0, no sanitizer report)
ckptfs_umount --signal TERM "$mnt"

done_testing
