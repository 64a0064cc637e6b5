# shellcheck shell=bash
# TAP helpers + a private containerd for ckptfs integration tests.
#
#   #!/usr/bin/env bash
#   . "$(dirname "$0")/lib.sh"          # starts a private containerd (see below)
#   require_ckptfs                      # skip the whole test if $CKPTFS is missing
#   id=$(tenv_uid mytest); tenv_run "$id" memhog 8
#   mnt=$TENV_DIR/mnt; ckptfs_mount "$mnt" --namespace "$CKPTFS_TEST_NS" || bail_out "mount"
#   is "$(cat "$mnt/...")" "RUNNING" "status file"
#   fails_with EROFS "$FSOP" write "$mnt/..." x
#   ckptfs_umount "$mnt"                # one TAP line: daemon exited 0, no sanitizer report
#   done_testing
#
# On sourcing: `set -u`; a fresh test env in /tmp/ckt.XXXXXX (scripts/testenv.sh:
# its own containerd, a unique namespace, the busybox+memhog image imported);
# an EXIT trap (also run on SIGINT/SIGTERM/SIGHUP) that unmounts every ckptfs
# mount still mounted (failing the test if that daemon reports a sanitizer
# error), then tears the env down leaving nothing behind.  The teardown runs
# in its own session (setsid), so it finishes even when meson kills the test's
# process group 0.5 s after its timeout SIGTERM; envs of tests killed outright
# are reaped by the next test that starts (tenv_reap_stale).  Set
# LIB_NO_TESTENV=1 before sourcing to get only the TAP helpers.
#
# Variables: TENV_DIR (the env dir: put mount points and scratch files under it)
#   CKPTFS_TEST_ADDR CKPTFS_TEST_NS CKPTFS_TEST_IMAGE CKPTFS_TEST_IMAGE_TAR
#   CKPTFS (ckptfs binary; meson sets it, empty when not built; when unset: the
#   first of build-test/, build/, build-harness/ fs/ckptfs that exists), FSOP (tests/fixtures/fsop.c, built
#   and cached on first use: one syscall, prints the errno name), SRCDIR,
#   CKPTFS_PID / CKPTFS_LOG (of the last ckptfs_mount).
#
# TAP: plan N | done_testing | skip_all WHY | bail_out WHY
#   ok COND MSG        COND: a number is an exit status (0 passes: `cmd; ok $? msg`),
#                      anything else is eval'ed (`ok '[ -d "$d" ]' "dir exists"`)
#   run_ok MSG CMD...  passes if CMD exits 0 (its output is shown as diag on failure)
#   is GOT WANT MSG | isnt GOT UNWANTED MSG | like GOT ERE MSG | unlike GOT ERE MSG
#   fails_with [-m MSG] ENAME CMD...   CMD must fail with errno ENAME (e.g. EROFS):
#                      its stderr must name "(ENAME)" (fsop does) or hold strerror(ENAME)
#                      as coreutils/bash print it ("Read-only file system")
#   skip MSG | diag MSG... | note MSG...
#   wait_for TIMEOUT_S CMD...   poll CMD every 0.1 s until it succeeds (1 on timeout)
# Commands run by run_ok/fails_with are killed after $LIB_CMD_TIMEOUT s (30).
#
# ckptfs: ckptfs_mount MNT [ARGS...]
#   runs "$CKPTFS" [--address $CKPTFS_TEST_ADDR] ARGS... -f MNT in the background
#   (--address is added unless ARGS has one; add --namespace yourself), stdout+stderr
#   to $TENV_DIR/ckptfs.N.XXXXXX.log, waits up to $CKPTFS_MOUNT_TIMEOUT s (15) for the
#   mount; returns 1 (log shown as diag) if it is not mounted in time.  Do not call
#   it in a subshell or $(...): the daemon must be a child of the test's shell.
# ckptfs_umount [--signal SIG] MNT
#   fusermount3 -u (retried while busy, then lazily) -- or with --signal, kill -SIG
#   the daemon --, waits up to $CKPTFS_EXIT_TIMEOUT s (15) for it, and emits ONE TAP
#   line: ok when it exited 0, the mount is gone and its log has no sanitizer
#   report; not ok otherwise.  Mounts a test leaves are unmounted at exit (and
#   fail the test if their daemon fails or reports a sanitizer error).
#
# Sanitizers (ckptfs built with -Db_sanitize=address,undefined by scripts/test.sh):
#   the daemon runs with ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:print_summary=1,
#   UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:print_summary=1 and
#   LSAN_OPTIONS=suppressions=tests/fixtures/lsan.supp.  Decision: leak checking ON.
#   A sanitized ckptfs mounting, reading and unmounting showed no leak in 6/6 runs;
#   only allocations under grpc_init/grpc_shutdown/gpr_once_init/absl (gRPC's
#   process-wide state, which grpc_shutdown may free on a detached thread after
#   main returned) are suppressed; any other leak fails the test.  Override with
#   CKPTFS_ASAN_OPTIONS / CKPTFS_UBSAN_OPTIONS / CKPTFS_LSAN_OPTIONS.  A log line
#   matching "ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "LeakSanitizer",
#   "runtime error:" or "ThreadSanitizer" fails ckptfs_umount (and the test).

