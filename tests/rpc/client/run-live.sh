#!/usr/bin/env bash
# Runs the live rpc test program against private containerds, and always
# tears them down.
#
#   tests/rpc/client/run-live.sh TEST-BINARY [ARGS...]
#       starts two test envs with scripts/testenv.sh: the main one (its
#       variables CKPTFS_TEST_* exported as testenv defines them) and a
#       dedicated one for the fault tests, which may freeze, kill and restart
#       its daemon (CKPTFS_TEST_FAULT_{DIR,ADDR,NS,RESTART}); runs the binary;
#       tears both down (also on SIGTERM/SIGINT; a run killed outright is
#       reaped by the next one through testenv's owner check).
#   tests/rpc/client/run-live.sh --restart DIR
#       starts the containerd of the (stopped or killed) test env DIR again,
#       as testenv started it, and returns once it answers (15 s at most).
#       This is CKPTFS_TEST_FAULT_RESTART.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
self=$here/$(basename "${BASH_SOURCE[0]}")
src=$(cd "$here/../../.." && pwd)
# shellcheck source=../../../scripts/testenv.sh
. "$src/scripts/testenv.sh"

log() { echo "run-live: $*" >&2; }

restart_daemon() {
  local d=$1 pid end
  [ -e "$d/.ckptfs-testenv" ] && [ -f "$d/config.toml" ] || { log "$d: not a test env"; return 1; }
  pid=$(cat "$d/containerd.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && ! _tenv_pid_gone "$pid" && _tenv_cmdline_has "$pid" "$d/config.toml"; then
    log "containerd $pid of $d is still running"
    return 1
  fi
  # The same launch as tenv_start: own session, clean environment, the pid
  # in DIR/containerd.pid so that tenv_stop finds this daemon too.
  setsid bash -c 'echo $$ >"$1/containerd.pid"; exec env -i PATH="$2" HOME=/root TMPDIR="$1/tmp" \
    containerd --config "$1/config.toml"' _ "$d" "$TENV_DAEMON_PATH" \
    </dev/null >>"$d/containerd.log" 2>&1 &
  end=$(($(_tenv_now_ms) + 15000))
  while [ "$(_tenv_now_ms)" -lt $end ]; do
    if [ -S "$d/c.sock" ] && timeout 5 ctr --address "$d/c.sock" version >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.05
  done
  log "containerd of $d did not answer within 15 s; log:"
  tail -n 20 "$d/containerd.log" >&2
  return 1
}

if [ "${1:-}" = --restart ]; then
  restart_daemon "${2:?usage: $0 --restart DIR}"
  exit $?
fi

[ $# -ge 1 ] || { echo "usage: $0 TEST-BINARY [ARGS...] | --restart DIR" >&2; exit 64; }
bin=$1
shift

main_dir="" fault_dir=""
teardown() {
  local st=$? d
  trap - EXIT INT TERM HUP
  for d in "$main_dir" "$fault_dir"; do
    [ -n "$d" ] && [ -d "$d" ] || continue
    # Own session: finishes even when meson kills our process group.
    if ! setsid -w bash "$src/scripts/testenv.sh" stop "$d" </dev/null >"$d.teardown.log" 2>&1; then
      log "teardown of $d left something behind:"
      cat "$d.teardown.log" >&2
      [ "$st" = 0 ] && st=1
    fi
    rm -f "$d.teardown.log"
  done
  exit "$st"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

export TENV_OWNER_PID=$$
tenv_reap_stale /tmp

start_env() { # VAR: creates and starts an env, sets VAR to its dir
  local d
  d=$(mktemp -d /tmp/ckt.XXXXXX) || return 1
  printf -v "$1" '%s' "$d"
  if ! bash "$src/scripts/testenv.sh" start "$d" >/dev/null; then
    log "could not start a test containerd in $d"
    return 1
  fi
}

t0=$(_tenv_now_ms)
start_env main_dir || exit 1
start_env fault_dir || exit 1
log "test envs $main_dir and $fault_dir up in $(($(_tenv_now_ms) - t0)) ms"

# The fault env's variables first, renamed; then the main env's as they are.
tenv_load "$fault_dir" || exit 1
export CKPTFS_TEST_FAULT_DIR=$fault_dir
export CKPTFS_TEST_FAULT_ADDR=$CKPTFS_TEST_ADDR
export CKPTFS_TEST_FAULT_NS=$CKPTFS_TEST_NS
export CKPTFS_TEST_FAULT_RESTART="bash '$self' --restart '$fault_dir'"
tenv_load "$main_dir" || exit 1

"$bin" "$@"
