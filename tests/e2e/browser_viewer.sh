# Browser test of the viewer (tools/viewer): the sample pipeline through the CLI, the
# tileset served by tools/viewer/serve.mjs on a free 127.0.0.1 port, and headless
# Debian Chromium (SwiftShader) driven by npm playwright-core (tools/viewer/browser-test.mjs):
# all tiles load, something is drawn (frame with vs without the tileset), a building
# picked at the screen centre has an input id and the GLB's attributes, a click shows
# them in the side panel. Screenshots: $WORK/viewer.png, $WORK/viewer-picked.png.
# Missing chromium or tools/viewer/node_modules is a failure, never a skip.
. "$(dirname "$0")/common.bash"
viewer="$SRC/tools/viewer"
need() {
  echo "FAIL: $1: run tools/install-deps.sh (apt-get install chromium; npm ci --prefix tools/viewer)"
  exit 1
}
command -v node > /dev/null 2>&1 || need "node not found"
[ -x /usr/bin/chromium ] || need "/usr/bin/chromium missing (Debian package chromium)"
[ -f "$viewer/node_modules/cesium/Build/Cesium/Cesium.js" ] || need "tools/viewer/node_modules/cesium missing"
[ -d "$viewer/node_modules/playwright-core" ] || need "tools/viewer/node_modules/playwright-core missing"
command -v ogr2ogr > /dev/null 2>&1 || need "ogr2ogr missing (Debian package gdal-bin)"

# One run per compression setting: the viewer must decode meshopt-compressed tiles too.
run_variant() {
  local comp=$1 out="$WORK/tiles-$1" dir="$WORK/$1"
  mkdir -p "$dir"
  "$CLI" run "$SRC/pipelines/sample.json" --set "writers.3dtiles.path=$out" \
    --set "writers.3dtiles.compression=$comp" > "$dir/run.log" 2>&1
  check "$comp: sample pipeline exits 0" test $? -eq 0
  check "$comp: tileset.json written" test -s "$out/tileset.json"

  # The server on a free port; its first line names the URL.
  node "$viewer/serve.mjs" "$out" > "$dir/serve.log" 2>&1 &
  local server=$! url=""
  for _ in $(seq 1 100); do
    url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$dir/serve.log" | head -1)
    [ -n "$url" ] && break
    kill -0 "$server" 2> /dev/null || break
    sleep 0.1
  done
  check "$comp: viewer server started ($url)" test -n "$url"
  if [ -n "$url" ]; then
    local start rc
    start=$(date +%s)
    timeout 150 node "$viewer/browser-test.mjs" --url "$url" --tileset "$out" \
      --pipeline "$SRC/pipelines/sample.json" --out "$dir" --timeout 110 > "$dir/browser.log" 2>&1
    rc=$?
    sed 's/^/  /' "$dir/browser.log"
    check "$comp: browser test passes (exit $rc, $(($(date +%s) - start)) s; log $dir/browser.log)" test "$rc" -eq 0
    check "$comp: screenshot written ($dir/viewer.png)" test -s "$dir/viewer.png"
  else
    cat "$dir/serve.log"
  fi
  kill "$server" 2> /dev/null
  wait "$server" 2> /dev/null
}
run_variant none
run_variant meshopt
finish
