# Under mpirun each rank keeps only the LiDAR of its band of the city (the rows of
# processing cells whose buildings and assets it measures, widened by how far the stages
# search around them), passing over the tiles outside it, and the output is still
# byte-identical to one process: a synthetic city of 1000 buildings with assets, its LiDAR
# in 8 tiles, heights and clamp across the bands' edges, 2 and 3 ranks, points in memory
# and on disk.
. "$CT_SOURCE_DIR/tests/e2e/common.bash"
command -v mpirun > /dev/null || { echo "FAIL: mpirun missing (Debian openmpi-bin)"; exit 1; }
"$CT_BINARY_DIR/tools/synthcity/synthcity" --buildings 1000 --seed 7 --density 2 --out "$WORK/city" > /dev/null
check "synthetic city generated" test -s "$WORK/city/points.las"
python3 "$SRC/tests/mpi/split_las.py" "$WORK/city/points.las" "$WORK/tiles" 8
check "its LiDAR split into 8 tiles" test "$(ls "$WORK/tiles" | wc -l)" -eq 8
cat > "$WORK/p.json" <<JSON
{"pipeline": [
  {"type": "readers.footprints", "path": "city/footprints.gpkg", "id_field": "id"},
  {"type": "readers.lidar", "path": "tiles"},
  {"type": "readers.assets", "path": "city/assets.gpkg"},
  {"type": "filters.heights"},
  {"type": "filters.clamp"},
  {"type": "filters.clean"},
  {"type": "filters.extrude"},
  {"type": "writers.3dtiles", "path": "one", "max_buildings_per_tile": 40}]}
JSON
mpi() { mpirun -np "$1" --allow-run-as-root --oversubscribe "${@:2}"; }
# json FILE EXPR: EXPR evaluated on the JSON in FILE (as j).
json() { node -e "const j = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8')); console.log($2)" "$1"; }
"$CLI" run "$WORK/p.json" --threads 2 > "$WORK/one.log" 2>&1
check "one process" test $? -eq 0
total=$(json "$WORK/one/run-summary.json" 'j.inputs.lidar_points_kept')
check "one process kept points ($total)" test "${total:-0}" -gt 0
same() { diff -r -x run-summary.json "$WORK/one" "$WORK/$1" > "$WORK/diff-$1.log" 2>&1; }
for c in "m2 2" "m3 3" "m3-disk 3 --memory-limit 1" "m2-nocrop 2 --set readers.lidar.crop=false"; do
  set -- $c
  name=$1 np=$2
  shift 2
  mpi "$np" "$CLI" run "$WORK/p.json" --threads 1 --set "writers.3dtiles.path=$WORK/$name" "$@" > "$WORK/$name.log" 2>&1
  check "$name: exit 0" test $? -eq 0
  check "$name: byte-identical to one process" same "$name"
  for ((k = 0; k < np; k++)); do
    check "$name: rank $k keeps its band's points" grep -q "process $k of $np keeps the points of its band of the city" \
      "$WORK/$name.log"
    check "$name: rank $k measured its buildings" grep -q "those of this process's band of the city measured here (process $k of $np)" \
      "$WORK/$name.log"
    check "$name: rank $k placed its assets" grep -q "filters.clamp: the assets of this process's band of the city ([0-9]*) measured here (process $k of $np)" \
      "$WORK/$name.log"
  done
  # Each rank keeps fewer than all the points; together, each point once, as one process.
  kept=$(sed -n 's/.*readers.lidar: [0-9]* points read from [0-9]* file(s), \([0-9]*\) kept in.*/\1/p' "$WORK/$name.log")
  check "$name: $np ranks said what they kept" test "$(echo "$kept" | wc -l)" -eq "$np"
  check "$name: each rank kept fewer than the $total points ($(echo $kept))" \
    test "$(echo "$kept" | sort -n | tail -1)" -lt "$total"
  check "$name: every rank says all kept $total together, as one process" \
    test "$(grep -c ": $total points kept by all processes" "$WORK/$name.log")" -eq "$np"
  check "$name: run-summary.json counts every rank's points once" \
    test "$(json "$WORK/$name/run-summary.json" 'j.inputs.lidar_points_kept')" = "$total"
  check "$name: run-summary.json passes over no tile (the bands' tiles are not the run's)" \
    test "$(json "$WORK/$name/run-summary.json" 'j.inputs.sources.filter(s => s.passed_over).length')" = 0
done
check "m3: run-summary.json gives each of the 3 ranks' peak memory and times" \
  test "$(json "$WORK/m3/run-summary.json" 'j.processes.map(p => p.rank + ":" + (p.peak_rss_bytes > 1e6 && p.cpu_seconds > 0 && p.seconds > 0)).join(",")')" \
  = "0:true,1:true,2:true"
check "one process: no processes in run-summary.json" test "$(json "$WORK/one/run-summary.json" 'j.processes === undefined')" = true
check "m3: a rank passed over the tiles outside its band" \
  grep -Eq "\(y [0-9.]+ to [0-9.]+; [1-9] files passed over for lying outside it\)" "$WORK/m3.log"
check "m3-disk: points on disk" grep -q "the rest on disk" "$WORK/m3-disk.log"
# The ranks' logs interleave: each line names its rank (text and JSON lines).
check "m3: each line names its rank" grep -q "^citytiler\[2\]: info: readers.lidar: process 2 of 3 keeps" "$WORK/m3.log"
mpi 2 "$CLI" run "$WORK/p.json" --threads 1 --log-format json --set "writers.3dtiles.path=$WORK/m2-json" \
  > /dev/null 2> "$WORK/m2-json.log"
