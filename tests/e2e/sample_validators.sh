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
check "no temporary directory left" test -z "$(ls -d "$out".partial 2>/dev/null)"
node "$SRC/tools/validate/validate-glb.mjs" "$out" > "$WORK/glb.log" 2>&1
check "Khronos glTF validator: 0 errors on every GLB ($(tail -1 "$WORK/glb.log"))" test $? -eq 0
node "$SRC/tools/validate/validate-tileset.mjs" "$out" > "$WORK/tileset.log" 2>&1
check "tileset.json valid against the 3D Tiles 1.1 schema ($(tail -1 "$WORK/tileset.log"))" test $? -eq 0
node -e 'const s = require(process.argv[1]); process.exit(s.outputs.buildings === 160 && s.inputs.features === 160 && s.stages.length === 6 && s.peak_rss_bytes > 0 ? 0 : 1)' "$out/run-summary.json"
check "run-summary.json: 160 features in, 160 buildings out, 6 stages timed, peak memory" test $? -eq 0
# CPU seconds per stage (all threads): a number for every stage, the writer too, and not
# all zero.
node -e 'const s = require(process.argv[1]); const c = s.stages.map((x) => x.cpu_seconds); process.exit(c.every((v) => typeof v === "number" && v >= 0) && c.reduce((a, b) => a + b, 0) > 0 ? 0 : 1)' "$out/run-summary.json"
check "run-summary.json: CPU seconds for every stage" test $? -eq 0
# A peak is never below the memory in use then (the kernel's high-water mark lags: "memory
# 88 MiB, peak 87 MiB" was logged).
node -e 'const s = require(process.argv[1]); process.exit(s.stages.every((x) => x.rss_bytes_after > 0 &&
  x.peak_rss_bytes_after >= x.rss_bytes_after) ? 0 : 1)' "$out/run-summary.json"
check "run-summary.json: every stage's memory, the writer's too, its peak at least its memory in use" test $? -eq 0
# Which files went in: each reader's sources with their counts and sizes.
node -e 'const fs = require("fs"), s = require(process.argv[1]), src = s.inputs.sources || [];
  const fp = src.filter((x) => x.stage === "readers.footprints"), las = src.filter((x) => x.stage === "readers.lidar");
  const lasFile = process.argv[2] + "/data-samples/delft/delft_ahn3_every4th_epsg28992.las";
  const lasHeaderCount = fs.readFileSync(lasFile).readUInt32LE(107);
  process.exit(src.length === 2 && fp.length === 1 && fp[0].path.endsWith("/bgt_pand.gpkg") && fp[0].features === 160 &&
    las.length === 1 && fs.realpathSync(las[0].path) === fs.realpathSync(lasFile) && las[0].points === lasHeaderCount &&
    las[0].bytes === fs.statSync(lasFile).size ? 0 : 1)' "$out/run-summary.json" "$SRC"
check "run-summary.json: the sources read (paths, counts, bytes)" test $? -eq 0
grep -q '"version": "1.1"' "$out/tileset.json"
check "asset.version 1.1" test $? -eq 0
# A vertex budget per tile: every leaf's mesh stays within it (a single building may not).
"$CLI" run "$SRC/pipelines/sample.json" --set "writers.3dtiles.path=$WORK/vbudget" \
  --set writers.3dtiles.max_vertices_per_tile=3000 --set writers.3dtiles.max_buildings_per_tile=1000 > "$WORK/vbudget.log" 2>&1
check "vertex budget run exits 0" test $? -eq 0
# The summary holds the pipeline as it ran (every option: defaults filled in, --set
# applied), and running it again gives the same tiles.
node -e 'const s = require(process.argv[1]), st = s.pipeline.stages, w = st[st.length - 1];
  const ok = st.length === 6 && w.type === "writers.3dtiles" && w.max_vertices_per_tile === 3000 &&
    w.max_buildings_per_tile === 1000 && st[3].type === "filters.heights" && st[3].max_buffer === 24 &&
    s.pipeline.file.endsWith("/pipelines/sample.json");
  require("fs").writeFileSync(process.argv[2], JSON.stringify({pipeline: st}));
  process.exit(ok ? 0 : 1)' "$WORK/vbudget/run-summary.json" "$WORK/as-run.json"
