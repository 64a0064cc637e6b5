#!/usr/bin/env bash
# testenv.sh: a private, throw-away containerd for ckptfs tests, the demo and
# benchmarks.  Both a bash library and a command line tool.
#
# CLI
#   scripts/testenv.sh start DIR [--namespace NS]   start containerd in DIR, import the image
#   scripts/testenv.sh stop DIR                     tear everything down, remove DIR
#   scripts/testenv.sh env DIR                      print "export K=V" lines (eval them)
#   scripts/testenv.sh image                        build/cache the test image, print its path
#   scripts/testenv.sh reap                         tear down envs whose owner process died
#   DIR must be short (unix socket paths < 108 bytes): use /tmp/... or /run/...
#
# Library (source it; it does not change shell options)
#   tenv_start DIR [NS]       as "start"; also exports the variables below
#   tenv_load DIR             export the variables of a started DIR
#   tenv_stop DIR             as "stop": leaves nothing behind (see the comment there)
#   tenv_ctr ARGS...          ctr --address $CKPTFS_TEST_ADDR -n $CKPTFS_TEST_NS ARGS (timeout)
#   tenv_uid PREFIX           a machine-wide unique container id: PREFIX-xxxxxxxx
#   tenv_new_ns PREFIX        a unique namespace name owned (and cleaned) by this env
#   tenv_import_image [NS]    import the test image into NS (default $CKPTFS_TEST_NS)
#   tenv_run [--ctr-run-opt=V...] ID CMD...
#                             ctr run -d --null-io IMAGE ID CMD... (options must be
#                             written --opt=value); the task is RUNNING when it returns
#   tenv_task_status ID       RUNNING / PAUSED / STOPPED / ... ("" if no task)
#   tenv_task_pid ID          host pid of the task's init process
#   tenv_wait_status ID STATUS [TIMEOUT_S]
#   tenv_cat ID PATH          a file inside the running container (via /proc/PID/root)
#   tenv_exec ID CMD...       ctr task exec (unique exec id) and print its output
#   tenv_freezer_state NS ID  THAWED / FREEZING / FROZEN (cgroup v1 freezer)
#   tenv_image_tar            path of the cached test image tarball (built if needed)
#   tenv_daemon_kill [SIG]    signal containerd (default KILL), wait until it is gone
#   tenv_daemon_start [DIR]   start it again (same config/sockets), wait until it answers;
#                             updates CKPTFS_TEST_CONTAINERD_PID and DIR/env
#
# Variables (exported by tenv_start/tenv_load and written to DIR/env):
#   CKPTFS_TEST_DIR, CKPTFS_TEST_ADDR (grpc socket), CKPTFS_TEST_NS,
#   CKPTFS_TEST_IMAGE (image name), CKPTFS_TEST_IMAGE_TAR, CKPTFS_TEST_CONTAINERD_PID
#
# Knobs: CKPTFS_TEST_CONTAINERD_LOGLEVEL (info), TENV_IMAGE_CACHE (/var/tmp/ckptfs-image-cache),
#   TENV_OWNER_PID (set by lib.sh: if that process dies, "reap" tears the env down).
#
# Layout of DIR: c.sock t.sock d.sock config.toml containerd.log containerd.pid
#   env root/ state/ tmp/ (containerd's TMPDIR: `ctr c restore` leaves ctrd-checkpoint*
#   dirs there, containerd#10166) opt/ ids (ns id lines) owned-ns pids/ .ckptfs-testenv

TENV_SELF=$(readlink -f "${BASH_SOURCE[0]}")
TENV_SCRIPTS=$(dirname "$TENV_SELF")
TENV_SRC=$(dirname "$TENV_SCRIPTS")
: "${TENV_IMAGE_CACHE:=/var/tmp/ckptfs-image-cache}"
TENV_IMAGE_NAME_DEFAULT=docker.io/library/ckptfs-busybox:latest
TENV_DAEMON_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
TENV_CTR_TIMEOUT=${TENV_CTR_TIMEOUT:-60}

_tenv_log() { echo "testenv: $*" >&2; }
_tenv_now_ms() { date +%s%3N; }

# True when PID is gone or a zombie.
_tenv_pid_gone() {
  local st
  [ -e "/proc/$1" ] || return 0
  st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 0
  [ -z "$st" ] || [ "$st" = Z ] || [ "$st" = X ]
}

