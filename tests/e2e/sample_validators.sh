# The sample pipeline through the CLI: exit 0, a tileset on disk, 0 errors from the
# Khronos glTF validator on every GLB, tileset.json valid against the 3D Tiles 1.1
# schema (../shared/schema/3d-tiles) plus structural checks.
. "$(dirname "$0")/common.bash"
need_validators
out="$WORK/tiles"
"$CLI" run "$SRC/pipelines/sample.json" --set "writers.3dtiles.path=$out" > "$WORK/run.log" 2>&1
check "sample pipeline exits 0" test $? -eq 0
check "tileset.json written" test -s "$out/tileset.json"
nglb=$(find "$out" -name '*.glb' | wc -l)
check "GLB tiles written ($nglb)" test "$nglb" -gt 1
check "no temporary directory left" test -z "$(ls -d "$out".tmp-* 2>/dev/null)"
node "$SRC/tools/validate/validate-glb.mjs" "$out" > "$WORK/glb.log" 2>&1
check "Khronos glTF validator: 0 errors on every GLB ($(tail -1 "$WORK/glb.log"))" test $? -eq 0
node "$SRC/tools/validate/validate-tileset.mjs" "$out" > "$WORK/tileset.log" 2>&1
check "tileset.json valid against the 3D Tiles 1.1 schema ($(tail -1 "$WORK/tileset.log"))" test $? -eq 0
node -e 'const s = require(process.argv[1]); process.exit(s.outputs.buildings === 160 && s.inputs.features === 160 && s.stages.length === 5 && s.peak_rss_bytes > 0 ? 0 : 1)' "$out/run-summary.json"
check "run-summary.json: 160 features in, 160 buildings out, 5 stages timed, peak memory" test $? -eq 0
grep -q '"version": "1.1"' "$out/tileset.json"
check "asset.version 1.1" test $? -eq 0
# A second run replaces the earlier output in place (no leftovers).
"$CLI" run "$SRC/pipelines/sample.json" --set "writers.3dtiles.path=$out" > "$WORK/run2.log" 2>&1
check "rerun over an earlier output exits 0" test $? -eq 0
check "rerun leaves no .old or .tmp directory" test -z "$(ls -d "$out".tmp-* "$out".old-* 2>/dev/null)"
finish
