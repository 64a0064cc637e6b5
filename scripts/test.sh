#!/usr/bin/env bash
# The single test command: installs dependencies, builds with ASan+UBSan into
# build-test/ and runs every meson test (unit suites + integration, which run
# real containerd and real FUSE mounts; see tests/integration/lib.sh).
#
#   bash scripts/test.sh [extra `meson test` arguments, e.g. --suite integration]
#
# Exits non-zero on any failure.  UBSan is fatal (-fno-sanitize-recover=all);
# the sanitizer runtime options below apply to every test program.
# Knobs: CKPTFS_TEST_BUILDDIR (build-test), CKPTFS_TIMEOUT_MULTIPLIER (1),
#        CKPTFS_TEST_JOBS (meson's default: number of CPUs),
#        CKPTFS_TEST_TOTAL_TIMEOUT (80m: a hard limit on the whole test run).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

builddir=${CKPTFS_TEST_BUILDDIR:-build-test}
log() { echo "test.sh: $*" >&2; }
t0=$(date +%s)

log "dependencies"
timeout 40m bash scripts/install-deps.sh

opts=(
  -Db_sanitize=address,undefined
  -Db_lundef=false
  -Dc_args=-fno-sanitize-recover=all
  -Dbuildtype=debugoptimized
  -Dtests=enabled
)
log "configure $builddir (${opts[*]})"
if [ -f "$builddir/meson-private/coredata.dat" ]; then
  meson setup --reconfigure "$builddir" "${opts[@]}" >/dev/null ||
    { log "reconfigure failed; wiping $builddir"; rm -rf "$builddir"; meson setup "$builddir" "${opts[@]}" >/dev/null; }
else
  rm -rf "$builddir"
  meson setup "$builddir" "${opts[@]}" >/dev/null
fi

log "build"
meson compile -C "$builddir"

supp=$PWD/tests/fixtures/lsan.supp
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:print_summary=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:print_summary=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$supp:print_suppressions=0}

jobs=()
[ -n "${CKPTFS_TEST_JOBS:-}" ] && jobs=(--num-processes "$CKPTFS_TEST_JOBS")
log "test"
st=0
timeout -k 30 "${CKPTFS_TEST_TOTAL_TIMEOUT:-80m}" \
  meson test -C "$builddir" --print-errorlogs \
  --timeout-multiplier "${CKPTFS_TIMEOUT_MULTIPLIER:-1}" "${jobs[@]}" "$@" || st=$?

# Anything a killed test could not clean up (tests/integration/lib.sh envs).
bash scripts/testenv.sh reap >/dev/null 2>&1 || true

log "done in $(($(date +%s) - t0)) s: $([ $st = 0 ] && echo PASS || echo "FAIL (status $st)")"
exit $st
