#!/usr/bin/env bash
# The demo: a memhog container, checkpointed, and ckptfs showing it as files.
#
#   bash scripts/demo.sh [--once] [--system] [--no-deps] [MOUNTPOINT]
#
#   MOUNTPOINT   where to mount ckptfs (default /tmp/ckptfs-demo)
#   --once       show everything, then tear down right away (default: keep the
#                mount until Ctrl-C, then tear down)
#   --system     use the system containerd (/run/containerd/containerd.sock,
#                namespace ckptfs-demo) instead of a private one started with
#                scripts/testenv.sh
#   --no-deps    skip scripts/install-deps.sh
#   CKPTFS_DEMO_BUILDDIR=DIR   build elsewhere than build/
#   CKPTFS_DEMO_BIN=PATH       use this ckptfs binary, do not build
#
# Builds into build/ (meson), runs container ckptfs-demo-XXXXXXXX (memhog 64 MiB,
# its counter in /tmp/count), mounts ckptfs, prints the tree, the container's
# status file next to `ctr task ls`, then takes checkpoints through the mount
# (`echo > checkpoint`, `mkdir checkpoints/demo`) and shows what is inside one.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(dirname "$here")
once=0 system=0 deps=1 mnt=/tmp/ckptfs-demo
while [ $# -gt 0 ]; do
  case "$1" in
    --once) once=1 ;;
    --system) system=1 ;;
    --no-deps) deps=0 ;;
    -h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "demo: unknown option $1" >&2; exit 64 ;;
    *) mnt=$1 ;;
  esac
  shift
done

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

# shellcheck source=testenv.sh
. "$here/testenv.sh"

if [ $deps = 1 ]; then
  say "dependencies (scripts/install-deps.sh)"
  bash "$here/install-deps.sh" || die "install-deps failed"
fi

bdir=${CKPTFS_DEMO_BUILDDIR:-build}
cd "$src" || exit 1
if [ -n "${CKPTFS_DEMO_BIN:-}" ]; then
  ckptfs=$CKPTFS_DEMO_BIN
else
  say "build (meson, $bdir/)"
  if [ ! -f "$bdir/meson-private/coredata.dat" ]; then
    meson setup "$bdir" >/dev/null || die "meson setup failed"
  fi
  meson compile -C "$bdir" >/dev/null || { meson compile -C "$bdir"; die "build failed"; }
  ckptfs=$src/$bdir/fs/ckptfs
fi
[ -x "$ckptfs" ] || die "$ckptfs was not built (is fs/ in the build yet?)"

