# The bad-footprint corpus (tests/data/bad_footprints/) through
# readers.footprints -> filters.clean -> filters.extrude -> writers.3dtiles:
# exit 0; every case is either in the output (its id in a GLB's property table) or
# skipped with its named reason (a per-feature warning and a summary line); the closing
# summary's counts equal the numbers of affected cases; both validators pass.
# The 1e5-vertex ring (c25) is generated here rather than committed.
. "$(dirname "$0")/common.bash"
need_validators
corpus="$WORK/corpus.geojson"
node -e '
const fs = require("fs");
const src = fs.readFileSync(process.argv[1], "utf8");
// NaN/Infinity are not JSON: protect them through the parse, as GDAL reads them.
const fc = JSON.parse(src.replace(/NaN/g, "\"__NaN\"").replace(/Infinity/g, "\"__Inf\""));
const ring = [], n = 100000, cx = 86250, cy = 447000, r = 15;
for (let i = 0; i < n; i++) ring.push([cx + r * Math.cos(2 * Math.PI * i / n), cy + r * Math.sin(2 * Math.PI * i / n)]);
ring.push(ring[0]);
fc.features.push({type: "Feature", id: 25, properties: {name: "c25_ring_1e5"}, geometry: {type: "Polygon", coordinates: [ring]}});
fs.writeFileSync(process.argv[2], JSON.stringify(fc).replace(/"__NaN"/g, "NaN").replace(/"__Inf"/g, "Infinity"));
' "$SRC/tests/data/bad_footprints/bad_footprints.geojson" "$corpus"
check "corpus with the generated 1e5-vertex ring written" test -s "$corpus"
cat > "$WORK/pipeline.json" <<JSON
{"pipeline": [
  {"type": "readers.footprints", "path": "corpus.geojson", "id_field": "name"},
  {"type": "filters.clean"},
  {"type": "filters.extrude"},
  {"type": "writers.3dtiles", "path": "tiles"}]}
JSON
"$CLI" run "$WORK/pipeline.json" --threads 2 > "$WORK/run.out" 2> "$WORK/run.err"
rc=$?
check "citytiler run exits 0 on the corpus" test $rc -eq 0
out="$WORK/tiles"

# Expected outcome per case: "out" (in the tileset) or "skip|WHO|REASON" where WHO is
# "feature N" (reader warnings name the feature) or "building ID" (stage warnings).
expect() {
  case $1 in
    c02_*) echo "skip|building c02_zero_area|no area" ;;
    c12_*) echo "skip|feature 12|non-finite coordinate" ;;
    c13_*) echo "skip|feature 13|non-finite coordinate" ;;
    c14_*) echo "skip|feature 14|empty geometry" ;;
    c15_*) echo "skip|feature 15|empty geometry" ;;
    c16_*) echo "skip|feature 16|not a polygon" ;;
    c17_*) echo "skip|feature 17|not a polygon" ;;
    c20_*) echo "skip|building c20_tiny|area below min_area" ;;
    # c07 (hole touching the shell at a point) and c23 (self-touching ring) are valid and
    # extrude into closed meshes with the ear-clipping triangulator (GEOS 3.11's failed).
    *) echo out ;;
  esac
}
ids=$(grep -o '"name": "c[0-9][0-9]_[a-z0-9_]*"' "$SRC/tests/data/bad_footprints/bad_footprints.geojson" | cut -d'"' -f4)
ids="$ids c25_ring_1e5"
ncase=0
for id in $ids; do
  ncase=$((ncase + 1))
  e=$(expect "$id")
  prefix=${id%%_*}_
  if [ "$e" = out ]; then
    check "$id: in the output" grep -q -a -l "$id" $out/tiles/*.glb
  else
    who=$(echo "$e" | cut -d'|' -f2); why=$(echo "$e" | cut -d'|' -f3)
    check "$id: not in the output" test -z "$(grep -a -l "$prefix" $out/tiles/*.glb 2>/dev/null)"
    check "$id: skipped with reason '$why'" grep -q -F "$who (" "$WORK/run.err"
    grep -F "$who (" "$WORK/run.err" | grep -q -F "skipped: $why"
    check "$id: warning names the reason" test $? -eq 0
  fi
done
check "25 cases ($ncase)" test "$ncase" -eq 25

# The closing summary, compared whole (sorted).
grep '^citytiler:   \(skipped\|changed\)' "$WORK/run.err" | sed 's/^citytiler:   //' | sort > "$WORK/summary.txt"
sort > "$WORK/expected.txt" <<'TXT'
skipped 2: non-finite coordinate
skipped 2: empty geometry
skipped 2: not a polygon
skipped 1: clean: no area
skipped 1: clean: area below min_area
changed 3: clean: made valid (Self-intersection)
changed 1: clean: made valid (Hole lies outside shell)
changed 1: clean: made valid (Holes are nested)
changed 1: clean: made valid (Ring Self-intersection)
changed 3: clean: repeated vertices removed
changed 4: clean: collinear vertices removed
changed 2: clean: spikes removed
changed 1: clean: ring orientation fixed
changed 1: clean: parts below min_area dropped
TXT
diff "$WORK/expected.txt" "$WORK/summary.txt" > "$WORK/summary.diff"
rc=$?
check "summary counts match the corpus README ($(wc -l < "$WORK/summary.diff") diff lines)" test $rc -eq 0
grep -q "done: 25 features read, 17 buildings written, 8 skipped" "$WORK/run.err"
check "25 read, 17 written, 8 skipped" test $? -eq 0
check "nothing reached filters.extrude unrepaired" test -z "$(grep 'invalid footprint (not repaired)' "$WORK/run.err")"

node "$SRC/tools/validate/validate-glb.mjs" "$out" > "$WORK/glb.log" 2>&1
rc=$?
check "Khronos glTF validator: 0 errors ($(tail -1 "$WORK/glb.log"))" test $rc -eq 0
node "$SRC/tools/validate/validate-tileset.mjs" "$out" > "$WORK/tileset.log" 2>&1
rc=$?
check "tileset.json valid ($(tail -1 "$WORK/tileset.log"))" test $rc -eq 0
# A batch log of the same run: every stderr line is a JSON object, GDAL's own warnings
# (an unclosed ring) included; they were printed as plain "Warning 1: ..." lines.
"$CLI" run "$WORK/pipeline.json" --threads 2 --log-format json --set "writers.3dtiles.path=$WORK/tiles-json" \
  > /dev/null 2> "$WORK/run-json.err"
check "JSON log: exit 0" test $? -eq 0
node -e 'const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
  let bad = lines.filter((l) => { try { const j = JSON.parse(l); return !(j.level && j.message && j.time); } catch (e) { return true; } });
  if (bad.length) console.log("not a JSON log line: " + bad[0]);
  process.exit(bad.length === 0 && lines.some((l) => JSON.parse(l).message.endsWith("corpus.geojson: GDAL warning 1: Non closed ring detected. To avoid accepting it, set the OGR_GEOMETRY_ACCEPT_UNCLOSED_RING configuration option to NO")) ? 0 : 1)' \
  "$WORK/run-json.err"
check "JSON log: every line an object with time, level and message; GDAL's warning among them, naming the file" test $? -eq 0
finish
