# A 10,000-building synthetic city (tools/synthcity, 0.5 pts/m²) through the whole
# pipeline, plain and compressed: 0 errors from the Khronos glTF validator on every GLB,
# tileset.json schema-valid with errors falling with depth, children inside parents,
# content inside volumes; every building of the city written once or skipped with a
# reason; heights against the generator's ground truth.
. "$(dirname "$0")/common.bash"
need_validators
synth="$CT_BINARY_DIR/tools/synthcity/synthcity"
check "synthcity built" test -x "$synth"
"$synth" --buildings 10000 --seed 11 --density 0.5 --out "$WORK/city" > "$WORK/synth.log" 2>&1
check "synthcity 10k: exit 0" test $? -eq 0

for comp in none meshopt; do
  cat > "$WORK/city-$comp.json" <<JSON
{"pipeline": [
  {"type": "readers.footprints", "path": "$WORK/city/footprints.gpkg", "id_field": "id"},
  {"type": "readers.lidar", "path": "$WORK/city/points.las"},
  {"type": "filters.heights", "min_roof_points": 3},
  {"type": "filters.clean"},
  {"type": "filters.extrude"},
  {"type": "writers.3dtiles", "path": "$WORK/tiles-$comp", "compression": "$comp"}]}
JSON
  "$CLI" run "$WORK/city-$comp.json" --threads 2 --progress-interval 0.002 > "$WORK/run-$comp.log" 2>&1
  check "$comp: pipeline exit 0" test $? -eq 0
  check "$comp: progress lines in the log (stderr no terminal)" grep -Eq "^citytiler: progress: [a-zA-Z ]+: [0-9]+ / [0-9]+ " "$WORK/run-$comp.log"
  if [ "$comp" = none ]; then # --quiet: no progress line in the log either
    "$CLI" run "$WORK/city-$comp.json" --threads 2 --progress-interval 0.002 -q --set "writers.3dtiles.path=$WORK/tiles-quiet" \
      > "$WORK/run-quiet.log" 2>&1
    check "--quiet: exit 0, no progress line" test $? -eq 0 -a -z "$(grep progress "$WORK/run-quiet.log")"
  fi
  read_n=$(sed -n 's/.*done: \([0-9]*\) features read, \([0-9]*\) buildings written, \([0-9]*\) skipped.*/\1 \2 \3/p' "$WORK/run-$comp.log")
  set -- $read_n
  check "$comp: 10000 read = $2 written + $3 skipped" test "${1:-0}" -eq 10000 -a $(( ${2:-0} + ${3:-0} )) -eq 10000
  check "$comp: at least 9900 buildings written" test "${2:-0}" -ge 9900
  node "$SRC/tools/validate/validate-glb.mjs" "$WORK/tiles-$comp" > "$WORK/glb-$comp.log" 2>&1
  check "$comp: glTF validator 0 errors ($(tail -1 "$WORK/glb-$comp.log"))" test $? -eq 0
  node "$SRC/tools/validate/validate-tileset.mjs" "$WORK/tiles-$comp" > "$WORK/ts-$comp.log" 2>&1
  check "$comp: tileset valid ($(tail -1 "$WORK/ts-$comp.log"))" test $? -eq 0
done
# The building id column is "id"; id_field "id" is not repeated beside it as "id_2".
python3 - "$WORK/tiles-none" > "$WORK/props.txt" 2>&1 <<'PY'
import glob, json, struct, sys
b = open(sorted(glob.glob(sys.argv[1] + "/tiles/*.glb"))[0], "rb").read()
j = json.loads(b[20:20 + struct.unpack_from("<I", b, 12)[0]])
print(" ".join(sorted(j["extensions"]["EXT_structural_metadata"]["propertyTables"][0]["properties"])))
PY
check "property table: id and the footprints' attributes, no id_2 ($(cat "$WORK/props.txt"))" \
  test "$(tr ' ' '\n' < "$WORK/props.txt" | grep -cxE 'id|height|kind|storeys|id_2')" = 4 -a -z "$(grep -w id_2 "$WORK/props.txt")"
# Points on disk (a memory limit far below the points): heights load a few cells at a
# time, several in parallel; the tiles are the same bytes as with the points in memory.
# Also a batch log: JSON lines, with progress lines (stderr is no terminal here). A step
# logs progress once it has run --progress-interval seconds: 2 ms, as a Release build
# finishes some steps of this city within the 0.05 s this test used before.
"$CLI" run "$WORK/city-none.json" --threads 2 --memory-limit 8 --set "writers.3dtiles.path=$WORK/tiles-disk" \
  --log-format json --progress-interval 0.002 > "$WORK/run-disk.log" 2>&1
