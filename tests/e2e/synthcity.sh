# tools/synthcity: a deterministic synthetic city. Same seed, same bytes; another seed,
# other bytes; `citytiler info` reads the outputs back (LAS 1.4 / PDRF 6 with the right
# count and CRS, 1000 footprints); synthcity_check finds the points consistent with
# footprints.gpkg and truth.csv; bad arguments exit 2.
. "$(dirname "$0")/common.bash"
SYNTH=$CT_BINARY_DIR/tools/synthcity/synthcity
CHECK=$CT_BINARY_DIR/tools/synthcity/synthcity_check
for exe in "$SYNTH" "$CHECK"; do
  if [ ! -x "$exe" ]; then
    echo "FAIL: $exe not built (tools/CMakeLists.txt needs add_subdirectory(synthcity))"
    exit 1
  fi
done
# json FILE EXPR: prints the JavaScript expression EXPR evaluated on the JSON in FILE (as j).
json() { node -e "const j = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8')); console.log($2)" "$1"; }
differs() { ! cmp -s "$1" "$2"; }
FILES="footprints.gpkg points.las assets.gpkg truth.csv"

gen() { # gen NAME SEED [ARGS...]
  local name=$1 seed=$2
  shift 2
  "$SYNTH" --buildings 1000 --seed "$seed" --density 2 --out "$WORK/$name" "$@" > "$WORK/$name.log" 2>&1
}
gen a 7
check "generate 1000 buildings, seed 7" test $? -eq 0
gen b 7
check "generate again, seed 7" test $? -eq 0
gen c 8
check "generate 1000 buildings, seed 8" test $? -eq 0
cat "$WORK/a.log"
for f in $FILES; do
  check "seed 7 twice: $f byte-identical" cmp "$WORK/a/$f" "$WORK/b/$f"
  check "seed 8: $f differs" differs "$WORK/a/$f" "$WORK/c/$f"
done

# The summary line names the point count; the LAS header must agree.
npoints=$(sed -nE 's/.* ([0-9]+) points .*/\1/p' "$WORK/a.log")
check "summary line gives a point count ($npoints)" test -n "$npoints"
"$CLI" info --classes "$WORK/a/points.las" > "$WORK/a_las.json" 2> "$WORK/a_las.err"
check "citytiler info points.las" test $? -eq 0
check "LAS version 1.4" test "$(json "$WORK/a_las.json" 'j.version')" = "1.4"
check "point format 6, 30-byte records" test "$(json "$WORK/a_las.json" 'j.point_format + "/" + j.record_length')" = "6/30"
check "point count $npoints" test "$(json "$WORK/a_las.json" 'j.point_count')" = "$npoints"
check "records fill the file exactly" test "$(json "$WORK/a_las.json" \
  '(j.file_size - j.offset_to_points) / j.record_length === j.point_count')" = "true"
check "returns add up to the point count" test "$(json "$WORK/a_las.json" \
  'j.points_by_return.reduce((a, b) => a + b, 0) === j.point_count && j.points_by_return[1] > 0')" = "true"
check "classes 1, 2 and 6 only, all present" test "$(json "$WORK/a_las.json" \
  'Object.keys(j.classes).sort().join(",")')" = "1,2,6"
check "WKT CRS (global encoding bit 4): EPSG:28992 + EPSG:5709" test "$(json "$WORK/a_las.json" \
  '(j.global_encoding & 16) + " " + j.crs.source + " " + j.crs.epsg_horizontal + " " + j.crs.epsg_vertical')" \
  = "16 wkt 28992 5709"
check "scale 0.001" test "$(json "$WORK/a_las.json" 'j.scale.join(",")')" = "0.001,0.001,0.001"

"$CLI" info "$WORK/a/footprints.gpkg" > "$WORK/a_fp.json" 2> "$WORK/a_fp.err"
check "citytiler info footprints.gpkg" test $? -eq 0
check "footprints: layer buildings with 1000 features" test "$(json "$WORK/a_fp.json" \
  'j.layers.find(l => l.name === "buildings").feature_count')" = "1000"
