#!/usr/bin/env bash
# push and pull against a registry with token auth (docker-registry's
# `auth: token` and a small token server, tests/fixtures/registry-token.py):
# with the credentials of --registry-auth they work; without them, or with
# a wrong password, EACCES and a message; no token, password or credential
# in the daemon's log or in `cat`.
. "$(dirname "$0")/lib.sh"
require_ckptfs
REGISTRY_BIN=${REGISTRY_BIN:-/usr/bin/docker-registry}
[ -x "$REGISTRY_BIN" ] || skip_all "no $REGISTRY_BIN (apt-get install docker-registry)"
python3 -c 'import cryptography' 2>/dev/null || skip_all "no python3-cryptography"
command -v openssl >/dev/null || skip_all "no openssl"

mnt=$TENV_DIR/mnt
ns=$CKPTFS_TEST_NS
d=$TENV_DIR/registry
mkdir -p "$d/storage"
user=ckuser
pass="pw-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
run_ok "a token signing key and certificate" openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/key.pem" \
  -out "$d/cert.pem" -subj /CN=ckptfs-token -days 1
python3 "${CKPTFS_SRCDIR:-$(dirname "$0")/../..}/tests/fixtures/registry-token.py" "$d/token.port" "$d/key.pem" "$d/cert.pem" \
  "$user:$pass" ckptfs-issuer "$d/tokens" 2>>"$d/token.log" &