set -u

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRCDIR=$(cd "$LIB_DIR/../.." && pwd)
# shellcheck source=../../scripts/testenv.sh
. "$SRCDIR/scripts/testenv.sh"

LIB_CMD_TIMEOUT=${LIB_CMD_TIMEOUT:-30}
CKPTFS_MOUNT_TIMEOUT=${CKPTFS_MOUNT_TIMEOUT:-15}
CKPTFS_EXIT_TIMEOUT=${CKPTFS_EXIT_TIMEOUT:-15}
if [ -z "${CKPTFS+set}" ]; then # unset: guess (meson sets it, maybe to "")
  for _c in build-test build build-harness; do
    if [ -x "$SRCDIR/$_c/fs/ckptfs" ]; then CKPTFS=$SRCDIR/$_c/fs/ckptfs; break; fi
  done
  unset _c
fi
CKPTFS=${CKPTFS:-}
: "${CKPTFS_ASAN_OPTIONS:=detect_leaks=1:halt_on_error=1:print_summary=1}"
: "${CKPTFS_UBSAN_OPTIONS:=halt_on_error=1:print_stacktrace=1:print_summary=1}"
: "${CKPTFS_LSAN_OPTIONS:=suppressions=$SRCDIR/tests/fixtures/lsan.supp:print_suppressions=0}"
# Sanitized helper programs the tests run themselves get the same settings.
export ASAN_OPTIONS=${ASAN_OPTIONS:-$CKPTFS_ASAN_OPTIONS}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-$CKPTFS_UBSAN_OPTIONS}
export LSAN_OPTIONS=${LSAN_OPTIONS:-$CKPTFS_LSAN_OPTIONS}
LIB_SANITIZER_RE='ERROR: AddressSanitizer|ERROR: LeakSanitizer|LeakSanitizer|runtime error:|ThreadSanitizer|ERROR: UndefinedBehaviorSanitizer'

# ------------------------------------------------------------------ TAP
_T_N=0
_T_FAILED=0
_T_PLANNED=""
_T_DONE=0
_LIB_MAIN_PID=$BASHPID

plan() {
  _T_PLANNED=$1
  echo "1..$1"
}

done_testing() {
  [ -z "$_T_PLANNED" ] && echo "1..$_T_N"
  _T_DONE=1
}

skip_all() {
  echo "1..0 # SKIP $*"
  _T_PLANNED=0
  _T_DONE=1
  exit 0
}

bail_out() {
  echo "Bail out! $*"
  _T_DONE=1
  exit 255
}

diag() { # each argument is one or more lines
  local arg line
  for arg in "$@"; do
    while IFS= read -r line; do echo "# $line"; done <<<"$arg"
  done
}
note() { diag "$@"; }

# _t_result STATUS MSG: STATUS 0 = pass
_t_result() {
  _T_N=$((_T_N + 1))
  if [ "$1" = 0 ]; then
    echo "ok $_T_N - $2"
  else
    echo "not ok $_T_N - $2"
    _T_FAILED=$((_T_FAILED + 1))
    local where=${BASH_SOURCE[2]:-?}:${BASH_LINENO[1]:-?}
    diag "  failed at $where"
  fi
  return "$1"
}

ok() {
  local cond=$1 msg=${2:-}
  if [[ $cond =~ ^[0-9]+$ ]]; then
    [ "$cond" = 0 ]
  else
    eval "$cond"
  fi
  _t_result $? "$msg"
}

skip() {
  _T_N=$((_T_N + 1))
  echo "ok $_T_N # SKIP $*"
}

is() {
  if [ "$1" = "$2" ]; then
    _t_result 0 "${3:-}"
  else
    _t_result 1 "${3:-}"
    diag "       got: '$1'" "    expected: '$2'"
    return 1
  fi
}

