#!/usr/bin/env bash
# `pids` and `metrics.json` of a container directory against ctr and the
# cgroup: the table `ctr tasks ps` prints, byte for byte (exec'd processes
# included); metrics that parse, memory usage within 10% of the cgroup's;
# exact sizes; a stopped task, a container without a task, no container.
. "$(dirname "$0")/lib.sh"
require_ckptfs

mnt=$TENV_DIR/mnt
ns=$CKPTFS_TEST_NS

# Size in stat and the bytes read, from one process (both within the
# live view's cache time, so they describe the same rendering).
size_and_len() {
  python3 -c 'import os,sys; p=sys.argv[1]; s=os.stat(p).st_size; print(s, len(open(p,"rb").read()))' "$1"
}
json_at() { # FILE KEY...: the value at that path of the JSON in FILE
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2:]: d=d[k]
print(d)' "$@"
}
n_lines() { wc -l <"$1"; }

# --- a task with several processes, one exec'd; one stopped; one without a task
run_id=$(tenv_uid ti-run)
tenv_run "$run_id" sh -c 'sleep 1000 & sleep 1000 & exec memhog 8'
ok $? "started a task of three processes"
exec_id=$(tenv_uid x)
tenv_ctr tasks exec -d --exec-id "$exec_id" "$run_id" sleep 1000
ok $? "ctr task exec -d: a fourth process"
wait_for 10 count_at_least "$run_id" 1
ok '[ "$(tenv_ctr tasks ps "$run_id" | wc -l)" = 5 ]' "ctr task ps lists four processes"
stop_id=$(tenv_uid ti-stop)
tenv_run "$stop_id" memhog 1
tenv_ctr tasks kill -s KILL "$stop_id"
tenv_wait_status "$stop_id" STOPPED 10
ok $? "a stopped task"
idle_id=$(tenv_uid ti-idle)
tenv_ctr containers create "$CKPTFS_TEST_IMAGE" "$idle_id" sleep 1000 >/dev/null
ok $? "a container without a task"

ckptfs_mount "$mnt" --namespace "$ns" || bail_out "mount failed"
c=$mnt/$ns/containers
cgpath=$(json_at "$c/$run_id/container.json" spec linux cgroupsPath)
if [ -d /sys/fs/cgroup/memory ]; then   # cgroup v1 (these machines)
  procs=/sys/fs/cgroup/pids$cgpath/cgroup.procs
else
  procs=/sys/fs/cgroup$cgpath/cgroup.procs
fi

like "$(ls "$c/$run_id" | tr '\n' ' ')" '(^| )metrics\.json .*pids ' "the container directory lists metrics.json and pids"
is "$(stat -c %a "$c/$run_id/pids") $(stat -c %a "$c/$run_id/metrics.json")" "444 444" "both are world-readable (0444)"

# --- pids
cat "$c/$run_id/pids" >"$TENV_DIR/pids.txt"
tenv_ctr tasks ps "$run_id" >"$TENV_DIR/ps.txt"
run_ok "pids equals ctr task ps byte for byte" cmp "$TENV_DIR/pids.txt" "$TENV_DIR/ps.txt"
like "$(cat "$TENV_DIR/pids.txt")" "ExecID:$exec_id," "the exec'd process shows its exec id"
is "$(awk 'NR > 1 { print $1 }' "$TENV_DIR/pids.txt" | sort -n | tr '\n' ' ')" \
   "$(sort -n "$procs" | tr '\n' ' ')" \
   "the pids are the cgroup's processes"
read -r size len < <(size_and_len "$c/$run_id/pids")
is "$size" "$len" "exact st_size of pids"
exec2=$(tenv_uid x)
tenv_ctr tasks exec -d --exec-id "$exec2" "$run_id" sleep 1000
ok 'wait_for 2 grep -q "ExecID:$exec2," "$c/$run_id/pids"' "a new exec shows in pids within 2 s"
cat "$c/$run_id/pids" >"$TENV_DIR/pids.txt"
tenv_ctr tasks ps "$run_id" >"$TENV_DIR/ps.txt"
run_ok "... and pids still equals ctr task ps" cmp "$TENV_DIR/pids.txt" "$TENV_DIR/ps.txt"
is "$(n_lines "$TENV_DIR/pids.txt")" 6 "... five processes"

