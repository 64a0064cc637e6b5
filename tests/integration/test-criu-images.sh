#!/usr/bin/env bash
# The CRIU images of a real containerd checkpoint (busybox counter) decoded
# by store/criu (tests/store/criu/criu-decode) against crit of the same CRIU
# 4.2.1 source (scripts/install-deps.sh): every record image of the CRIU tar
# must give the same JSON value as `crit decode --pretty -i FILE`
# (tests/integration/criu-compare.py lists the images that differ).
. "$(dirname "$0")/lib.sh"

decoder=${CRIU_DECODE:-}
crit=${CRIT:-/opt/ckptfs/criu-4.2.1/crit.sh}
[ -n "$decoder" ] && [ -x "$decoder" ] || skip_all "criu-decode not built (no CRIU images prefix at configure time)"
[ -x "$crit" ] || skip_all "no crit at $crit (scripts/install-deps.sh)"

id=$(tenv_uid crit)
run_ok "busybox counter started" \
  tenv_run "$id" sh -c 'i=0; while true; do i=$((i+1)); echo $i >/tmp/count; sleep 1; done'
ok "wait_for 30 count_at_least '$id' 2" "the counter counts"
name=containerd.io/checkpoint/$id:crit
LIB_CMD_TIMEOUT=120 run_ok "ctr c checkpoint --task" tenv_ctr containers checkpoint --task "$id" "$name"
idx=$(image_digest "$name")
like "$idx" '^sha256:' "the checkpoint image exists"
blob=$(criu_blob "$idx")
like "$blob" '^sha256:' "its index names a CRIU tar"
dir=$TENV_DIR/criu
mkdir -p "$dir"
run_ok "the CRIU tar extracts" tar -C "$dir" -xf "$BLOBS/${blob#sha256:}"
ok '[ -f "$dir/pstree.img" ] && [ -f "$dir/inventory.img" ]' "it holds pstree.img and inventory.img"

out=$(timeout 300 /usr/bin/python3 "$LIB_DIR/criu-compare.py" "$crit" "$decoder" "$dir" 2>&1)
st=$?
while IFS= read -r line; do diag "$line"; done < <(grep -v '^same ' <<<"$out")
ok $st "every record image decodes as crit decodes it: $(tail -n1 <<<"$out")"
like "$(grep -c '^same ' <<<"$out")" '^[1-9][0-9]+$' "at least ten record images compared"

# ------------------------------------------------------------ decoded/ in the mount
if [ -n "${CKPTFS:-}" ] && [ -x "$CKPTFS" ]; then
  mnt=$TENV_DIR/mnt
  ckptfs_mount "$mnt" --namespace "$CKPTFS_TEST_NS" || bail_out "mount failed"
  ck=$mnt/$CKPTFS_TEST_NS/containers/$id/checkpoints/crit
  ok "wait_for 10 test -d '$ck/decoded'" "the checkpoint has decoded/"
  out=$(timeout 300 /usr/bin/python3 "$LIB_DIR/criu-compare.py" "$crit" "$ck/decoded" "$ck/task" 2>&1)
  st=$?
  while IFS= read -r line; do diag "$line"; done < <(grep -v '^same ' <<<"$out")
  ok $st "decoded/*.json equal crit's output for every record image of task/: $(tail -n1 <<<"$out")"
  is "$(stat -c %a "$ck/decoded/mm-1.json")" 400 "mm-1.json is for the owner only"
  is "$(stat -c %a "$ck/decoded/pstree.json")" 444 "pstree.json is readable"
  is "$(stat -c %s "$ck/decoded/pstree.json")" "$(wc -c <"$ck/decoded/pstree.json")" "st_size is the exact size"
  ok '[ ! -e "$ck/decoded/pages-1.json" ]' "raw images have no decoded file"
  ckptfs_umount "$mnt"
else
  skip "no ckptfs binary: decoded/ not checked"
fi

remove_container "$id"
done_testing