isnt() {
  if [ "$1" != "$2" ]; then
    _t_result 0 "${3:-}"
  else
    _t_result 1 "${3:-}"
    diag "       got: '$1'" "    expected anything else"
    return 1
  fi
}

like() {
  if [[ $1 =~ $2 ]]; then
    _t_result 0 "${3:-}"
  else
    _t_result 1 "${3:-}"
    diag "                  '$1'" "    doesn't match '$2'"
    return 1
  fi
}

unlike() {
  if ! [[ $1 =~ $2 ]]; then
    _t_result 0 "${3:-}"
  else
    _t_result 1 "${3:-}"
    diag "                  '$1'" "          matches '$2'"
    return 1
  fi
}

# Run CMD with a timeout when it is a program (functions run as they are).
_lib_run() {
  if [ "$(type -t "$1")" = file ]; then
    timeout -k 5 "$LIB_CMD_TIMEOUT" "$@"
  else
    "$@"
  fi
}

run_ok() {
  local msg=$1 out st
  shift
  out=$(_lib_run "$@" 2>&1)
  st=$?
  _t_result $st "$msg"
  if [ $st != 0 ]; then
    diag "  command: $*" "  exit status: $st" "$out"
  fi
  return $st
}

fails_with() {
  local msg=""
  if [ "$1" = -m ]; then
    msg=$2
    shift 2
  fi
  local want=$1 text err st
  shift
  [ -n "$msg" ] || msg="$* fails with $want"
  text=$("$FSOP" strerror "$want" 2>/dev/null) || {
    _t_result 1 "$msg"
    diag "  unknown errno name '$want'"
    return 1
  }
  err=$( { _lib_run "$@" >/dev/null; } 2>&1)
  st=$?
  if [ $st != 0 ] && [ $st != 124 ] && [ $st != 137 ] &&
    { [[ $err == *"($want)"* ]] || [[ $err == *"$text"* ]]; }; then
    _t_result 0 "$msg"
  else
    _t_result 1 "$msg"
    if [ $st = 0 ]; then
      diag "  it succeeded"
    elif [ $st = 124 ] || [ $st = 137 ]; then
      diag "  timed out after $LIB_CMD_TIMEOUT s"
    else
      diag "  exit status $st, stderr:" "$err" "  (expected '$want' / '$text')"
    fi
    return 1
  fi
}

wait_for() {
  local t=$1 end
  shift
  end=$(($(_tenv_now_ms) + t * 1000))
  until "$@" >/dev/null 2>&1; do
    [ "$(_tenv_now_ms)" -ge $end ] && return 1
    sleep 0.1
  done
}

# ------------------------------------------------------------------ helper programs
# lib_helper NAME: path of tests/fixtures/NAME.c compiled (cached by content hash).
lib_helper() {
  local name=$1 src flags=() key out tmp
  src=$SRCDIR/tests/fixtures/$name.c
  [ "$name" = stubfs ] && read -r -a flags <<<"$(pkg-config --cflags --libs fuse3)"
  key=$({ cat "$src"; echo "${flags[*]}"; ${CC:-cc} --version | head -n1; } | sha256sum | cut -c1-16)
  out=$TENV_IMAGE_CACHE/bin/$name-$key
  if [ ! -x "$out" ]; then
    mkdir -p "$TENV_IMAGE_CACHE/bin" || return 1
    tmp=$(mktemp "$TENV_IMAGE_CACHE/bin/.$name.XXXXXX") || return 1
    if ! ${CC:-cc} -O2 -Wall -o "$tmp" "$src" "${flags[@]}" >&2; then
      rm -f "$tmp"
      return 1
    fi
    mv -f "$tmp" "$out"
  fi
  echo "$out"
}

# ------------------------------------------------------------------ ckptfs
declare -A _CK_PID=() _CK_LOG=()
_CK_SEQ=0
CKPTFS_PID=""
CKPTFS_LOG=""

require_ckptfs() {
  [ -n "$CKPTFS" ] && [ -x "$CKPTFS" ] || skip_all "ckptfs binary not built (CKPTFS='$CKPTFS')"
}

_lib_mounted() { # MNT [fuse]: is MNT a mount point (from mountinfo: never touches the fs)
  awk -v m="$1" -v f="${2:-}" '{ mp = $5; gsub(/\\040/, " ", mp)
      for (i = 7; $i != "-"; i++) ; if (mp == m && (f == "" || index($(i + 1), f) == 1)) x = 1 }
      END { exit !x }' /proc/self/mountinfo
}

