#!/usr/bin/env bash
# Push and pull of a checkpoint through a real OCI registry (Debian's
# docker-registry, CNCF distribution, on loopback with its storage in the
# test's dir): `push` in a checkpoint directory, <ns>/pull; the index digest
# the same everywhere, a second push uploads nothing, a pulled checkpoint
# restores with ctr, a corrupt blob or a stopped registry fails cleanly.
. "$(dirname "$0")/lib.sh"
require_ckptfs
REGISTRY_BIN=${REGISTRY_BIN:-/usr/bin/docker-registry}
[ -x "$REGISTRY_BIN" ] || skip_all "no $REGISTRY_BIN (apt-get install docker-registry)"
command -v curl >/dev/null || skip_all "no curl"

mnt=$TENV_DIR/mnt
ns=$CKPTFS_TEST_NS
regdir=$TENV_DIR/registry
mkdir -p "$regdir/storage"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$regdir/config.yml" <<CFG
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $regdir/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
CFG
REG_PID=
_reg_exit() {
  local st=$?
  [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null && wait "$REG_PID" 2>/dev/null
  [ -n "${REG2_PID:-}" ] && kill "$REG2_PID" 2>/dev/null
  (exit $st)
  _lib_on_exit
}
trap _reg_exit EXIT
start_registry() {
  "$REGISTRY_BIN" serve "$regdir/config.yml" >>"$regdir/log" 2>&1 &
  REG_PID=$!
  wait_for 20 curl -sf -o /dev/null "http://127.0.0.1:$port/v2/"
}
start_registry
ok $? "registry serves on 127.0.0.1:$port"
reg=127.0.0.1:$port
IDX_ACCEPT='Accept: application/vnd.oci.image.index.v1+json'
# the digest the registry gives for a tag, from its header and from the bytes
reg_header_digest() { curl -sf -I -H "$IDX_ACCEPT" "http://$reg/v2/$1/manifests/$2" | tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p'; }
reg_body_digest() { echo "sha256:$(curl -sf -H "$IDX_ACCEPT" "http://$reg/v2/$1/manifests/$2" | sha256sum | cut -d' ' -f1)"; }
# a write to a control file: its stderr (the errno's text) on failure
# blob in containerd's content store (its metadata: a removed blob's file waits for the GC)
in_store() { tenv_ctr content ls | awk -v d="$1" '$1 == d { f = 1 } END { exit !f }'; }
write_err() { (printf '%s\n' "$2" > "$1") 2>&1; }

id=$(tenv_uid reg)
# 80 MiB: the CRIU tar goes up in PATCH chunks (rpc/registry: above 64 MiB)
run_ok "memhog 80 MiB started" start_memhog "$id" 80
ckptfs_mount "$mnt" --namespace "$ns" || bail_out "mount failed"
c=$mnt/$ns/containers
c_ck=$(count_of "$id")
echo > "$c/$id/checkpoint"
ok $? "checkpoint through the mount"
rep=$(cat "$c/$id/checkpoint")
name=$(field name "$rep")
idx=$(image_digest "$name")
like "$idx" '^sha256:[0-9a-f]{64}$' "the checkpoint's index ($idx)"
ck=$mnt/$ns/checkpoints/$name
ok "wait_for 10 test -f '$ck/push'" "push is in the checkpoint directory"

# ------------------------------------------------------------ push
t0=$(date +%s%N)
echo "$reg/ck/test:v1" > "$ck/push"
ok $? "echo REGISTRY/REPO:TAG > push"
t1=$(date +%s%N)
rep=$(cat "$ck/push")
diag "$rep" "push: $(( (t1 - t0) / 1000000 )) ms"
is "$(field result "$rep")" ok "cat push: result ok"
is "$(field digest "$rep")" "$idx" "cat push: the index digest"
blobs=$(field blobs "$rep")
ok "[ '$(field uploaded "$rep")' -ge 3 ]" "blobs uploaded ($(field uploaded "$rep") of $blobs)"
ok "[ '$(field manifests "$rep")' -ge 2 ]" "the base manifest and the index as manifests"
is "$(field chunked "$rep")" 1 "the CRIU tar (> 64 MiB) in chunks"
is "$(reg_header_digest ck/test v1)" "$idx" "the registry's Docker-Content-Digest of ck/test:v1 is the index digest"
is "$(reg_body_digest ck/test v1)" "$idx" "the registry's bytes of ck/test:v1 hash to the index digest"
criu=$(criu_blob "$idx")
is "$(curl -sf "http://$reg/v2/ck/test/blobs/$criu" | sha256sum | cut -d' ' -f1)" "${criu#sha256:}" \
  "the CRIU tar is in the registry, intact"

echo "$reg/ck/test:v1" > "$ck/push"
ok $? "a second push of the same checkpoint"
rep=$(cat "$ck/push")
is "$(field uploaded "$rep")" 0 "second push: no blob uploaded"
is "$(field skipped "$rep")" "$blobs" "second push: all $blobs blobs skipped"

tag=${name#containerd.io/checkpoint/$id:}
echo "$reg/ck/other:v2" > "$c/$id/checkpoints/$tag/push"
ok $? "push from containers/<id>/checkpoints/<tag>/ to another repository"
is "$(reg_header_digest ck/other v2)" "$idx" "ck/other:v2 has the same index digest"
rep=$(cat "$c/$id/checkpoints/$tag/push")
is "$(field mounted "$rep")/$(field uploaded "$rep")" "$blobs/0" "every blob mounted from ck/test, none uploaded"

# ------------------------------------------------------------ plain HTTP only on loopback or when asked
hostip=$(ip -4 -o addr show scope global 2>/dev/null | awk '{ sub("/.*", "", $4); print $4; exit }')
if [ -n "$hostip" ]; then
  mkdir -p "$regdir/ext"
  port2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  sed -e "s|$regdir/storage|$regdir/ext|" -e "s|127.0.0.1:$port|$hostip:$port2|" "$regdir/config.yml" > "$regdir/ext.yml"
  "$REGISTRY_BIN" serve "$regdir/ext.yml" >>"$regdir/ext.log" 2>&1 &
  REG2_PID=$!
  wait_for 20 curl -sf -o /dev/null "http://$hostip:$port2/v2/"
  ok $? "a second registry on $hostip:$port2 (not loopback)"
  msg=$(write_err "$ck/push" "$hostip:$port2/ck/ext:v1")
  like "$msg" "Input/output error" "push to a non-loopback registry without insecure: HTTPS, which it does not speak: EIO"
  like "$(cat "$ck/push")" "SSL|TLS|ssl" "cat push: the TLS failure"
  echo "$hostip:$port2/ck/ext:v1 insecure" > "$ck/push"
  ok $? "with insecure: plain HTTP"
  is "$(curl -sf -I -H "$IDX_ACCEPT" "http://$hostip:$port2/v2/ck/ext/manifests/v1" | tr -d '\r' |
    sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p')" "$idx" "the non-loopback registry has the index"
  kill "$REG2_PID"; wait "$REG2_PID" 2>/dev/null
else
  for _ in 1 2 3 4 5; do skip "no global IPv4 address here: the insecure test"; done
fi

msg=$(write_err "$ck/push" "not-a-ref")
like "$msg" "Invalid argument" "a bad reference: EINVAL"
like "$(cat "$ck/push")" "invalid reference" "cat push says why"

# ------------------------------------------------------------ pull, restore
own=$(python3 -c '
import json, sys
for d in json.load(open(sys.argv[1]))["manifests"]:
    if not d["mediaType"].endswith("manifest.v1+json"):
        print(d["digest"])' "$BLOBS/${idx#sha256:}")
remove_container "$id"
run_ok "ctr images rm the checkpoint" tenv_ctr images rm --sync "$name"
tenv_ctr content rm "$idx" $own >/dev/null 2>&1
ok "[ ! -e '$BLOBS/${idx#sha256:}' ] && [ ! -e '$BLOBS/${criu#sha256:}' ]" "the index and the CRIU tar are gone from the content store"
pname=restored/from-registry:v1
t0=$(date +%s%N)
echo "$reg/ck/test:v1 name=$pname" > "$mnt/$ns/pull"
ok $? "echo 'REGISTRY/REPO:TAG name=REF' > <ns>/pull"
t1=$(date +%s%N)
rep=$(cat "$mnt/$ns/pull")
diag "$rep" "pull: $(( (t1 - t0) / 1000000 )) ms"
is "$(field result "$rep")" ok "cat pull: result ok"
ok "[ '$(field skipped "$rep")' -ge 1 ]" "blobs containerd had (the base image's) not fetched ($(field skipped "$rep"))"
is "$(( $(field fetched "$rep") + $(field skipped "$rep") ))" "$(field blobs "$rep")" "the others fetched"
is "$(image_digest "$pname")" "$idx" "the pulled image has the same index digest"
like "$(tenv_ctr images ls | awk -v n="$pname" '$1 == n')" "containerd.io/checkpoint=true" "the pulled image has the checkpoint label"
ok "[ -f '$BLOBS/${criu#sha256:}' ]" "the CRIU tar is back in the content store"
ok "wait_for 10 test -d '$mnt/$ns/checkpoints/$pname/task'" "the pulled checkpoint shows in the mount"
run_ok "ctr c restore --live --rw of the pulled image" tenv_ctr containers restore --live --rw "$id" "$pname"
is "$(tenv_task_status "$id")" RUNNING "restored task RUNNING"
c_rest=$(count_of "$id")
ok "[ '${c_rest:-0}' -ge '$c_ck' ]" "the restored counter continues from the checkpoint ($c_ck -> $c_rest)"
wait_for 10 count_at_least "$id" $((c_rest + 1))
ok $? "the restored counter keeps counting"
is "$(tenv_cat "$id" /rw-marker)" "rw-of-$id" "the rw-layer file is back"

msg=$(write_err "$mnt/$ns/pull" "$reg/ck/test:v1 name=$pname")
like "$msg" "File exists" "pull onto an existing name: EEXIST"
if [ -e "$mnt/$ns/import" ]; then
  echo "pull $reg/ck/test:v1 name=via/import:v1" > "$mnt/$ns/import"
  ok $? "echo 'pull REGISTRY/REPO:TAG name=REF' > <ns>/import"
  is "$(image_digest via/import:v1)" "$idx" "the image pulled through import has the index digest"
else
  for _ in 1 2; do skip "no <ns>/import in this build"; done
fi
msg=$(write_err "$mnt/$ns/pull" "$reg/ck/nothing:here name=x/none:v1")
like "$msg" "No such file|Input/output" "pull of an absent tag fails ($msg)"

# ------------------------------------------------------------ a corrupt blob in the registry
data=$(find "$regdir/storage" -path "*/blobs/sha256/*/${criu#sha256:}/data")
ok "[ -f '$data' ]" "the CRIU tar's file in the registry's storage"
cp "$data" "$TENV_DIR/criu.saved"
# pull fetches only what containerd lacks: make it lack the CRIU tar
tenv_ctr content rm "$criu" >/dev/null 2>&1
ok "! in_store '$criu'" "the CRIU tar removed from the content store (ctr content ls)"
python3 -c '
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(1000); b = f.read(1); f.seek(1000); f.write(bytes([b[0] ^ 0xff]))' "$data"
msg=$(write_err "$mnt/$ns/pull" "$reg/ck/test:v1 name=corrupt/pull:v1")
like "$msg" "Input/output error" "pull of a corrupt blob: EIO"
like "$(cat "$mnt/$ns/pull")" "does not match its digest" "cat pull: the digest mismatch"
is "$(image_digest corrupt/pull:v1)" "" "no image created"
idata=$(find "$regdir/storage" -path "*/blobs/sha256/*/${idx#sha256:}/data")
cp "$idata" "$TENV_DIR/index.saved"
python3 -c '
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(5); b = f.read(1); f.seek(5); f.write(bytes([b[0] ^ 0x20]))' "$idata"
ok "! cmp -s '$idata' '$TENV_DIR/index.saved'" "the index changed in the registry's storage"
msg=$(write_err "$mnt/$ns/pull" "$reg/ck/test:v1 name=corrupt/index:v1")
like "$msg" "Input/output error" "pull of an index that does not match the tag's digest: EIO"
like "$(cat "$mnt/$ns/pull")" "the index from the registry does not match its digest" "cat pull: the index mismatch"
is "$(image_digest corrupt/index:v1)" "" "no image created"
cp "$TENV_DIR/index.saved" "$idata"
cp "$TENV_DIR/criu.saved" "$data"
echo "$reg/ck/test:v1 name=again/pull:v1" > "$mnt/$ns/pull"
ok $? "the registry's storage repaired: the next pull works"
ok "in_store '$criu'" "the CRIU tar is back (ctr content ls)"

# ------------------------------------------------------------ the registry frozen: the deadline
kill -STOP "$REG_PID"
t0=$(date +%s)
msg=$(write_err "$mnt/$ns/checkpoints/$pname/push" "$reg/ck/frozen:v1")
t1=$(date +%s)
kill -CONT "$REG_PID"
like "$msg" "Connection timed out|Input/output error" "push to a frozen registry fails ($msg)"
ok "[ $((t1 - t0)) -le 60 ]" "within the deadline ($((t1 - t0)) s)"
echo "$reg/ck/frozen:v1" > "$mnt/$ns/checkpoints/$pname/push"
ok $? "the next push, the registry thawed, works"
is "$(field result "$(cat "$mnt/$ns/checkpoints/$pname/push")")" ok "cat push: ok"

# ------------------------------------------------------------ the registry gone
kill "$REG_PID"; wait "$REG_PID" 2>/dev/null; REG_PID=
ck=$mnt/$ns/checkpoints/$pname   # the first checkpoint's image is gone: its pulled twin
t0=$(date +%s)
msg=$(write_err "$ck/push" "$reg/ck/test:v3")
t1=$(date +%s)
like "$msg" "Input/output error|Connection timed out" "push to a stopped registry: EIO ($msg)"
ok "[ $((t1 - t0)) -le 40 ]" "within the deadline ($((t1 - t0)) s)"
like "$(cat "$ck/push")" "errno: (EIO|ETIMEDOUT)" "cat push: the error"
msg=$(write_err "$mnt/$ns/pull" "$reg/ck/test:v1 name=gone/pull:v1")
like "$msg" "Input/output error|Connection timed out" "pull from a stopped registry: EIO"
is "$(image_digest gone/pull:v1)" "" "no image created"

ckptfs_umount "$mnt"
done_testing