check "m2-json: exit 0" test $? -eq 0
check "m2-json: every JSON line has the rank that wrote it, both ranks" test "$(node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(l => l.startsWith("{"));
  const ranks = new Set(lines.map(l => JSON.parse(l).rank));
  console.log(lines.length > 20 && lines.every(l => JSON.parse(l).rank !== undefined) ? [...ranks].sort().join(",") : "no");
' "$WORK/m2-json.log")" = "0,1"
# The exchanges in rounds of at most 1000 bytes a rank (the rounds that keep MPI's int
# counts below 2 GiB for tens of millions of buildings): the same bytes.
CITYTILER_TEST_MPI_CHUNK=1000 mpi 3 -x CITYTILER_TEST_MPI_CHUNK "$CLI" run "$WORK/p.json" --threads 1 \
  --set "writers.3dtiles.path=$WORK/m3-rounds" > "$WORK/m3-rounds.log" 2>&1
check "m3-rounds: exit 0" test $? -eq 0
check "m3-rounds: byte-identical to one process" same m3-rounds
# More ranks than rows of cells with buildings (the city is about 5 cells tall): the
# ranks left without a band keep no point, measure nothing, and the bytes are the same.
mpi 8 "$CLI" run "$WORK/p.json" --threads 1 --set "writers.3dtiles.path=$WORK/m8" > "$WORK/m8.log" 2>&1
check "m8: exit 0" test $? -eq 0
check "m8: byte-identical to one process" same m8
check "m8: some ranks keep no point" grep -q "keeps no points (its band of the city holds no footprint" "$WORK/m8.log"
check "m8: all 8 ranks say all kept $total together" \
  test "$(grep -c ": $total points kept by all processes" "$WORK/m8.log")" -eq 8
# Buildings with too few ground points search up to 24 m around them: across a band's
# edge too (min_ground_points 400: most buildings), points in memory and on disk (where
# the log counts them).
for run in "one-wide 1" "m2-wide 2" "m2-wide-disk 2 --memory-limit 1"; do
  set -- $run
  name=$1 np=$2
  shift 2
  launch=()
  [ "$np" -gt 1 ] && launch=(mpirun -np "$np" --allow-run-as-root --oversubscribe)
  "${launch[@]}" "$CLI" run "$WORK/p.json" --threads 1 --set filters.heights.min_ground_points=400 \
    --set "writers.3dtiles.path=$WORK/$name" "$@" > "$WORK/$name.log" 2>&1
  check "$name: exit 0" test $? -eq 0
done
check "m2-wide-disk: both ranks searched wider" \
  test "$(grep -c "of this process's [0-9]* buildings with fewer than 400 ground points" "$WORK/m2-wide-disk.log")" -eq 2
for name in m2-wide m2-wide-disk; do
  diff -r -x run-summary.json "$WORK/one-wide" "$WORK/$name" > /dev/null 2>&1
  check "$name: byte-identical to one process" test $? -eq 0
done
# Footprints read after readers.lidar planned the bands: a building taller than its band
# (1.2 km north from the middle of the city) would search beyond the LiDAR its rank kept.
# One process measures it; under mpirun its rank stops with the building named and what
# to do, rather than measuring it from part of its points.
cat > "$WORK/tall.geojson" <<JSON
{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
 "features": [{"type": "Feature", "properties": {"id": "tall"}, "geometry": {"type": "Polygon",
   "coordinates": [[[85300, 445300], [85310, 445300], [85310, 446500], [85300, 446500], [85300, 445300]]]}}]}
JSON
cat > "$WORK/late.json" <<JSON
{"pipeline": [
  {"type": "readers.footprints", "path": "city/footprints.gpkg", "id_field": "id"},
  {"type": "readers.lidar", "path": "tiles"},
  {"type": "readers.footprints", "path": "tall.geojson", "id_field": "id"},
  {"type": "filters.heights"},
  {"type": "filters.extrude"},
  {"type": "writers.3dtiles", "path": "late"}]}
JSON
"$CLI" run "$WORK/late.json" --threads 1 --set "writers.3dtiles.path=$WORK/late-one" > "$WORK/late-one.log" 2>&1
check "footprints after readers.lidar, one process: exit 0" test $? -eq 0
timeout 300 mpirun -np 3 --allow-run-as-root --oversubscribe "$CLI" run "$WORK/late.json" --threads 1 \
  --set "writers.3dtiles.path=$WORK/late-m3" > "$WORK/late-m3.log" 2>&1
# (exit 2 from every rank: the others stop with the failed rank's status, so mpirun's
# code does not depend on which rank ends the run first; they said exit 1 before)
check "footprints after readers.lidar, 3 ranks: exit 2 (not a hang, not a wrong height)" test $? -eq 2
check "footprints after readers.lidar, 3 ranks: names the building and what to do" grep -q \
  "filters.heights: building tall (feature [0-9]*) lies beyond the LiDAR this process kept (y [0-9.]* to [0-9.]*, its band of the city): put every readers.footprints before readers.lidar" \
  "$WORK/late-m3.log"
check "footprints after readers.lidar, 3 ranks: the others say which process failed" \
  grep -q "filters.heights: process [0-2] of 3 failed (its error says why)" "$WORK/late-m3.log"
check "footprints after readers.lidar, 3 ranks: no output" test ! -e "$WORK/late-m3/tileset.json"
finish
