#!/usr/bin/env bash
# Live tests of the checkpoint operation (rpc/checkpoint/) against a
# private containerd (tests/integration/lib.sh), driven through ckpt-cli;
# `ctr` is the peer that restores and compares.
#
#   CKPT_CLI=build-ckpt/tests/rpc/checkpoint/ckpt-cli tests/rpc/checkpoint/test-checkpoint-live.sh
#
# Covered: restore by `ctr c restore --live --rw` (counter continues, rw file
# back); same descriptors as `ctr c checkpoint --task --rw --image`; a second
# checkpoint while the first image exists still holds its CRIU dump; a
# failing dump leaves the task RUNNING/THAWED, no image, no new blob, no
# lease, no dump dir, and the CRIU reason in the report; EBUSY; 4 containers
# in parallel; the frozen window ends before the upload; ENOENT, ESRCH,
# EINVAL, EEXIST; a task paused by the user stays paused; `exit`; raw
# image-path dumps; delete.
. "$(dirname "$0")/../../integration/lib.sh"

CLI=${CKPT_CLI:-}
if [ -z "$CLI" ]; then
  for b in build-ckpt build-test build; do
    [ -x "$SRCDIR/$b/tests/rpc/checkpoint/ckpt-cli" ] && { CLI=$SRCDIR/$b/tests/rpc/checkpoint/ckpt-cli; break; }
  done
fi
[ -n "$CLI" ] && [ -x "$CLI" ] || skip_all "ckpt-cli not built (set CKPT_CLI)"

export CKPTFS_WORK_DIR=$TENV_DIR/work
mkdir -p "$CKPTFS_WORK_DIR"

cli() { timeout -k 5 300 "$CLI" --address "$CKPTFS_TEST_ADDR" --ns "$CKPTFS_TEST_NS" "$@"; }
image_labels() { tenv_ctr images ls | awk -v r="$1" '$1 == r { print $NF }'; }
annotation_keys() {
  python3 -c 'import json,sys; [print(k) for k in sorted(json.load(open(sys.argv[1])).get("annotations", {}))]' \
    "$BLOBS/${1#sha256:}"
}
dump_dirs_left() { find "$CKPTFS_WORK_DIR" -mindepth 1 -maxdepth 1 -name 'ckptfs-dump-*' | wc -l; }
leases_left() { tenv_ctr leases ls -q 2>/dev/null | grep -c '^ckptfs-checkpoint-'; }

