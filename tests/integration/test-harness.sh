#!/usr/bin/env bash
# The test stack itself: private containerd, image, memhog, checkpoint/restore
# round trip, the lib.sh TAP + mount helpers (against tests/fixtures/stubfs.c,
# a stand-in for ckptfs), and a teardown that leaves nothing behind, also for
# tests killed by a timeout.
. "$(dirname "$0")/lib.sh"

ms() { _tenv_now_ms; }

# ---------------------------------------------------------------- containerd + image
out=$(tenv_ctr version 2>&1)
ok $? "containerd answers on $CKPTFS_TEST_ADDR"
like "$out" "Server:.*Version: *v?1\.[0-9]" "ctr version shows the server"
ok "tenv_ctr images ls -q | grep -qxF '$CKPTFS_TEST_IMAGE'" "image $CKPTFS_TEST_IMAGE imported"
like "$CKPTFS_TEST_ADDR" "^/.{1,100}$" "socket path is absolute and short"

# ---------------------------------------------------------------- memhog
id=$(tenv_uid harness)
run_ok "tenv_run $id memhog 16" tenv_run "$id" memhog 16
is "$(tenv_task_status "$id")" RUNNING "ctr task ls shows it RUNNING"
pid=$(tenv_task_pid "$id")
like "$pid" '^[1-9][0-9]*$' "ctr task ls shows a pid ($pid)"
is "$(tenv_freezer_state "$CKPTFS_TEST_NS" "$id")" THAWED "freezer cgroup at /sys/fs/cgroup/freezer/NS/ID is THAWED"
wait_for 15 count_at_least "$id" 1
c1=$(count_of "$id")
wait_for 5 count_at_least "$id" $((c1 + 1))
c2=$(count_of "$id")
ok "[ '$c2' -gt '$c1' ]" "counter increments ($c1 -> $c2)"
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
ok "[ '${rss:-0}' -ge 16384 ]" "memhog holds its 16 MiB (VmRSS ${rss:-?} kB)"
is "$(tenv_exec "$id" cat /tmp/count | tr -d '\n' | grep -c '^[0-9]')" 1 "ctr task exec works in the image (busybox cat)"

# ---------------------------------------------------------------- checkpoint / restore
wait_for 10 count_at_least "$id" 3
ref=ckptfs-harness/$id:1
c_ckpt=$(count_of "$id")   # before: the counter goes on after the dump
t0=$(ms)
run_ok "ctr c checkpoint --task --rw" tenv_ctr containers checkpoint --task --rw "$id" "$ref"
t_ckpt=$(($(ms) - t0))
is "$(tenv_task_status "$id")" RUNNING "task keeps running after the checkpoint"
index=$(image_digest "$ref")
like "$index" '^sha256:[0-9a-f]{64}$' "checkpoint image $ref exists ($index)"
like "$(criu_blob "$index")" '^sha256:' "checkpoint index has a CRIU tar descriptor"
npat=$(memhog_records "$index")
ok "[ '${npat:-0}' -ge $((16 * 256 * 256)) ]" "CRIU pages hold memhog's pattern ($npat records of 16 B)"

tenv_ctr tasks kill -s SIGKILL "$id" >/dev/null 2>&1
tenv_wait_status "$id" STOPPED 10
run_ok "task deleted" tenv_ctr tasks rm "$id"
run_ok "container deleted" tenv_ctr containers rm "$id"
is "$(tenv_ctr containers ls -q | grep -cx "$id")" 0 "container is gone"

t0=$(ms)
run_ok "ctr c restore --live --rw" tenv_ctr containers restore --live --rw "$id" "$ref"
t_rest=$(($(ms) - t0))
is "$(tenv_task_status "$id")" RUNNING "restored task is RUNNING"
c_rest=$(count_of "$id")
ok "[ '${c_rest:-0}' -ge '$c_ckpt' ]" "restored counter continues (at checkpoint $c_ckpt, after restore $c_rest)"
wait_for 5 count_at_least "$id" $((c_rest + 1))
ok $? "restored counter keeps incrementing ($(count_of "$id"))"
ls "$CKPTFS_TEST_DIR"/tmp/ctrd-checkpoint* >/dev/null 2>&1
ok $? "restore's ctrd-checkpoint dir lands in the env's tmp/ (containerd#10166)"
diag "checkpoint ${t_ckpt} ms, restore ${t_rest} ms (16 MiB memhog); $(cat "$TENV_DIR/timings")"

# ---------------------------------------------------------------- TAP + mount helpers
STUBFS=$(lib_helper stubfs)
ok $? "stubfs (stand-in for ckptfs) built"
real_ckptfs=$CKPTFS
CKPTFS=$STUBFS
mnt=$TENV_DIR/mnt1
ckptfs_mount "$mnt" --namespace "$CKPTFS_TEST_NS"
ok $? "ckptfs_mount mounts (stubfs)"
is "$("$FSOP" readdir "$mnt" | sort | tr '\n' ' ')" "dir hello " "readdir through the mount"
is "$(cat "$mnt/hello")" "hello from stubfs" "read through the mount"
fails_with EROFS "$FSOP" write "$mnt/hello" x
fails_with -m "shell redirection reports EROFS by strerror text" EROFS sh -c "echo x > $mnt/hello"
fails_with ENOENT "$FSOP" stat "$mnt/nope"
ckptfs_umount "$mnt"
ok "! _lib_mounted '$mnt'" "unmounted"

