# Shared helpers for the e2e shell tests (sourced, not a test itself).
set -u
CLI=${CT_CLI:?CT_CLI must name the citytiler binary}
SRC=${CT_SOURCE_DIR:?}
WORK=${CT_BINARY_DIR:?}/test-out/$(basename "$0" .sh)
rm -rf "$WORK" && mkdir -p "$WORK"
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}
# The validators need tools/validate/node_modules (installed by tools/setup.sh).
need_validators() {
  if [ ! -d "$SRC/tools/validate/node_modules/gltf-validator" ]; then
    echo "FAIL: tools/validate/node_modules missing: run tools/setup.sh (or npm ci --prefix tools/validate)"
    exit 1
  fi
}