envdir="" id="" ckpid="" made_mnt=0 ref="" sleeper="" scratch=""
cleanup() {
  trap - EXIT INT TERM HUP
  say "teardown"
  [ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null
  if [ -n "$ckpid" ]; then
    fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -u -z "$mnt" 2>/dev/null
    _tenv_wait_gone 10 "$ckpid" || kill -KILL "$ckpid" 2>/dev/null
    wait "$ckpid" 2>/dev/null
    echo "ckptfs exited with status $?"
  fi
  [ $made_mnt = 1 ] && rmdir "$mnt" 2>/dev/null
  if [ $system = 1 ]; then
    if [ -n "$id" ]; then
      tenv_ctr tasks kill -s SIGKILL "$id" >/dev/null 2>&1
      tenv_wait_status "$id" STOPPED 10
      tenv_ctr tasks rm -f "$id" >/dev/null 2>&1
      tenv_ctr containers rm "$id" >/dev/null 2>&1
      [ -n "$ref" ] && tenv_ctr images rm "$ref" >/dev/null 2>&1
    fi
    [ -n "$scratch" ] && rm -rf "$scratch"
  elif [ -n "$envdir" ]; then
    tenv_stop "$envdir" && echo "private containerd and $envdir removed"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

if [ $system = 1 ]; then
  say "system containerd"
  export CKPTFS_TEST_ADDR=/run/containerd/containerd.sock CKPTFS_TEST_NS=ckptfs-demo
  scratch=$(mktemp -d /tmp/ckptfs-demo-sys.XXXXXX)
  export CKPTFS_TEST_IMAGE=$TENV_IMAGE_NAME_DEFAULT CKPTFS_TEST_DIR=$scratch
  [ -S "$CKPTFS_TEST_ADDR" ] || die "no system containerd at $CKPTFS_TEST_ADDR"
  tenv_import_image || die "importing the demo image failed"
else
  envdir=$(mktemp -d /tmp/ckptfs-demo-env.XXXXXX)
  say "private containerd in $envdir (scripts/testenv.sh)"
  tenv_start "$envdir" || die "could not start containerd"
  cat "$envdir/timings"
fi
ns=$CKPTFS_TEST_NS
echo "address $CKPTFS_TEST_ADDR, namespace $ns"

id=$(tenv_uid ckptfs-demo)
say "container $id: memhog 64 (64 MiB, counter in /tmp/count)"
tenv_run "$id" memhog 64 || die "ctr run failed"
tenv_ctr tasks ls

say "mount ckptfs at $mnt"
if [ ! -d "$mnt" ]; then mkdir -p "$mnt" && made_mnt=1; fi
log=${envdir:-$scratch}/ckptfs-demo.log
echo "$ckptfs --address $CKPTFS_TEST_ADDR --namespace $ns -f $mnt   (log: $log)"
"$ckptfs" --address "$CKPTFS_TEST_ADDR" --namespace "$ns" -f "$mnt" </dev/null >>"$log" 2>&1 &
ckpid=$!
end=$(($(_tenv_now_ms) + 15000))
mounted() {
  awk -v m="$(readlink -f "$mnt")" '{ for (i = 7; $i != "-"; i++) ;
      if ($5 == m && $(i + 1) ~ /^fuse/) x = 1 } END { exit !x }' /proc/self/mountinfo
}
until mounted; do
  _tenv_pid_gone "$ckpid" && { tail -n 20 "$log" >&2; die "ckptfs exited before mounting"; }
  [ "$(_tenv_now_ms)" -ge $end ] && { tail -n 20 "$log" >&2; die "not mounted after 15 s"; }
  sleep 0.1
done

show_tree() {
  say "ls -la $mnt"
  timeout 10 ls -la "$mnt"
  say "the tree (find $mnt -maxdepth 5)"
  timeout 20 find "$mnt" -maxdepth 5 | sort | sed "s|^$mnt|.|"
}
show_tree

status=$mnt/$ns/containers/$id/status
[ -e "$status" ] || status=$(timeout 10 find "$mnt" -path "*/$id/status" 2>/dev/null | head -n1)
say "cat ${status:-<no status file found>}     |  ctr task ls"
paste <(timeout 10 cat "${status:-/dev/null}" 2>&1) <(tenv_ctr tasks ls) | expand -t 40
echo "counter in the container: $(tenv_cat "$id" /tmp/count)"

ctl=$mnt/$ns/containers/$id/checkpoint
say "echo > $ctl      (a checkpoint through the mount)"
t0=$(_tenv_now_ms)
timeout 120 sh -c 'echo > "$1"' _ "$ctl" && echo "took $(($(_tenv_now_ms) - t0)) ms"
say "cat $ctl"
timeout 10 cat "$ctl"
say "mkdir $mnt/$ns/containers/$id/checkpoints/demo      (a named checkpoint)"
timeout 120 mkdir "$mnt/$ns/containers/$id/checkpoints/demo"
say "ctr images ls: the checkpoint images in containerd"
tenv_ctr images ls | awk 'NR == 1 || $1 ~ /^containerd.io\/checkpoint\//'
echo "the task is $(tenv_task_status "$id"); counter in the container: $(tenv_cat "$id" /tmp/count)"
show_tree
ckdir=$mnt/$ns/containers/$id/checkpoints/demo
say "inside a checkpoint: $ckdir"
timeout 10 ls -la "$ckdir" "$ckdir/task" 2>&1 | head -40
say "backup of the checkpoint as an OCI layout: tar -C $ckdir/layout -cf - . | tar -tvf -"
timeout 60 tar -C "$ckdir/layout" -cf - . | tar -tvf - | head -20

if [ $once = 1 ]; then
  exit 0
fi
say "ckptfs is mounted at $mnt (container $id, namespace $ns). Ctrl-C to stop and clean up."
while :; do
  sleep 3600 &
  sleeper=$!
  wait $sleeper
done