# ------------------------------------------------------------ take and restore
# restore_cycle UPLOAD: a full checkpoint with that upload path (diff: the
# default, containerd's differ tars the dump; stream: our ustar writer into
# Content.Write), then the peer restores it. Sets id.
restore_cycle() {
  local mode=$1 want_upload c_before out name idx n c_rest
  [ "$mode" = stream ] && want_upload='streamed \(Content.Write\)' || want_upload="tarred by containerd's differ"
  id=$(tenv_uid cklive)
  run_ok "[$mode] memhog 32 MiB started" start_memhog "$id" 32
  c_before=$(count_of "$id")
  out=$(CKPTFS_CHECKPOINT_UPLOAD=$mode cli take "$id" 2>&1)
  ok $? "[$mode] checkpoint of a running memhog succeeds"
  name=$(field name "$out")
  like "$name" "^containerd.io/checkpoint/$id:[0-9]{2}-[0-9]{2}-[0-9]{4}-[0-9]{2}:[0-9]{2}:[0-9]{2}$" \
    "[$mode] default name in containerd's format ($name)"
  like "$out" "upload: $want_upload" "[$mode] upload path as asked"
  is "$(tenv_task_status "$id")" RUNNING "[$mode] task RUNNING afterwards"
  is "$(freezer "$id")" THAWED "[$mode] freezer THAWED afterwards"
  idx=$(image_digest "$name")
  like "$idx" '^sha256:[0-9a-f]{64}$' "[$mode] image exists ($idx)"
  is "$(field index "$out")" "$idx" "[$mode] report names the index digest"
  is "$(grep -c '^ckptfs: ' <<<"$out")" 1 "[$mode] one line in the log"
  like "$out" "ckptfs: info: checkpoint $name of $CKPTFS_TEST_NS/$id: index $idx, frozen [0-9]+ ms, total [0-9]+ ms" \
    "[$mode] ... at info: name, index, frozen window, total"
  like "$(image_labels "$name")" 'containerd.io/checkpoint=true' "[$mode] image labelled containerd.io/checkpoint=true"
  is "$(media_types "$idx")" "$want_types" "[$mode] index holds the six descriptors of a full checkpoint"
  is "$(annotation_keys "$idx" | tr '\n' ' ')" \
    "io.containerd.checkpoint.runtime io.containerd.checkpoint.snapshotter org.opencontainers.image.ref.name " \
    "[$mode] index annotations: runtime, snapshotter, image name"
  n=$(memhog_records "$idx")
  ok "[ '${n:-0}' -ge $((32 * 256 * 256)) ]" "[$mode] CRIU dump holds memhog's 32 MiB ($n records)"
  like "$out" $'stage dump: [0-9]+ ms\n' "[$mode] report: duration of the dump"
  like "$out" $'frozen: [0-9]+ ms\n' "[$mode] report: frozen window"
  like "$out" 'blob: application/vnd.containerd.container.criu.checkpoint.criu.tar sha256:' "[$mode] report: each blob"
  is "$(dump_dirs_left)" 0 "[$mode] private dump dir removed"
  is "$(leases_left)" 0 "[$mode] lease deleted"

  remove_container "$id"
  is "$(tenv_ctr containers ls -q | grep -cx "$id")" 0 "[$mode] original container removed"
  run_ok "[$mode] ctr c restore --live --rw of our checkpoint" tenv_ctr containers restore --live --rw "$id" "$name"
  is "$(tenv_task_status "$id")" RUNNING "[$mode] restored task RUNNING"
  c_rest=$(count_of "$id")
  ok "[ '${c_rest:-0}' -ge '$c_before' ]" "[$mode] restored counter continues (before checkpoint $c_before, restored $c_rest)"
  wait_for 10 count_at_least "$id" $((c_rest + 1))
  ok $? "[$mode] restored counter keeps counting ($(count_of "$id"))"
  is "$(tenv_cat "$id" /rw-marker)" "rw-of-$id" "[$mode] rw-layer file is back"
}
restore_cycle stream
remove_container "$id"
restore_cycle diff

# ------------------------------------------------------------ same descriptors as ctr
id2=$(tenv_uid ckcmp)
run_ok "second memhog started" start_memhog "$id2" 8
# ctr first: its Tasks.Checkpoint must not meet an existing spec blob (see below)
run_ok "ctr c checkpoint --task --rw --image" tenv_ctr containers checkpoint --task --rw --image "$id2" "ckctr/$id2:1"
is "$(tenv_task_status "$id2")" RUNNING "task RUNNING after ctr's checkpoint"
ctr_idx=$(image_digest "ckctr/$id2:1")
out=$(cli take "$id2" "name=ckours/$id2:1" 2>&1)
ok $? "our checkpoint of the same container"
our_idx=$(image_digest "ckours/$id2:1")
is "$(media_types "$our_idx")" "$(media_types "$ctr_idx")" "same descriptor media types, in kind and count, as ctr"
is "$(annotation_keys "$our_idx")" "$(annotation_keys "$ctr_idx")" "same index annotations as ctr"

# A second checkpoint while earlier images exist: ctr 1.6.20 swallows an
# AlreadyExists here and writes an index without the CRIU dump; ours must not.
out=$(cli take "$id2" "name=ckours/$id2:2" 2>&1)
ok $? "second checkpoint of the same container"
idx2=$(image_digest "ckours/$id2:2")
is "$(media_types "$idx2")" "$want_types" "second checkpoint has all six descriptors"
n=$(memhog_records "$idx2")
ok "[ '${n:-0}' -ge $((8 * 256 * 256)) ]" "second checkpoint holds its CRIU dump ($n records)"
if tenv_ctr containers checkpoint --task --rw --image "$id2" "ckctr/$id2:2" >/dev/null 2>&1; then
  diag "for reference, ctr's second checkpoint holds: $(media_types "$(image_digest "ckctr/$id2:2")" | tr '\n' ' ')"
fi
is "$(tenv_task_status "$id2")" RUNNING "task RUNNING after all that"

