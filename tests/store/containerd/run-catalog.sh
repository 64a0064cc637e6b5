#!/usr/bin/env bash
# Runs test-catalog (argument 1) against a private containerd with one
# checkpoint image made by `ctr c checkpoint` (the peer).
set -u
TEST_BIN=$1
SRC=$(cd "$(dirname "$0")/../../.." && pwd)
. "$SRC/scripts/testenv.sh"
D=$(mktemp -d /tmp/ckc.XXXXXX) || exit 1
# The test stops containerd for a moment (SIGSTOP): never leave it stopped.
trap '[ -n "${CKPTFS_TEST_CONTAINERD_PID:-}" ] && kill -CONT "$CKPTFS_TEST_CONTAINERD_PID" 2>/dev/null; bash "$SRC/scripts/testenv.sh" stop "$D" >/dev/null 2>&1' EXIT
tenv_start "$D" >"$D.log" 2>&1 || { cat "$D.log"; rm -f "$D.log"; exit 1; }
rm -f "$D.log"
tenv_load "$D"
export CKPT_ID=$(tenv_uid cat)
export CKPT_NAME=ckpt/$CKPT_ID:one
tenv_run "$CKPT_ID" /bin/sh -c 'while true; do sleep 1; done' || exit 1
tenv_ctr c checkpoint --task --rw --image "$CKPT_ID" "$CKPT_NAME" >/dev/null || exit 1
"$TEST_BIN"