check "points on disk: pipeline exit 0" test $? -eq 0
node -e 'const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const p = lines.filter((l) => l.progress && l.progress.step === "heights by cell");
  process.exit(p.length > 0 && p.every((l) => l.progress.done > 0 && l.progress.done < l.progress.total &&
    l.progress.total === 10000 && l.message.startsWith("heights by cell: ")) ? 0 : 1)' "$WORK/run-disk.log"
check "batch log: progress lines of the heights, as JSON with step and counts" test $? -eq 0
# (reading the LiDAR, the whole of which goes to disk here, had no progress line)
node -e 'const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const p = lines.filter((l) => l.progress && l.progress.step === "reading LiDAR chunks");
  process.exit(p.length > 0 && p.every((l) => l.progress.done > 0 && l.progress.done < l.progress.total &&
    l.stage === "readers.lidar") ? 0 : 1)' "$WORK/run-disk.log"
check "batch log: progress lines of the LiDAR read, points going to disk" test $? -eq 0
check "points on disk: the points did go to disk" grep -q "the rest on disk" "$WORK/run-disk.log"
check "points on disk: heights a few cells at a time" grep -q "points on disk: 10000 buildings in" "$WORK/run-disk.log"
diff -r -x run-summary.json "$WORK/tiles-none" "$WORK/tiles-disk" > "$WORK/diff-disk.log" 2>&1
check "points on disk: tiles byte-identical to points in memory" test $? -eq 0
# The GeoPackage (10,000 features) is read in FID ranges in parallel; the same
# footprints as FlatGeobuf (no spatial index: same order) are read in one pass. Both,
# with 1 or 2 threads, and with a where filter, must give the same tiles.
check "readers.footprints read the GeoPackage in parallel" grep -q "footprints.gpkg: reading FIDs 1..10000 in 32 ranges in parallel" "$WORK/run-none.log"
ogr2ogr -f FlatGeobuf -lco SPATIAL_INDEX=NO "$WORK/city/footprints.fgb" "$WORK/city/footprints.gpkg" > "$WORK/ogr2ogr.log" 2>&1
check "footprints as FlatGeobuf" test $? -eq 0
sed "s|footprints.gpkg|footprints.fgb|" "$WORK/city-none.json" > "$WORK/city-fgb.json"
"$CLI" run "$WORK/city-fgb.json" --threads 2 --set "writers.3dtiles.path=$WORK/tiles-fgb" > "$WORK/run-fgb.log" 2>&1
check "FlatGeobuf: pipeline exit 0" test $? -eq 0
diff -r -x run-summary.json "$WORK/tiles-none" "$WORK/tiles-fgb" > "$WORK/diff-fgb.log" 2>&1
check "GeoPackage read in parallel: tiles byte-identical to FlatGeobuf read in one pass" test $? -eq 0
"$CLI" run "$WORK/city-none.json" --threads 1 --set "writers.3dtiles.path=$WORK/tiles-t1" > "$WORK/run-t1.log" 2>&1
diff -r -x run-summary.json "$WORK/tiles-none" "$WORK/tiles-t1" > "$WORK/diff-t1.log" 2>&1
check "GeoPackage with 1 thread: tiles byte-identical to 2 threads" test $? -eq 0
for src in gpkg fgb; do
  sed "s|footprints.gpkg|footprints.$src|; s|\"id_field\": \"id\"|\"id_field\": \"id\", \"where\": \"kind <> 'detached'\"|" \
    "$WORK/city-none.json" > "$WORK/city-where-$src.json"
  "$CLI" run "$WORK/city-where-$src.json" --threads 2 --set "writers.3dtiles.path=$WORK/tiles-where-$src" \
    > "$WORK/run-where-$src.log" 2>&1
  check "where filter ($src): pipeline exit 0" test $? -eq 0
done
n_where=$(sed -n 's/.*done: \([0-9]*\) features read.*/\1/p' "$WORK/run-where-gpkg.log")
check "where filter: some but not all features read ($n_where)" test "${n_where:-0}" -gt 0 -a "${n_where:-0}" -lt 10000
diff -r -x run-summary.json "$WORK/tiles-where-gpkg" "$WORK/tiles-where-fgb" > "$WORK/diff-where.log" 2>&1
check "where filter: GeoPackage in parallel and FlatGeobuf give the same tiles" test $? -eq 0
ratio=$(sed -n 's/.*uncompressed, ratio \([0-9.]*\)).*/\1/p' "$WORK/run-meshopt.log")
check "meshopt: geometry at least 3x smaller (ratio $ratio)" node -e "process.exit(parseFloat('$ratio') >= 3 ? 0 : 1)"
finish