out=$(fails_with EROFS true; fails_with ENOENT "$FSOP" write "$TENV_DIR" y; fails_with EBOGUS false)
is "$(grep -c '^not ok' <<<"$out")" 3 "fails_with rejects success, a wrong errno and an unknown name"
out=$(is a b "x"; like abc '^b' "y"; ok 1 "z"; ok '[ 1 = 2 ]' "w"; run_ok "v" false)
is "$(grep -c '^not ok' <<<"$out")" 5 "is/like/ok/run_ok report failures"
out=$(STUBFS_FAKE_REPORT=1 ckptfs_mount "$TENV_DIR/mnt2" && ckptfs_umount "$TENV_DIR/mnt2")
like "$out" "not ok [0-9]+ - ckptfs on" "ckptfs_umount fails on a sanitizer report in the log"
out=$(STUBFS_EXIT_STATUS=3 ckptfs_mount "$TENV_DIR/mnt3" && ckptfs_umount "$TENV_DIR/mnt3")
like "$out" "not ok [0-9]+ - ckptfs on.*exit status: 3" "ckptfs_umount fails on a non-zero exit status"
ckptfs_mount "$TENV_DIR/mnt5" && ckptfs_umount --signal TERM "$TENV_DIR/mnt5"
ckptfs_mount "$TENV_DIR/mnt6" && kill -TERM "$CKPTFS_PID" && wait "$CKPTFS_PID"
ok $? "a test may end the daemon itself (the exit trap then only checks its log)"
CKPTFS=$TENV_DIR/no-such-binary
ckptfs_mount "$TENV_DIR/mnt4" >/dev/null
ok "[ $? != 0 ]" "ckptfs_mount fails when the binary is missing"
CKPTFS=$real_ckptfs

# ---------------------------------------------------------------- teardown
# Leave a mess: a FROZEN (paused) task, a running one, a restored one (above),
# a FUSE mount under the env whose daemon is stopped (hung), a stale
# ctrd-checkpoint dir; then tear down in a subshell and look for leftovers.
idp=$(tenv_uid harness-paused)
tenv_run "$idp" sleep 1000 && tenv_ctr tasks pause "$idp"
is "$(tenv_freezer_state "$CKPTFS_TEST_NS" "$idp")" FROZEN "paused task is FROZEN"
mkdir -p "$TENV_DIR/hung"
"$STUBFS" -f "$TENV_DIR/hung" </dev/null >/dev/null 2>&1 &
hung=$!
echo $hung >"$TENV_DIR/pids/hung.pid"
wait_for 10 _lib_mounted "$TENV_DIR/hung" fuse
ok $? "hung FUSE mount set up"
kill -STOP $hung
cpid=$CKPTFS_TEST_CONTAINERD_PID
shims=$(for p in $(_tenv_pids_with -x "$CKPTFS_TEST_ADDR"); do _tenv_cmdline_has "$p" containerd-shim && echo "$p"; done)
ok "[ -n '$shims' ]" "shims of this env found: $(echo $shims)"
tasks_pids=$(for t in $id $idp; do tenv_task_pid "$t"; done)
env_dir=$TENV_DIR ns=$CKPTFS_TEST_NS
t0=$(ms)
(tenv_stop "$env_dir")
ok $? "tenv_stop in a subshell succeeds ($(($(ms) - t0)) ms)"
wait "$hung" 2>/dev/null
ok "_tenv_pid_gone $cpid" "containerd $cpid is gone"
left=""
for p in $shims $tasks_pids $hung; do _tenv_pid_gone "$p" || left="$left $p"; done
is "$left" "" "no shim, task or FUSE daemon process remains"
is "$(grep -c " $env_dir[/ ]" /proc/self/mountinfo)" 0 "no mount remains under $env_dir"
is "$(ls -d /sys/fs/cgroup/*/"$ns" 2>/dev/null | wc -l)" 0 "no cgroup of namespace $ns remains"
ok "[ ! -e /run/containerd/runc/$ns ]" "no runc state of $ns remains"
ok "[ ! -e '$env_dir' ]" "$env_dir removed"
left=$(_tenv_pids_with "$env_dir")
is "$(echo $left)" "" "no process mentions $env_dir"

# ---------------------------------------------------------------- killed tests
# A test killed the way meson does on timeout (SIGTERM to its process group,
# SIGKILL 0.5 s later) still gets torn down (detached teardown); one killed
# outright is reaped by the next test's tenv_reap_stale.
child=$(mktemp /tmp/ckt-child.XXXXXX)
cat >"$child" <<EOF
. "$LIB_DIR/lib.sh"
echo "\$TENV_DIR \$CKPTFS_TEST_CONTAINERD_PID \$CKPTFS_TEST_NS" >"\$1"
tenv_run "\$(tenv_uid harness-child)" memhog 1 && tenv_ctr tasks ls >"\$1.tasks"
sleep 600 &
wait
EOF
check_gone() { # INFO: dir, containerd and cgroups of that env are all gone
  local dir cp ns
  read -r dir cp ns <"$1" || return 1
  [ ! -e "$dir" ] && _tenv_pid_gone "$cp" && ! ls -d /sys/fs/cgroup/*/"$ns" >/dev/null 2>&1
}
for how in meson-timeout sigkill; do
  info=$child.$how
  unset TENV_OWNER_PID
  setsid bash "$child" "$info" </dev/null >"$info.log" 2>&1 &
  cpg=$!
  wait_for 60 test -s "$info.tasks"
  ok $? "$how: child test started its env and a container"
  if [ $how = meson-timeout ]; then
    kill -TERM -- -$cpg 2>/dev/null
    sleep 0.5
    kill -KILL -- -$cpg 2>/dev/null
  else
    kill -KILL -- -$cpg 2>/dev/null
    wait $cpg 2>/dev/null
    tenv_reap_stale /tmp 2>/dev/null
  fi
  wait $cpg 2>/dev/null
  wait_for 40 check_gone "$info"
  ok $? "$how: its env, containerd and cgroups are gone"
  rm -f "$info" "$info.tasks" "$info.log"
done
rm -f "$child"

done_testing