ckptfs_mount() {
  local mnt=${1:?ckptfs_mount MNT [ARGS...]} pre=() a pid log end
  shift
  if [ -z "$CKPTFS" ] || [ ! -x "$CKPTFS" ]; then
    diag "ckptfs_mount: no ckptfs binary (CKPTFS='$CKPTFS')"
    return 1
  fi
  mkdir -p "$mnt" || return 1
  mnt=$(readlink -f "$mnt")
  if [ -n "${_CK_PID[$mnt]:-}" ]; then
    diag "ckptfs_mount: $mnt is already mounted by this test"
    return 1
  fi
  pre=(--address "$CKPTFS_TEST_ADDR")
  for a in "$@"; do [[ $a == --address* ]] && pre=(); done
  _CK_SEQ=$((_CK_SEQ + 1))
  log=$(mktemp "${TENV_DIR:-/tmp}/ckptfs.$_CK_SEQ.XXXXXX.log") || return 1
  ASAN_OPTIONS=$CKPTFS_ASAN_OPTIONS UBSAN_OPTIONS=$CKPTFS_UBSAN_OPTIONS \
    LSAN_OPTIONS=$CKPTFS_LSAN_OPTIONS \
    "$CKPTFS" "${pre[@]}" "$@" -f "$mnt" </dev/null >>"$log" 2>&1 &
  pid=$!
  [ -n "${TENV_DIR:-}" ] && echo "$pid" >"${log%.log}.pid" && mv "${log%.log}.pid" "$TENV_DIR/pids/"
  _CK_PID[$mnt]=$pid
  _CK_LOG[$mnt]=$log
  CKPTFS_PID=$pid
  CKPTFS_LOG=$log
  end=$(($(_tenv_now_ms) + CKPTFS_MOUNT_TIMEOUT * 1000))
  while ! _lib_mounted "$mnt" fuse; do
    if _tenv_pid_gone "$pid"; then
      wait "$pid"
      diag "ckptfs_mount: ckptfs exited with status $? before mounting $mnt; log:"
      diag "$(tail -n 40 "$log")"
      unset "_CK_PID[$mnt]" "_CK_LOG[$mnt]"
      return 1
    fi
    if [ "$(_tenv_now_ms)" -ge $end ]; then
      diag "ckptfs_mount: $mnt not mounted after $CKPTFS_MOUNT_TIMEOUT s; log:"
      diag "$(tail -n 40 "$log")"
      kill -KILL "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
      fusermount3 -u -z "$mnt" 2>/dev/null
      unset "_CK_PID[$mnt]" "_CK_LOG[$mnt]"
      return 1
    fi
    sleep 0.05
  done
  if ! timeout 5 mountpoint -q "$mnt"; then
    diag "ckptfs_mount: $mnt is in mountinfo but the fs does not answer stat in 5 s"
    return 1
  fi
  return 0
}

# _ck_stop MNT [SIGNAL]: unmount (or send SIGNAL to the daemon), wait for the
# daemon; sets _CK_STATUS to its exit status ("timeout" if it had to be killed).
_ck_stop() {
  local mnt=$1 sig=${2:-} pid=${_CK_PID[$1]} i st
  if [ -n "$sig" ]; then
    kill -"$sig" "$pid" 2>/dev/null
  else
    for i in $(seq 50); do
      _lib_mounted "$mnt" fuse || break
      fusermount3 -u "$mnt" 2>/dev/null && break
      sleep 0.1
    done
    if _lib_mounted "$mnt" fuse; then
      diag "ckptfs_umount: $mnt stays busy; lazy unmount"
      fusermount3 -u -z "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null
    fi
  fi
  if ! _tenv_wait_gone "$CKPTFS_EXIT_TIMEOUT" "$pid"; then
    diag "ckptfs (pid $pid) still running $CKPTFS_EXIT_TIMEOUT s after ${sig:+SIG}${sig:-the unmount}; SIGABRT, SIGKILL"
    kill -ABRT "$pid" 2>/dev/null
    _tenv_wait_gone 3 "$pid" || kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    _CK_STATUS="timeout"
  else
    wait "$pid" 2>/dev/null
    st=$?
    _CK_STATUS=$st
  fi
  if _lib_mounted "$mnt" fuse; then
    diag "ckptfs gone but $mnt still mounted; lazy unmount"
    fusermount3 -u -z "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null
    [ "$_CK_STATUS" = 0 ] && _CK_STATUS="exited 0 but left the mount"
  fi
  unset "_CK_PID[$mnt]"
}