check "footprints: fields id, height, kind, storeys" test "$(json "$WORK/a_fp.json" \
  'JSON.stringify(j.layers[0].fields)')" = '{"id":"String","height":"Real","kind":"String","storeys":"Integer"}'
check "footprints: EPSG:28992" test "$(json "$WORK/a_fp.json" 'j.layers[0].epsg')" = "28992"
"$CLI" info "$WORK/a/assets.gpkg" > "$WORK/a_as.json" 2> "$WORK/a_as.err"
check "assets: layer assets with points" test "$(json "$WORK/a_as.json" \
  'j.layers[0].name + " " + j.layers[0].geometry_type + " " + (j.layers[0].feature_count > 0)')" = "assets Point true"
check "truth.csv: header and 1000 rows" test "$(head -1 "$WORK/a/truth.csv"),$(($(wc -l < "$WORK/a/truth.csv") - 1))" \
  = "id,ground_z,roof_z,area,centroid_x,centroid_y,1000"
check "5 invalid footprints (0.5 %)" grep -q "1000 buildings (5 invalid)" "$WORK/a.log"
"$CHECK" "$WORK/a" > "$WORK/a_check.log" 2>&1
check "synthcity_check: points consistent with footprints and truth" test $? -eq 0
cat "$WORK/a_check.log"
for k in terraced detached courtyard l_shape tower invalid_bowtie invalid_spike invalid_duplicate_vertices; do
  check "footprints of kind $k" grep -Eq "kinds:.* $k [1-9]" "$WORK/a_check.log"
done

# Another CRS, given as compound: used as is.
"$SYNTH" --buildings 30 --seed 3 --density 1 --srs EPSG:27700+5701 --origin 530000 180000 --out "$WORK/uk" \
  > "$WORK/uk.log" 2>&1
check "--srs EPSG:27700+5701 --origin 530000 180000" test $? -eq 0
"$CLI" info "$WORK/uk/points.las" > "$WORK/uk_las.json" 2>&1
check "LAS CRS EPSG:27700 + EPSG:5701" test "$(json "$WORK/uk_las.json" \
  'j.crs.epsg_horizontal + " " + j.crs.epsg_vertical')" = "27700 5701"
check "bounds start at the origin" test "$(json "$WORK/uk_las.json" \
  'j.bounds.min[0] >= 530000 && j.bounds.min[0] < 530001 && j.bounds.min[1] >= 180000 && j.bounds.min[1] < 180001')" = "true"
"$CHECK" "$WORK/uk" > "$WORK/uk_check.log" 2>&1
check "synthcity_check on the EPSG:27700 city" test $? -eq 0

# Bad usage: exit 2 and a message; nothing written.
expect_usage() { # expect_usage NAME REGEX ARGS...
  local name=$1 pattern=$2
  shift 2
  "$SYNTH" "$@" > "$WORK/$name.log" 2>&1
  local rc=$?
  check "$name: exit 2 (got $rc)" test "$rc" -eq 2
  check "$name: message /$pattern/" grep -Eq -- "$pattern" "$WORK/$name.log"
}
expect_usage no_out "--out are required" --buildings 10
expect_usage zero_buildings "--buildings needs" --buildings 0 --out "$WORK/z"
expect_usage bad_density "--density needs" --buildings 10 --density -1 --out "$WORK/z"
expect_usage bad_srs "not a CRS" --buildings 10 --srs EPSG:999999 --out "$WORK/z"
expect_usage geographic_srs "projected CRS in metres" --buildings 10 --srs EPSG:4326 --origin 4 52 --out "$WORK/z"
expect_usage origin_needed "--origin X Y is required" --buildings 10 --srs EPSG:27700 --out "$WORK/z"
expect_usage unknown_arg "unknown argument" --buildings 10 --out "$WORK/z" --colour red
check "nothing written by bad usage" test ! -e "$WORK/z"
finish
