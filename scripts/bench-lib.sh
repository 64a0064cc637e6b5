# shellcheck shell=bash
# What the benchmarks share: a private containerd (testenv.sh), one ckptfs
# mount, timers and ratios. Source it after setting BENCH (the script's name,
# for messages) and CKPTFS; it starts the env in D=$(mktemp -d /tmp/BENCH.X)
# and tears it down (and the mount) at exit.
#   mount_ckptfs [ARGS...] | umount_ckptfs      MNT=$D/mnt, cache $D/cache.db
#   elapsed CMD...   ms (3 decimals) of CMD, output dropped
#   readtime FILE    ms of open + read of FILE inside one process
#   median | ratio A B | rss_kb PID | report NAME TEXT (kept in results[])
SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(dirname "$SELF_DIR")
. "$SELF_DIR/testenv.sh"
[ -x "$CKPTFS" ] || { echo "$BENCH: no ckptfs at $CKPTFS" >&2; exit 1; }

D=$(mktemp -d "/tmp/$BENCH.XXXXXX")
MNT=$D/mnt
MPID=""
BENCH_CLEANUP=""   # more to do at exit (a command line)
_bench_cleanup() {
  [ -n "$BENCH_CLEANUP" ] && eval "$BENCH_CLEANUP"
  [ -n "$MPID" ] && { fusermount3 -u "$MNT" 2>/dev/null; wait "$MPID" 2>/dev/null; }
  tenv_stop "$D" >/dev/null 2>&1
}
trap _bench_cleanup EXIT
export TENV_OWNER_PID=$$
tenv_start "$D" >"$D.log" 2>&1 || { cat "$D.log"; exit 1; }
rm -f "$D.log"
NS=$CKPTFS_TEST_NS
CONTENT=$D/root/io.containerd.content.v1.content
mkdir -p "$MNT" "$D/work"

now_ns() { date +%s%N; }
elapsed() { local t0 t1; t0=$(now_ns); "$@" >/dev/null 2>&1; t1=$(now_ns); echo "scale=3; ($t1 - $t0) / 1000000" | bc; }
# `elapsed cat` adds two process spawns, ~25-35 ms on a loaded 2-core
# machine, which would swamp a small read.
readtime() {
  python3 -c 'import sys, time
t0 = time.perf_counter()
with open(sys.argv[1], "rb") as f:
    f.read()
print("%.3f" % ((time.perf_counter() - t0) * 1000))' "$1"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { echo "scale=2; $1 / $2" | bc; }
mount_ckptfs() {
  "$CKPTFS" --address "$CKPTFS_TEST_ADDR" --cache "$D/cache.db" "$@" -f "$MNT" >>"$D/ckptfs.log" 2>&1 &
  MPID=$!
  local i
  for i in $(seq 200); do mountpoint -q "$MNT" && return 0; sleep 0.02; done
  echo "$BENCH: mount failed" >&2
  cat "$D/ckptfs.log" >&2
  exit 1
}
umount_ckptfs() { fusermount3 -u "$MNT"; wait "$MPID"; MPID=""; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
results=()
report() { results+=("$(printf '%-8s %s' "$1" "$2")"); echo "$1: $2"; }