_ck_log_clean() { ! grep -Eq "$LIB_SANITIZER_RE" "$1" 2>/dev/null; }

# ckptfs_umount [--signal SIG] MNT: one TAP line.  With --signal the daemon gets
# SIG (e.g. TERM) instead of fusermount3 -u, and must unmount by itself.
ckptfs_umount() {
  local sig="" mnt log bad=0 how
  if [ "${1:-}" = --signal ]; then
    sig=${2:?ckptfs_umount --signal SIG MNT}
    shift 2
  fi
  mnt=${1:?ckptfs_umount [--signal SIG] MNT}
  mnt=$(readlink -f "$mnt")
  how=${sig:+SIG$sig}
  how=${how:-unmounted}
  if [ -z "${_CK_PID[$mnt]:-}" ]; then
    _t_result 1 "ckptfs_umount $mnt"
    diag "  $mnt was not mounted by ckptfs_mount in this shell"
    return 1
  fi
  log=${_CK_LOG[$mnt]}
  _ck_stop "$mnt" "$sig"
  [ "$_CK_STATUS" = 0 ] || bad=1
  _ck_log_clean "$log" || bad=1
  _t_result $bad "ckptfs on $mnt $how, exited 0, no mount left, no sanitizer report"
  if [ $bad = 1 ]; then
    diag "  exit status: $_CK_STATUS; log $log:"
    diag "$(tail -n 60 "$log")"
  fi
  unset "_CK_LOG[$mnt]"
  return $bad
}

# ------------------------------------------------------------------ env + exit
# With plan N given first, reaching N tests counts as done.
_lib_plan_reached() { [ -n "$_T_PLANNED" ] && [ "$_T_N" = "$_T_PLANNED" ]; }

_lib_on_exit() {
  local st=$? mnt log fail=0 tlog
  [ "$BASHPID" = "$_LIB_MAIN_PID" ] || return $st
  trap - EXIT INT TERM HUP
  set +e
  for mnt in "${!_CK_PID[@]}"; do
    log=${_CK_LOG[$mnt]}
    if _lib_mounted "$mnt" fuse || ! _tenv_pid_gone "${_CK_PID[$mnt]}"; then
      diag "teardown: ckptfs on $mnt still mounted; unmounting"
      _ck_stop "$mnt"
    else
      # the test ended that daemon itself (and may have waited for it): log only
      wait "${_CK_PID[$mnt]}" 2>/dev/null
      _CK_STATUS=0
    fi
    if ! _ck_log_clean "$log" || [ "$_CK_STATUS" != 0 ]; then
      diag "teardown: ckptfs on $mnt: exit status $_CK_STATUS; log $log:"
      diag "$(tail -n 60 "$log")"
      echo "ckptfs on $mnt failed (status $_CK_STATUS or sanitizer report)" >&2
      fail=1
    fi
  done
  if [ -n "${TENV_DIR:-}" ] && [ -d "$TENV_DIR" ]; then
    tlog=$TENV_DIR.teardown.log
    # Own session: survives meson's SIGKILL of our process group.
    setsid -w bash "$SRCDIR/scripts/testenv.sh" stop "$TENV_DIR" </dev/null >"$tlog" 2>&1
    if [ $? != 0 ]; then
      diag "teardown of $TENV_DIR left something behind:"
      diag "$(cat "$tlog")"
      echo "test env teardown failed (see the TAP diagnostics)" >&2
      fail=1
    fi
    rm -f "$tlog"
  fi
  if [ $_T_DONE = 0 ] && ! _lib_plan_reached; then
    # ended without done_testing/plan completion: make it visible
    _T_N=$((_T_N + 1))
    echo "not ok $_T_N - test script ended early (exit status $st)"
    _T_FAILED=$((_T_FAILED + 1))
    [ -z "$_T_PLANNED" ] && echo "1..$_T_N"
    [ "$st" = 0 ] && st=1
  elif [ -n "$_T_PLANNED" ] && [ "$_T_PLANNED" != "$_T_N" ]; then
    diag "planned $_T_PLANNED tests but ran $_T_N"
    [ "$st" = 0 ] && st=1
  fi
  if [ "$st" = 0 ] && [ $_T_FAILED -gt 0 ]; then
    st=$((_T_FAILED > 254 ? 254 : _T_FAILED))
  fi
  [ "$st" = 0 ] && [ $fail = 1 ] && st=1
  exit "$st"
}