TOK_PID=$!
REG_PID=
_reg_exit() {
  local st=$?
  [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null && wait "$REG_PID" 2>/dev/null
  kill "$TOK_PID" 2>/dev/null && wait "$TOK_PID" 2>/dev/null
  [ -n "${REG3_PID:-}" ] && kill "$REG3_PID" 2>/dev/null
  (exit $st)
  _lib_on_exit
}
trap _reg_exit EXIT
wait_for 10 test -s "$d/token.port"
ok $? "the token server runs"
tport=$(cat "$d/token.port")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$d/config.yml" <<CFG
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $d/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
auth:
  token:
    realm: http://127.0.0.1:$tport/token
    service: ckptfs-registry
    issuer: ckptfs-issuer
    rootcertbundle: $d/cert.pem
CFG
"$REGISTRY_BIN" serve "$d/config.yml" >>"$d/registry.log" 2>&1 &
REG_PID=$!
wait_for 20 sh -c "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$port/v2/ | grep -q 401"
ok $? "the registry asks for a token"
reg=127.0.0.1:$port
write_err() { (printf '%s\n' "$2" > "$1") 2>&1; }
auth_json() { printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$1" "$(printf '%s' "$2" | base64 -w0)" > "$TENV_DIR/auth.json"; }
reg_token() { curl -sf -u "$user:$pass" "http://127.0.0.1:$tport/token?service=ckptfs-registry&scope=repository:$1:pull" | jq -r .token; }

auth_json other.example.com "$user:$pass"
id=$(tenv_uid rega)
run_ok "memhog 8 MiB started" start_memhog "$id" 8
ckptfs_mount "$mnt" --namespace "$ns" --registry-auth "$TENV_DIR/auth.json" || bail_out "mount failed"
c=$mnt/$ns/containers
echo > "$c/$id/checkpoint"
ok $? "checkpoint through the mount"
name=$(field name "$(cat "$c/$id/checkpoint")")
idx=$(image_digest "$name")
ck=$mnt/$ns/checkpoints/$name

msg=$(write_err "$ck/push" "$reg/ck/auth:v1")
like "$msg" "Permission denied" "push without credentials for the host: EACCES"
like "$(cat "$ck/push")" "errno: EACCES" "cat push: EACCES"
like "$(cat "$ck/push")" "no credentials" "cat push: says why"
auth_json "$reg" "$user:wrong"
msg=$(write_err "$ck/push" "$reg/ck/auth:v1")
like "$msg" "Permission denied" "push with a wrong password: EACCES"

auth_json "$reg" "$user:$pass"
echo "$reg/ck/auth:v1" > "$ck/push"
ok $? "push with the credentials of --registry-auth"
rep=$(cat "$ck/push")
is "$(field result "$rep")" ok "cat push: result ok"
tok=$(reg_token ck/auth)
is "$(curl -sf -I -H "Authorization: Bearer $tok" -H 'Accept: application/vnd.oci.image.index.v1+json' \
  "http://$reg/v2/ck/auth/manifests/v1" | tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p')" "$idx" \
  "the registry has the index under ck/auth:v1"

echo "$reg/ck/auth2:v1" > "$ck/push"
ok $? "push to another repository"
rep=$(cat "$ck/push")
is "$(field mounted "$rep")/$(field uploaded "$rep")" "$(field blobs "$rep")/0" \
  "every blob mounted from ck/auth (one token with pull on the source), none uploaded"
like "$(grep -c 'repository:ck/auth:pull' "$d/token.log")" '^[1-9]' "the token server was asked for pull on ck/auth"

echo "$reg/ck/auth:v1 name=pulled/auth:v1" > "$mnt/$ns/pull"
ok $? "pull with the credentials"
is "$(image_digest pulled/auth:v1)" "$idx" "the pulled image has the index digest"
auth_json other.example.com "$user:$pass"
msg=$(write_err "$mnt/$ns/pull" "$reg/ck/auth:v1 name=pulled/noauth:v1")
like "$msg" "Permission denied" "pull without credentials: EACCES"
is "$(image_digest pulled/noauth:v1)" "" "no image created"

# ------------------------------------------------------------ Basic auth (htpasswd, bcrypt)
python3 -W ignore -c 'import crypt, sys; print("%s:%s" % (sys.argv[1], crypt.crypt(sys.argv[2], crypt.mksalt(crypt.METHOD_BLOWFISH))))' \
  "$user" "$pass" > "$d/htpasswd"
port3=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$d/basic"
cat > "$d/basic.yml" <<CFG
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $d/basic
http:
  addr: 127.0.0.1:$port3
auth:
  htpasswd:
    realm: ckptfs-basic
    path: $d/htpasswd
CFG
"$REGISTRY_BIN" serve "$d/basic.yml" >>"$d/basic.log" 2>&1 &
REG3_PID=$!
wait_for 20 sh -c "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$port3/v2/ | grep -q 401"
ok $? "a registry with Basic auth (htpasswd)"
breg=127.0.0.1:$port3
msg=$(write_err "$ck/push" "$breg/ck/basic:v1")
like "$msg" "Permission denied" "Basic: push without credentials: EACCES"
auth_json "$breg" "$user:$pass"
echo "$breg/ck/basic:v1" > "$ck/push"
ok $? "Basic: push with the credentials" || diag "$(cat "$ck/push")"
is "$(curl -sf -I -u "$user:$pass" -H 'Accept: application/vnd.oci.image.index.v1+json' \
  "http://$breg/v2/ck/basic/manifests/v1" | tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p')" "$idx" \
  "Basic: the registry has the index"
echo "$breg/ck/basic:v1 name=pulled/basic:v1" > "$mnt/$ns/pull"
ok $? "Basic: pull with the credentials"
is "$(image_digest pulled/basic:v1)" "$idx" "Basic: the pulled image has the index digest"
kill "$REG3_PID"; wait "$REG3_PID" 2>/dev/null; REG3_PID=

ok "[ \$(wc -l < '$d/tokens') -ge 2 ]" "the token server issued tokens ($(wc -l < "$d/tokens"))"
all_cat="$(cat "$ck/push" "$mnt/$ns/pull")"
ckptfs_umount "$mnt"
leak=0
while read -r t; do
  grep -qF "$t" "$CKPTFS_LOG" && leak=1
  grep -qF "$t" <<<"$all_cat" && leak=1
done < "$d/tokens"
for s in "$pass" "$(printf '%s' "$user:$pass" | base64 -w0)"; do
  grep -qF "$s" "$CKPTFS_LOG" && leak=1
  grep -qF "$s" <<<"$all_cat" && leak=1
done
is "$leak" 0 "no token, password or credential in the log or in cat"
done_testing