# ------------------------------------------------------------ a failing dump
id3=$(tenv_uid cktcp)
# an established TCP connection inside the container: CRIU refuses it without --tcp-established
run_ok "container with an established TCP connection" tenv_run "$id3" sh -c \
  'httpd -f -p 8080 -h /www & sleep 0.5; (sleep 100000 | nc 127.0.0.1 8080 >/dev/null) & exec memhog 8 /tmp/count'
wait_for 30 count_at_least "$id3" 2
sleep 0.5
blobs_before=$(tenv_ctr content ls -q | sort)
out=$(cli take "$id3" "name=ckfail/$id3:1" 2>&1)
st=$?
isnt "$st" 0 "dump of an established TCP connection without tcp fails"
like "$out" 'error: EIO' "... with EIO"
like "$out" $'stage: dump\n' "report: failed in the dump stage"
like "$out" 'tcp-established' "report: CRIU's reason in plain words"
like "$out" $'task: running\n' "report: task running"
is "$(grep -c '^ckptfs: ' <<<"$out")" 1 "one line in the log"
like "$out" "ckptfs: error: checkpoint of $CKPTFS_TEST_NS/$id3 failed in stage dump: EIO: the dump failed: .*; CRIU: .*tcp-established" \
  "... at error: stage, errno name, containerd's and CRIU's messages"
is "$(tenv_task_status "$id3")" RUNNING "task RUNNING after the failure"
is "$(freezer "$id3")" THAWED "freezer THAWED after the failure"
is "$(image_digest "ckfail/$id3:1")" "" "no image"
new_blobs=$(comm -13 <(echo "$blobs_before") <(tenv_ctr content ls -q | sort))
is "$new_blobs" "" "no new blob once the lease is gone"
is "$(leases_left)" 0 "no lease left"
is "$(dump_dirs_left)" 0 "no dump dir left"
out=$(cli take "$id3" tcp "name=ckfail/$id3:2" 2>&1)
ok $? "with tcp the same container checkpoints"
is "$(tenv_task_status "$id3")" RUNNING "and keeps running"

# ------------------------------------------------------------ two writers, one container
out=$(cli busy "$id2" 2>/dev/null)
is "$out" $'first ok\nsecond EBUSY' "two takes of one container: one gets EBUSY"
is "$(tenv_task_status "$id2")" RUNNING "task RUNNING after the busy test"

# ------------------------------------------------------------ four containers at once
par=()
for i in 1 2 3 4; do
  p=$(tenv_uid ckpar$i)
  par+=("$p")
  tenv_run "$p" sh -c "echo par >/rw-marker; exec memhog 16 /tmp/count" || bail_out "cannot start $p"
done
for p in "${par[@]}"; do wait_for 30 count_at_least "$p" 1; done
out=$(cli parallel "${par[@]}" 2>&1)
ok $? "4 checkpoints in parallel all succeed"
[ $? = 0 ] || diag "$out"
good=0
for p in "${par[@]}"; do
  nm=$(awk -v p="$p" '$1 == p && $2 == "ok" { print $3 }' <<<"$out")
  d=$(image_digest "$nm")
  [ -n "$d" ] && [ "$(memhog_records "$d")" -ge $((16 * 256 * 256)) ] &&
    [ "$(tenv_task_status "$p")" = RUNNING ] && [ "$(freezer "$p")" = THAWED ] && good=$((good + 1))
done
is "$good" 4 "4 images with their CRIU dumps, 4 tasks RUNNING and THAWED"