# --- metrics.json
run_ok "metrics.json parses" python3 -m json.tool "$c/$run_id/metrics.json"
cp "$c/$run_id/metrics.json" "$TENV_DIR/metrics.json"
is "$(json_at "$TENV_DIR/metrics.json" id)" "$run_id" "metrics.json: id"
if [ -d /sys/fs/cgroup/memory ]; then
  is "$(json_at "$TENV_DIR/metrics.json" type)" io.containerd.cgroups.v1.Metrics "metrics.json: the cgroup v1 type"
  usage=$(json_at "$TENV_DIR/metrics.json" metrics memory usage usage)
  cg=$(cat "/sys/fs/cgroup/memory$cgpath/memory.usage_in_bytes")
else
  is "$(json_at "$TENV_DIR/metrics.json" type)" io.containerd.cgroups.v2.Metrics "metrics.json: the cgroup v2 type"
  usage=$(json_at "$TENV_DIR/metrics.json" metrics memory usage)
  cg=$(cat "/sys/fs/cgroup$cgpath/memory.current")
fi
ok '[ "$usage" -ge $((8 << 20)) ]' "memory usage holds memhog's 8 MiB ($usage)"
ok '[ $(( (usage - cg) * 100 )) -le $((cg * 10)) ] && [ $(( (cg - usage) * 100 )) -le $((cg * 10)) ]' \
   "memory usage within 10% of the cgroup's ($usage, cgroup $cg)"
like "$(json_at "$TENV_DIR/metrics.json" timestamp)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z$' \
   "metrics.json: an RFC 3339 timestamp"
read -r size len < <(size_and_len "$c/$run_id/metrics.json")
is "$size" "$len" "exact st_size of metrics.json"

# --- a stopped task: ctr prints the header alone
cat "$c/$stop_id/pids" >"$TENV_DIR/pids.txt"
tenv_ctr tasks ps "$stop_id" >"$TENV_DIR/ps.txt"
run_ok "stopped task: pids equals ctr task ps (the header)" cmp "$TENV_DIR/pids.txt" "$TENV_DIR/ps.txt"
is "$(cat "$TENV_DIR/pids.txt")" "PID    INFO" "... which is the header alone"
run_ok "stopped task: metrics.json parses" python3 -m json.tool "$c/$stop_id/metrics.json"

# --- no task: ctr fails, so do the files (ESRCH); they stat empty
ok '! tenv_ctr tasks ps "$idle_id" >/dev/null 2>&1' "no task: ctr task ps fails"
fails_with ESRCH cat "$c/$idle_id/pids"
fails_with ESRCH cat "$c/$idle_id/metrics.json"
is "$(stat -c %s "$c/$idle_id/pids") $(stat -c %s "$c/$idle_id/metrics.json")" "0 0" "no task: both stat empty"
run_ok "no task: ls -l of the directory has no error" sh -c "ls -l '$c/$idle_id' 2>&1 >/dev/null | grep . && exit 1 || exit 0"
is "$(cat "$c/$idle_id/status")" "state: none" "no task: status still says state: none"
fails_with ENOENT cat "$c/no-such-container/pids"
fails_with EROFS sh -c "echo x > '$c/$run_id/pids'"

# --- the task goes: the files follow
tenv_ctr tasks kill -s KILL "$run_id"
tenv_wait_status "$run_id" STOPPED 10
ok 'wait_for 2 grep -qx "PID    INFO" "$c/$run_id/pids"' "killed task: pids is the header within 2 s"
tenv_ctr tasks delete "$run_id" >/dev/null
ok 'wait_for 2 sh -c "! cat \"$c/$run_id/pids\""' "deleted task: pids fails within 2 s"
fails_with ESRCH cat "$c/$run_id/metrics.json"

ckptfs_umount "$mnt"
done_testing