check "run-summary.json: the pipeline as it ran (--set values, defaults)" test $? -eq 0
"$CLI" run "$WORK/as-run.json" --set "writers.3dtiles.path=$WORK/again" > "$WORK/again.log" 2>&1
check "the summary's pipeline runs" test $? -eq 0
diff -r -x run-summary.json "$WORK/vbudget" "$WORK/again" > /dev/null
check "the summary's pipeline makes the same tiles" test $? -eq 0
node -e 'const fs = require("fs"), path = require("path");
  const dir = process.argv[1], ts = JSON.parse(fs.readFileSync(path.join(dir, "tileset.json")));
  let worst = 0, leaves = 0;
  (function walk(t) {
    if (!t.children && t.content) {
      const b = fs.readFileSync(path.join(dir, t.content.uri)), jl = b.readUInt32LE(12);
      const j = JSON.parse(b.subarray(20, 20 + jl));
      worst = Math.max(worst, j.accessors[j.meshes[0].primitives[0].attributes.POSITION].count); leaves++;
    }
    (t.children || []).forEach(walk);
  })(ts.root);
  console.log("leaves", leaves, "largest", worst); process.exit(leaves > 1 && worst <= 3000 ? 0 : 1)' "$WORK/vbudget" > "$WORK/vbudget.txt"
check "vertex budget: every leaf within 3000 vertices ($(cat "$WORK/vbudget.txt"))" test $? -eq 0
node "$SRC/tools/validate/validate-tileset.mjs" "$WORK/vbudget" > /dev/null 2>&1
check "vertex budget: tileset valid" test $? -eq 0

# Where the model stands against other data: the operation PROJ places it in WGS 84 by,
# and its accuracy, in the log and the summary (QA 5: a 1-2 m Helmert chosen for a
# missing grid was never told); a working CRS with no known datum shift (PROJ's ballpark:
# metres to hundreds of metres off) is a warning.
check "the log names the placement and its accuracy" grep -q \
  "writers.3dtiles: PROJ places the model in WGS 84 by 'Inverse of RD New + Amersfoort to WGS 84 ([0-9]*) + axis order change (2D)', accurate to [0-9.]* m" "$WORK/run.log"
node -e 'const t = require(process.argv[1]).outputs.tiles; process.exit(/Amersfoort to WGS 84/.test(t.placement_operation) &&
  t.placement_accuracy_m > 0 && "geoid" in t ? 0 : 1)' "$out/run-summary.json"
check "run-summary.json: the placement, its accuracy and the geoid" test $? -eq 0
printf '{"pipeline": [{"type": "readers.footprints", "path": "%s", "srs": "+proj=tmerc +lat_0=52 +lon_0=5 +k=1 +x_0=0 +y_0=0 +ellps=bessel +units=m +no_defs"}, {"type": "filters.extrude"}, {"type": "writers.3dtiles", "path": "%s"}]}\n' \
  "$SRC/data-samples/delft/bgt_pand.gpkg" "$WORK/ballpark" > "$WORK/ballpark.json"
"$CLI" run "$WORK/ballpark.json" > "$WORK/ballpark.log" 2>&1
check "a datum without a known shift: exit 0" test $? -eq 0
check "a datum without a known shift: warned" grep -q "PROJ places the model in WGS 84 by .*Ballpark.*, of unknown accuracy" "$WORK/ballpark.log"
node -e 'const t = require(process.argv[1]).outputs.tiles; process.exit(t.placement_accuracy_m === null ? 0 : 1)' "$WORK/ballpark/run-summary.json"
check "a datum without a known shift: accuracy null in the summary" test $? -eq 0
# --quiet: no progress line on a terminal either (through script(1); batch logs: city_10k).
if command -v script > /dev/null; then
  script -qc "'$CLI' run '$SRC/pipelines/sample.json' --set 'writers.3dtiles.path=$WORK/p3' -q" /dev/null > "$WORK/p3.log" 2>&1
  # (a progress line on a terminal ends with ESC [K, drawn over by the next)
  check "--quiet on a terminal: no progress line" test -z "$(grep -a "$(printf '\033')\\[K" "$WORK/p3.log")"
  script -qc "'$CLI' run '$SRC/pipelines/sample.json' --set 'writers.3dtiles.path=$WORK/p4'" /dev/null > "$WORK/p4.log" 2>&1
  check "on a terminal: progress lines drawn in place" grep -aq "$(printf '\033')\\[K" "$WORK/p4.log"
fi
# A second run replaces the earlier output in place (no leftovers).
"$CLI" run "$SRC/pipelines/sample.json" --set "writers.3dtiles.path=$out" > "$WORK/run2.log" 2>&1
check "rerun over an earlier output exits 0" test $? -eq 0
check "rerun leaves no .old or .tmp directory" test -z "$(ls -d "$out".partial "$out".old-* 2>/dev/null)"
finish