# _tenv_wait_gone TIMEOUT_S PID...: 0 when all are gone in time.
_tenv_wait_gone() {
  local t=$1 end p left
  shift
  end=$(($(_tenv_now_ms) + t * 1000))
  while :; do
    left=0
    for p in "$@"; do _tenv_pid_gone "$p" || left=1; done
    [ $left = 0 ] && return 0
    [ "$(_tenv_now_ms)" -ge $end ] && return 1
    sleep 0.05
  done
}

# True if /proc/PID/cmdline contains STRING (NULs read as spaces).
_tenv_cmdline_has() {
  local c
  c=$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") || return 1
  [[ $c == *"$2"* ]]
}

# PIDs whose command line has an argument containing STRING (-x: equal to it).
_tenv_pids_with() {
  local x=""
  [ "$1" = -x ] && { x=x; shift; }
  local p list
  list=$(grep -lzF$x -- "$1" /proc/[0-9]*/cmdline 2>/dev/null)
  # grep matched its own command line; it is gone now, so keep live ones only
  for p in $list; do
    p=${p#/proc/}
    p=${p%/cmdline}
    [ "$p" != "$BASHPID" ] && [ -d "/proc/$p" ] && echo "$p"
  done
}

tenv_uid() {
  local h
  h=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
  echo "${1:-c}-$h"
}

# ---------------------------------------------------------------- image
# Cached by a hash of everything that goes into it.
tenv_image_tar() {
  local name=${1:-$TENV_IMAGE_NAME_DEFAULT} key out tmp
  key=$({
    cat "$TENV_SCRIPTS/mkimage.sh" "$TENV_SRC/tests/fixtures/memhog.c" "$TENV_SRC/tests/fixtures/workload.c"
    sha256sum /bin/busybox 2>/dev/null
    ${CC:-cc} --version 2>/dev/null | head -n1
    echo "$name"
  } | sha256sum | cut -c1-16)
  out=$TENV_IMAGE_CACHE/image-$key.tar
  if [ ! -s "$out" ]; then
    mkdir -p "$TENV_IMAGE_CACHE" || return 1
    tmp=$(mktemp "$TENV_IMAGE_CACHE/.image-$key.XXXXXX") || return 1
    if ! bash "$TENV_SCRIPTS/mkimage.sh" "$tmp" "$name" 2>"$tmp.log"; then
      cat "$tmp.log" >&2
      rm -f "$tmp" "$tmp.log"
      return 1
    fi
    rm -f "$tmp.log"
    mv -f "$tmp" "$out"
  fi
  echo "$out"
}

# ---------------------------------------------------------------- ctr wrappers
_tenv_ctr_at() { # ADDR NS ARGS...
  local addr=$1 ns=$2
  shift 2
  timeout -k 5 "$TENV_CTR_TIMEOUT" ctr --address "$addr" -n "$ns" "$@"
}

tenv_ctr() {
  : "${CKPTFS_TEST_ADDR:?no test env loaded (tenv_start/tenv_load)}"
  _tenv_ctr_at "$CKPTFS_TEST_ADDR" "$CKPTFS_TEST_NS" "$@"
}

tenv_import_image() {
  local ns=${1:-$CKPTFS_TEST_NS} tar
  tar=${CKPTFS_TEST_IMAGE_TAR:-$(tenv_image_tar)} || return 1
  _tenv_ctr_at "$CKPTFS_TEST_ADDR" "$ns" images import "$tar" >/dev/null || return 1
  _tenv_ctr_at "$CKPTFS_TEST_ADDR" "$ns" images ls -q | grep -qxF "$CKPTFS_TEST_IMAGE" || {
    _tenv_log "image $CKPTFS_TEST_IMAGE missing in namespace $ns after import"
    return 1
  }
}

tenv_new_ns() {
  local ns
  ns=$(tenv_uid "${1:-ns}")
  echo "$ns" >>"$CKPTFS_TEST_DIR/owned-ns"
  echo "$ns"
}

tenv_run() {
  local opts=() id
  while [ $# -gt 0 ] && [[ $1 == -* ]]; do
    opts+=("$1")
    shift
  done
  id=${1:?tenv_run: ID missing}
  shift
  echo "$CKPTFS_TEST_NS $id" >>"$CKPTFS_TEST_DIR/ids"
  tenv_ctr run -d --null-io "${opts[@]}" "$CKPTFS_TEST_IMAGE" "$id" "$@" >/dev/null
}

tenv_task_status() {
  tenv_ctr tasks ls 2>/dev/null | awk -v id="$1" 'NR > 1 && $1 == id { print $3 }'
}

tenv_task_pid() {
  tenv_ctr tasks ls 2>/dev/null | awk -v id="$1" 'NR > 1 && $1 == id { print $2 }'
}

tenv_wait_status() {
  local id=$1 want=$2 t=${3:-15} end
  end=$(($(_tenv_now_ms) + t * 1000))
  while [ "$(tenv_task_status "$id")" != "$want" ]; do
    [ "$(_tenv_now_ms)" -ge $end ] && return 1
    sleep 0.1
  done
}

tenv_cat() {
  local pid
  pid=$(tenv_task_pid "$1")
  [ -n "$pid" ] && [ "$pid" != 0 ] || return 1
  cat "/proc/$pid/root/${2#/}"
}

tenv_exec() {
  local id=$1
  shift
  tenv_ctr tasks exec --exec-id "$(tenv_uid x)" "$id" "$@"
}

tenv_freezer_state() {
  cat "/sys/fs/cgroup/freezer/$1/$2/freezer.state"
}

# ---------------------------------------------------------------- start
_tenv_write_config() {
  local d=$1
  cat >"$d/config.toml" <<EOF
# written by scripts/testenv.sh
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = "$d/c.sock"

[ttrpc]
  address = "$d/t.sock"

[debug]
  address = "$d/d.sock"
  level = "${CKPTFS_TEST_CONTAINERD_LOGLEVEL:-info}"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "$d/opt"
EOF
}

tenv_load() {
  local d=${1:?tenv_load DIR}
  [ -f "$d/env" ] || { _tenv_log "$d/env: no test env there"; return 1; }
  local line
  while IFS= read -r line; do
    case "$line" in CKPTFS_TEST_*=*) export "${line%%=*}=${line#*=}" ;; esac
  done <"$d/env"
}

# tenv_daemon_start DIR: (re)start the containerd of an env made by tenv_start
# (e.g. after a test killed it) and wait up to 15 s until it answers.
tenv_daemon_start() {
  local d=${1:-${CKPTFS_TEST_DIR:-}} t0 end pid="" up=0
  [ -n "$d" ] && [ -f "$d/config.toml" ] || { _tenv_log "tenv_daemon_start: no env at '$d'"; return 1; }
  pid=$(cat "$d/containerd.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && ! _tenv_pid_gone "$pid" && _tenv_cmdline_has "$pid" "$d/config.toml"; then
    _tenv_log "containerd of $d already runs (pid $pid)"
    return 1
  fi
  rm -f "$d/containerd.pid"
  t0=$(_tenv_now_ms)
  # setsid: Ctrl-C / a killed test's process group does not hit the daemon
  # before teardown ran.  TMPDIR: keeps containerd's temp dirs inside DIR.
  setsid bash -c 'echo $$ >"$1/containerd.pid.tmp" && mv "$1/containerd.pid.tmp" "$1/containerd.pid"
    exec env -i PATH="$2" HOME=/root TMPDIR="$1/tmp" containerd --config "$1/config.toml"' \
    _ "$d" "$TENV_DAEMON_PATH" </dev/null >>"$d/containerd.log" 2>&1 &
  disown $! 2>/dev/null || true
  end=$((t0 + 15000))
  while [ "$(_tenv_now_ms)" -lt $end ]; do
    pid=$(cat "$d/containerd.pid" 2>/dev/null || true)
    if [ -S "$d/c.sock" ] && [ -n "$pid" ] && timeout 5 ctr --address "$d/c.sock" version >/dev/null 2>&1; then
      up=1
      break
    fi
    if [ -n "$pid" ] && _tenv_pid_gone "$pid"; then break; fi
    sleep 0.05
  done
  if [ $up != 1 ]; then
    _tenv_log "containerd did not answer within 15 s; log:"
    tail -n 30 "$d/containerd.log" >&2
    return 1
  fi
  if [ -f "$d/env" ]; then
    sed -i "s/^CKPTFS_TEST_CONTAINERD_PID=.*/CKPTFS_TEST_CONTAINERD_PID=$pid/" "$d/env"
  fi
  [ "${CKPTFS_TEST_DIR:-}" = "$d" ] && export CKPTFS_TEST_CONTAINERD_PID=$pid
  _TENV_DAEMON_MS=$(($(_tenv_now_ms) - t0))
  return 0
}

# tenv_daemon_kill [SIGNAL] [DIR]: signal the env's containerd (default KILL)
# and wait up to 10 s for it to be gone.  Its shims and tasks keep running.
tenv_daemon_kill() {
  local sig=${1:-KILL} d=${2:-${CKPTFS_TEST_DIR:-}} pid
  pid=$(cat "$d/containerd.pid" 2>/dev/null) || return 1
  _tenv_cmdline_has "$pid" "$d/config.toml" || return 1
  kill -"$sig" "$pid" && _tenv_wait_gone 10 "$pid"
}

# tenv_start DIR [NS]: NS defaults to a fresh unique namespace, which the env
# owns (its cgroup parents are removed at teardown).
tenv_start() {
  local d=${1:?tenv_start DIR [NS]} ns=${2:-} t1 t2 tar
  mkdir -p "$d" || return 1
  d=$(readlink -f "$d")
  if [ -n "$(ls -A "$d" 2>/dev/null)" ]; then
    _tenv_log "$d is not empty"
    return 1
  fi
  if [ ${#d} -gt 80 ]; then
    _tenv_log "$d is too long for unix socket paths (keep it under 80 bytes)"
    return 1
  fi
  command -v containerd >/dev/null && command -v ctr >/dev/null ||
    { _tenv_log "containerd/ctr not installed (scripts/install-deps.sh)"; return 1; }
  : >"$d/.ckptfs-testenv"
  if [ -n "${TENV_OWNER_PID:-}" ]; then
    echo "$TENV_OWNER_PID $(cut -d' ' -f22 "/proc/$TENV_OWNER_PID/stat" 2>/dev/null)" >"$d/owner.pid"
  fi
  if [ -z "$ns" ]; then
    ns=$(tenv_uid ckptfs)
    echo "$ns" >>"$d/owned-ns"
  fi
  mkdir -p "$d/root" "$d/state" "$d/tmp" "$d/opt" "$d/pids"
  : >"$d/ids"
  _tenv_write_config "$d"

  tenv_daemon_start "$d" || return 1
  t1=$(_tenv_now_ms)
  tar=$(tenv_image_tar) || return 1
  {
    echo "CKPTFS_TEST_DIR=$d"
    echo "CKPTFS_TEST_ADDR=$d/c.sock"
    echo "CKPTFS_TEST_NS=$ns"
    echo "CKPTFS_TEST_IMAGE=$TENV_IMAGE_NAME_DEFAULT"
    echo "CKPTFS_TEST_IMAGE_TAR=$tar"
    echo "CKPTFS_TEST_CONTAINERD_PID=$(cat "$d/containerd.pid")"
  } >"$d/env"
  tenv_load "$d" || return 1
  t2=$(_tenv_now_ms)
  tenv_import_image "$ns" || return 1
  echo "containerd_start_ms=$_TENV_DAEMON_MS image_build_ms=$((t2 - t1)) image_import_ms=$(($(_tenv_now_ms) - t2))" >"$d/timings"
}

# ---------------------------------------------------------------- stop
# Teardown that leaves nothing behind, also after a failed or killed test:
#  1. unmount FUSE mounts under DIR lazily (a hung daemon must not hang us)
#  2. with containerd answering: thaw, SIGKILL and delete every task, delete
#     every container, in all namespaces
#  3. stop containerd (SIGTERM, SIGKILL after 10 s)
#  4. processes still in the cgroups of our containers: thaw + SIGKILL; then
#     the shims of DIR (found by their -address argument and bundle shim.pid)
#  5. daemons recorded in DIR/pids/*.pid (e.g. ckptfs) whose command line names DIR
#  6. unmount everything else under DIR (deepest first; lazily if busy)
#  7. rmdir the containers' cgroups (and owned namespaces' cgroup dirs), runc
#     state /run/containerd/runc/NS/ID, shim sockets, FIFO dirs of our tasks,
#     ctrd-checkpoint* dirs older than 10 min in /tmp and $XDG_RUNTIME_DIR
#  8. rm -rf --one-file-system DIR
tenv_stop() {
  local d=${1:?tenv_stop DIR} rc=0
  [ -d "$d" ] || return 0
  d=$(readlink -f "$d")
  if [ ! -e "$d/.ckptfs-testenv" ]; then
    _tenv_log "refusing to tear down $d: no .ckptfs-testenv marker"
    return 1
  fi
  local addr=$d/c.sock cpid="" ns id p
  cpid=$(cat "$d/containerd.pid" 2>/dev/null || true)
  local -A pairs=() owned=() shims=() extra_rm=()

  # 1. FUSE mounts first, lazily.
  _tenv_umount_under "$d" fuse

  if [ -f "$d/owned-ns" ]; then
    while read -r ns; do [ -n "$ns" ] && owned[$ns]=1; done <"$d/owned-ns"
  fi
  if [ -f "$d/ids" ]; then
    while read -r ns id; do [ -n "${id:-}" ] && pairs["$ns/$id"]=1; done <"$d/ids"
  fi
  for p in "$d"/state/io.containerd.runtime.v2.task/*/*/; do
    [ -d "$p" ] || continue
    p=${p%/}
    pairs["$(basename "$(dirname "$p")")/$(basename "$p")"]=1
  done

  # 2. The polite way, through containerd (ctr calls in parallel: each costs 0.1-0.4 s).
  if [ -n "$cpid" ] && ! _tenv_pid_gone "$cpid" && [ -S "$addr" ] &&
    timeout 5 ctr --address "$addr" version >/dev/null 2>&1; then
    local nss ids tasks st end
    nss=$(timeout 10 ctr --address "$addr" namespaces ls -q 2>/dev/null)
    for ns in $nss; do
      ids=$(timeout 10 ctr --address "$addr" -n "$ns" containers ls -q 2>/dev/null)
      for id in $ids; do pairs["$ns/$id"]=1; done
      tasks=$(timeout 10 ctr --address "$addr" -n "$ns" tasks ls 2>/dev/null | awk 'NR > 1 { print $1, $3 }')
      [ -n "$tasks" ] || { [ -n "$ids" ] && timeout 20 ctr --address "$addr" -n "$ns" containers rm $ids >/dev/null 2>&1; continue; }
      while read -r id st; do
        pairs["$ns/$id"]=1
        _tenv_thaw "$ns" "$id"
        {
          [ "$st" = PAUSED ] || [ "$st" = PAUSING ] &&
            timeout 10 ctr --address "$addr" -n "$ns" tasks resume "$id" >/dev/null 2>&1
          timeout 10 ctr --address "$addr" -n "$ns" tasks kill -a -s SIGKILL "$id" >/dev/null 2>&1
        } &
      done <<<"$tasks"
      wait
      end=$(($(_tenv_now_ms) + 10000))
      while timeout 10 ctr --address "$addr" -n "$ns" tasks ls 2>/dev/null |
        awk 'NR > 1 && $3 != "STOPPED" { x = 1 } END { exit !x }'; do
        [ "$(_tenv_now_ms)" -ge $end ] && { _tenv_log "tasks in $ns do not stop"; break; }
        sleep 0.1
      done
      # shellcheck disable=SC2046
      timeout 20 ctr --address "$addr" -n "$ns" tasks rm -f $(cut -d' ' -f1 <<<"$tasks") >/dev/null 2>&1
      [ -n "$ids" ] && timeout 20 ctr --address "$addr" -n "$ns" containers rm $ids >/dev/null 2>&1
    done
  fi

  # Shims of this env, and what they hold outside DIR (sockets, FIFO dirs).
  for p in $(_tenv_pids_with -x "$addr"); do
    _tenv_cmdline_has "$p" "-address $addr " && shims[$p]=1
  done
  for p in "$d"/state/io.containerd.runtime.v2.task/*/*/shim.pid; do
    [ -f "$p" ] || continue
    id=$(cat "$p" 2>/dev/null)
    [ -n "$id" ] && _tenv_cmdline_has "$id" "containerd-shim" && shims[$id]=1
  done
  for p in "$d"/state/io.containerd.runtime.v2.task/*/*/address; do
    [ -f "$p" ] || continue
    id=$(sed -n 's|^unix://||p' "$p" 2>/dev/null)
    [[ $id == /run/containerd/s/* ]] && extra_rm[$id]=1
  done
  for p in "${!shims[@]}"; do
    for id in /proc/"$p"/fd/*; do
      id=$(readlink "$id" 2>/dev/null) || continue
      [[ $id == /run/containerd/fifo/*/* ]] && extra_rm[${id%/*}]=1
    done
  done

  # 3. containerd.
  if [ -n "$cpid" ] && ! _tenv_pid_gone "$cpid" && _tenv_cmdline_has "$cpid" "$d/config.toml"; then
    kill -TERM "$cpid" 2>/dev/null
    if ! _tenv_wait_gone 10 "$cpid"; then
      _tenv_log "containerd $cpid ignored SIGTERM; SIGKILL"
      kill -KILL "$cpid" 2>/dev/null
      _tenv_wait_gone 5 "$cpid" || rc=1
    fi
  fi

  # 4. Container processes, then shims.
  for ns in "${!owned[@]}"; do
    for p in /sys/fs/cgroup/freezer/"$ns"/*/; do
      [ -d "$p" ] && pairs["$ns/$(basename "$p")"]=1
    done
  done
  for p in "${!pairs[@]}"; do
    _tenv_thaw "${p%%/*}" "${p#*/}"
    _tenv_kill_cgroup "${p%%/*}" "${p#*/}" || rc=1
  done
  if [ ${#shims[@]} -gt 0 ]; then
    kill -KILL "${!shims[@]}" 2>/dev/null
    _tenv_wait_gone 5 "${!shims[@]}" || { _tenv_log "shims survive: ${!shims[*]}"; rc=1; }
  fi

  # 5. Recorded helper daemons (ckptfs...).
  for p in "$d"/pids/*.pid; do
    [ -f "$p" ] || continue
    id=$(cat "$p" 2>/dev/null)
    if [ -n "$id" ] && ! _tenv_pid_gone "$id" && _tenv_cmdline_has "$id" "$d"; then
      kill -KILL "$id" 2>/dev/null
      _tenv_wait_gone 5 "$id" || rc=1
    fi
  done

  # 6. Mounts.
  _tenv_umount_under "$d" all || rc=1

  # 7. Cgroups and runtime leftovers outside DIR.
  for p in "${!pairs[@]}"; do
    ns=${p%%/*} id=${p#*/}
    _tenv_rmdir_cgroup "$ns" "$id" || rc=1
    [ -n "$ns" ] && [ -n "$id" ] && rm -rf "/run/containerd/runc/$ns/$id"
  done
  for ns in "${!owned[@]}"; do
    local c
    for c in /sys/fs/cgroup/*/"$ns"; do
      [ -d "$c" ] && ! [ -L "${c%/*}" ] && { rmdir "$c" 2>/dev/null || { _tenv_log "cgroup $c not empty"; rc=1; }; }
    done
    rmdir "/run/containerd/runc/$ns" 2>/dev/null || true
  done
  for p in "${!extra_rm[@]}"; do rm -rf "$p"; done
  local tdir
  for tdir in /tmp ${XDG_RUNTIME_DIR:+"$XDG_RUNTIME_DIR"}; do
    find "$tdir" -maxdepth 1 -name 'ctrd-checkpoint*' -mmin +10 -exec rm -rf {} + 2>/dev/null || true
  done

  # 8. DIR itself (never crossing into a mount that survived).
  if grep -q " $d[/ ]" /proc/self/mountinfo 2>/dev/null; then
    _tenv_log "mounts remain under $d; removing only what is not mounted"
    rc=1
  fi
  rm -rf --one-file-system "$d" 2>/dev/null || { _tenv_log "could not remove $d"; rc=1; }
  return $rc
}

_tenv_thaw() {
  local f=/sys/fs/cgroup/freezer/$1/$2/freezer.state
  [ -n "$1" ] && [ -n "$2" ] && [ -f "$f" ] || return 0
  [ "$(cat "$f" 2>/dev/null)" = THAWED ] || echo THAWED >"$f" 2>/dev/null || true
}

# SIGKILL every process in the container's cgroup (freezer hierarchy, any depth).
_tenv_kill_cgroup() {
  local base=/sys/fs/cgroup/freezer/$1/$2 end procs f
  [ -n "$1" ] && [ -n "$2" ] && [ -d "$base" ] || return 0
  end=$(($(_tenv_now_ms) + 10000))
  while :; do
    procs=$(find "$base" -name cgroup.procs -exec cat {} + 2>/dev/null)
    [ -z "$procs" ] && return 0
    for f in $(find "$base" -name freezer.state); do
      [ "$(cat "$f")" = THAWED ] || echo THAWED >"$f" 2>/dev/null
    done
    # shellcheck disable=SC2086
    kill -KILL $procs 2>/dev/null
    [ "$(_tenv_now_ms)" -ge $end ] && { _tenv_log "processes survive in $base: $procs"; return 1; }
    sleep 0.05
  done
}

_tenv_rmdir_cgroup() {
  local c rc=0
  [ -n "$1" ] && [ -n "$2" ] || return 0
  for c in /sys/fs/cgroup/*/"$1"/"$2"; do
    [ -d "$c" ] || continue
    [ -L "${c%/*/*}" ] && continue # cpu -> cpu,cpuacct aliases
    find "$c" -depth -type d -exec rmdir {} + 2>/dev/null
    [ -d "$c" ] && { _tenv_log "cgroup $c remains"; rc=1; }
  done
  return $rc
}

# _tenv_umount_under DIR fuse|all: unmount (deepest first) mounts under DIR.
_tenv_umount_under() {
  local d=$1 what=$2 round m fstype left=0
  for round in 1 2 3 4 5; do
    left=0
    while read -r m fstype; do
      [ "$what" = fuse ] && [[ $fstype != fuse* ]] && continue
      left=1
      if [[ $fstype == fuse* ]]; then
        fusermount3 -u -z "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
      else
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
      fi
    done < <(awk -v d="$d" '{ mp = $5; gsub(/\\040/, " ", mp)
               for (i = 7; $i != "-"; i++) ; fs = $(i + 1)
               if (mp == d || index(mp, d "/") == 1) print length(mp), mp, fs }' \
               /proc/self/mountinfo | sort -rn | cut -d' ' -f2-)
    [ $left = 0 ] && return 0
  done
  _tenv_log "mounts remain under $d"
  return 1
}

# Tear down every env made by lib.sh whose owner process is gone (a test
# killed by a timeout cannot clean up after itself).
tenv_reap_stale() {
  local base=${1:-${CKPTFS_TEST_TMP:-/tmp}} d pid start now_start
  for d in "$base"/ckt.*/; do
    d=${d%/}
    [ -f "$d/.ckptfs-testenv" ] && [ -f "$d/owner.pid" ] || continue
    read -r pid start <"$d/owner.pid" || continue
    now_start=$(cut -d' ' -f22 "/proc/$pid/stat" 2>/dev/null || true)
    if [ -z "$now_start" ] || [ "$now_start" != "$start" ] || _tenv_pid_gone "$pid"; then
      # flock: two tests starting at once must not reap the same env together
      (
        flock -n 9 || exit 0
        [ -d "$d" ] || exit 0
        _tenv_log "reaping stale test env $d (owner $pid gone)"
        tenv_stop "$d"
      ) 9<"$d/.ckptfs-testenv" || true
    fi
  done
  find "$base" -maxdepth 1 -name 'ckt.*.teardown.log' -mmin +60 -delete 2>/dev/null || true
}

# ---------------------------------------------------------------- CLI
_tenv_main() {
  local cmd=${1:-} d=${2:-} ns=""
  case "$cmd" in
    start)
      [ -n "$d" ] || { echo "usage: $0 start DIR [--namespace NS]" >&2; return 64; }
      if [ "${3:-}" = --namespace ] && [ -n "${4:-}" ]; then ns=$4; fi
      tenv_start "$d" "$ns" || { _tenv_log "start failed; tearing down"; tenv_stop "$d"; return 1; }
      cat "$(readlink -f "$d")/env"
      ;;
    stop)
      [ -n "$d" ] || { echo "usage: $0 stop DIR" >&2; return 64; }
      tenv_stop "$d" || return 1
      # the detached teardown of lib.sh logs here; nobody needs it on success
      rm -f "$d.teardown.log"
      ;;
    env)
      [ -n "$d" ] && [ -f "$d/env" ] || { echo "usage: $0 env DIR (a started env)" >&2; return 64; }
      sed 's/^/export /' "$d/env"
      ;;
    image) tenv_image_tar "${2:-}" ;;
    reap) tenv_reap_stale "${2:-}" ;;
    *)
      sed -n '2,12p' "$TENV_SELF" | sed 's/^# \{0,1\}//' >&2
      return 64
      ;;
  esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -uo pipefail
  _tenv_main "$@"
  exit $?
fi