# ------------------------------------------------------------ the frozen window ends before the upload
id4=$(tenv_uid ckwin)
run_ok "memhog 192 MiB started" start_memhog "$id4" 192
"$CLI" watch-freezer "/sys/fs/cgroup/freezer/$CKPTFS_TEST_NS/$id4/freezer.state" >"$TENV_DIR/watch" &
wpid=$!
sleep 0.2
# the default work dir: RAM when the dump fits
out=$(CKPTFS_WORK_DIR='' cli take "$id4" 2>&1)
ok $? "checkpoint of 192 MiB"
t_end=$(date +%s%3N)
kill -TERM "$wpid"
wait "$wpid"
w=$(cat "$TENV_DIR/watch")
thaw=$(sed -n 's/.*last_ms=\([0-9-]*\).*/\1/p' <<<"$w")
frozen=$(sed -n 's/^span_ms=\([0-9-]*\).*/\1/p' <<<"$w")
up=$(sed -n 's/^stage upload: \([0-9]*\) ms$/\1/p' <<<"$out")
diag "seen from outside: $w; take returned at $t_end; upload ${up} ms"
# CRIU thaws the cgroup while it holds the tasks under ptrace and freezes it
# again before letting go: one or two FROZEN intervals, one window.
like "$w" 'intervals=[12] ' "frozen for one window"
like "$w" 'still_frozen=0' "not left frozen"
like "$out" 'dump dir: under /dev/shm \(task memory ~19[0-9] MiB\)' "dumped into RAM (/dev/shm), the size known"
is "$(find /dev/shm /var/tmp -maxdepth 1 -name "ckptfs-dump-$id4-*" | wc -l)" 0 "no dump dir left in /dev/shm"
ok "[ '${thaw:-0}' -gt 0 ] && [ $((t_end - thaw)) -ge $((${up:-0} * 8 / 10)) ]" \
  "thawed before the upload: the dump's upload (${up} ms) is outside the frozen window (${frozen} ms)"

# ------------------------------------------------------------ errors and special cases
out=$(cli take "no-such-$id" 2>&1)
like "$out" 'error: ENOENT' "no such container: ENOENT"
id5=$(tenv_uid cknotask)
echo "$CKPTFS_TEST_NS $id5" >>"$CKPTFS_TEST_DIR/ids"
run_ok "container without a task" tenv_ctr containers create "$CKPTFS_TEST_IMAGE" "$id5" sh
out=$(cli take "$id5" 2>&1)
like "$out" 'error: ESRCH' "default checkpoint without a task: ESRCH"
out=$(cli take "$id5" task 2>&1)
like "$out" 'error: ESRCH' "task part without a task: ESRCH"
out=$(cli take "$id5" rw image runtime "name=cknotask/$id5:1" 2>&1)
ok $? "rw image runtime without a task succeeds"
d=$(image_digest "cknotask/$id5:1")
is "$(media_types "$d" | grep -c criu)" 0 "... and holds no CRIU dump"
like "$(media_types "$d" | tr '\n' ' ')" 'tar\+gzip' "... but the rw layer"

out=$(cli take "$id" bogus-word 2>&1)
like "$out" 'error: EINVAL' "bad command: EINVAL"
like "$out" 'unknown word "bogus-word"' "... the report says why"
out=$(cli take "$id" "name=ckours/$id2:1" 2>&1)
like "$out" 'error: EEXIST' "name taken: EEXIST"
is "$(freezer "$id")" THAWED "... and the task was not touched"

run_ok "user pauses the task" tenv_ctr tasks pause "$id"
out=$(cli take "$id" "name=ckpaused/$id:1" 2>&1)
ok $? "checkpoint of a paused task"
is "$(tenv_task_status "$id")" PAUSED "a task paused by the user stays paused"
like "$out" 'task: paused \(it was before; left as found\)' "... and the report of the checkpoint says so"
run_ok "user resumes it" tenv_ctr tasks resume "$id"

raw=$TENV_DIR/raw-dump
out=$(cli take "$id" "image-path=$raw" 2>&1)
ok $? "raw dump to image-path"
ok "ls '$raw'/pages-*.img >/dev/null 2>&1" "image-path holds CRIU images"
like "$out" "dump: $raw" "report names the dump dir"
is "$(tenv_task_status "$id")" RUNNING "task RUNNING after the raw dump"

out=$(cli take "$id2" exit "name=ckexit/$id2:1" 2>&1)
ok $? "checkpoint with exit"
tenv_wait_status "$id2" STOPPED 15
is "$(tenv_task_status "$id2")" STOPPED "exit stops the task"
like "$out" 'task: stopped' "report: task stopped"
is "$(media_types "$(image_digest "ckexit/$id2:1")" | grep -c criu)" 1 "... and the image holds the dump"

out=$(cli delete "ckexit/$id2:1" 2>&1)
is "$out" ok "delete of a checkpoint image"
is "$(image_digest "ckexit/$id2:1")" "" "image gone"
out=$(cli delete "ckexit/$id2:1" 2>&1)
like "$out" '^ENOENT' "delete again: ENOENT"

is "$(dump_dirs_left)" 0 "no dump dir left at the end"
is "$(leases_left)" 0 "no lease left at the end"
done_testing