trap _lib_on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP


# ---------------------------------------------------------------- helpers of the tests that checkpoint
# memhog's counter in container ID
count_of() { tenv_cat "$1" /tmp/count 2>/dev/null | tr -d '\n'; }
count_at_least() { local c; c=$(count_of "$1"); [[ $c =~ ^[0-9]+$ ]] && [ "$c" -ge "$2" ]; }
freezer() { tenv_freezer_state "$CKPTFS_TEST_NS" "$1" 2>/dev/null; }
# the target digest of image NAME
image_digest() { tenv_ctr images ls | awk -v r="$1" '$1 == r { print $3 }'; }
# FIELD of a "field: value" report
field() { sed -n "s/^$1: //p" <<<"$2" | head -n1; }
# the media types of a full checkpoint index (ctr c checkpoint --task --rw --image), sorted
want_types="application/vnd.containerd.container.checkpoint.config.v1+proto
application/vnd.containerd.container.checkpoint.options.v1+proto
application/vnd.containerd.container.checkpoint.runtime.options+proto
application/vnd.containerd.container.criu.checkpoint.criu.tar
application/vnd.oci.image.layer.v1.tar+gzip
application/vnd.oci.image.manifest.v1+json"
# media types of an index (a digest; its blob in $BLOBS), sorted, one per line
media_types() {
  python3 -c 'import json,sys; [print(d["mediaType"]) for d in json.load(open(sys.argv[1]))["manifests"]]' \
    "$BLOBS/${1#sha256:}" | sort
}
# the CRIU tar's digest of an index
criu_blob() {
  python3 -c '
import json, sys
for d in json.load(open(sys.argv[1]))["manifests"]:
    if d["mediaType"].endswith("criu.checkpoint.criu.tar"):
        print(d["digest"])' "$BLOBS/${1#sha256:}"
}
# records of memhog's pattern in the CRIU dump of an index
memhog_records() {
  local c
  c=$(criu_blob "$1")
  [ -n "$c" ] || { echo 0; return; }
  tar -xOf "$BLOBS/${c#sha256:}" --wildcards 'pages-*.img' 2>/dev/null | grep -c '^memhog:[0-9a-f]\{8\}$'
}
start_memhog() { # ID MIB: memhog with a file in the rw layer, counter >= 2
  tenv_run "$1" sh -c "echo rw-of-$1 >/rw-marker; exec memhog $2 /tmp/count" || return 1
  wait_for 30 count_at_least "$1" 2
}
remove_container() {
  tenv_ctr tasks kill -s SIGKILL "$1" >/dev/null 2>&1
  tenv_wait_status "$1" STOPPED 15
  tenv_ctr tasks rm "$1" >/dev/null 2>&1
  tenv_ctr containers rm "$1" >/dev/null 2>&1
}

FSOP=${FSOP:-$(lib_helper fsop)} || bail_out "cannot build tests/fixtures/fsop.c"
export FSOP

if [ "${LIB_NO_TESTENV:-0}" != 1 ]; then
  # a fresh env of our own, whatever an outer shell or test exported
  unset CKPTFS_TEST_DIR CKPTFS_TEST_ADDR CKPTFS_TEST_NS CKPTFS_TEST_IMAGE \
    CKPTFS_TEST_IMAGE_TAR CKPTFS_TEST_CONTAINERD_PID TENV_DIR
  export TENV_OWNER_PID=$$
  tenv_reap_stale "${CKPTFS_TEST_TMP:-/tmp}" 2>&1 | sed 's/^/# /'
  TENV_DIR=$(mktemp -d "${CKPTFS_TEST_TMP:-/tmp}/ckt.XXXXXX") || bail_out "mktemp failed"
  _lib_t0=$(_tenv_now_ms)
  if ! _lib_start_out=$(tenv_start "$TENV_DIR" 2>&1); then
    diag "$_lib_start_out"
    bail_out "could not start the test containerd (tests/integration/lib.sh)"
  fi
  tenv_load "$TENV_DIR" || bail_out "no env in $TENV_DIR"
  BLOBS=$CKPTFS_TEST_DIR/root/io.containerd.content.v1.content/blobs/sha256   # the content store's files
  diag "test env $TENV_DIR ns $CKPTFS_TEST_NS ($(cat "$TENV_DIR/timings"), total $(($(_tenv_now_ms) - _lib_t0)) ms)"
  unset _lib_t0 _lib_start_out
fi
