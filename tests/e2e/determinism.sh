# The same inputs give byte-identical output whatever the thread count.
. "$(dirname "$0")/common.bash"
"$CLI" run "$SRC/pipelines/sample.json" --threads 1 --set "writers.3dtiles.path=$WORK/t1" > "$WORK/t1.log" 2>&1
check "threads 1 run" test $? -eq 0
"$CLI" run "$SRC/pipelines/sample.json" --threads 2 --set "writers.3dtiles.path=$WORK/t2" > "$WORK/t2.log" 2>&1
check "threads 2 run" test $? -eq 0
diff -r -x run-summary.json "$WORK/t1" "$WORK/t2" > "$WORK/diff.log" 2>&1
check "outputs of --threads 1 and --threads 2 are byte-identical" test $? -eq 0
# Points on disk (a memory limit far below the sample's 3 MiB of points): cells are
# processed one at a time, and the tiles are the same bytes.
"$CLI" run "$SRC/pipelines/sample.json" --threads 2 --memory-limit 0.25 \
  --set "writers.3dtiles.path=$WORK/disk" > "$WORK/disk.log" 2>&1
check "points-on-disk run" test $? -eq 0
check "points-on-disk run used the disk" grep -q "on disk" "$WORK/disk.log"
diff -r -x run-summary.json "$WORK/t1" "$WORK/disk" > "$WORK/diff-disk.log" 2>&1
check "points on disk give byte-identical output" test $? -eq 0
# Real data with points on disk (heights read each cell once; AHN tiles of Amsterdam
# covering part of the BAG footprints, one of them with too few ground points within 3 m,
# whose search widens): the same bytes as with the points in memory.
ams="$CT_SHARED_DATA/amsterdam"
if [ -f "$ams/bag_buildings_epsg28992.geojson" ]; then
  printf '%s\n' "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"$ams/bag_buildings_epsg28992.geojson\"},
    {\"type\": \"readers.lidar\", \"path\": [\"$ams/ahn_2386_9702_epsg28992.las\", \"$ams/ahn_2397_9705_epsg28992.las\"]},
    {\"type\": \"filters.heights\"}, {\"type\": \"filters.extrude\"},
    {\"type\": \"writers.3dtiles\", \"path\": \"$WORK/ams-mem\"}]}" > "$WORK/ams.json"
  "$CLI" run "$WORK/ams.json" --threads 2 > "$WORK/ams-mem.log" 2>&1
  check "Amsterdam, points in memory" test $? -eq 0
  "$CLI" run "$WORK/ams.json" --threads 2 --memory-limit 0.01 --verbose --set "writers.3dtiles.path=$WORK/ams-disk" \
    > "$WORK/ams-disk.log" 2>&1
  check "Amsterdam, points on disk" test $? -eq 0
  check "Amsterdam: each cell read once" grep -q "each cell read once" "$WORK/ams-disk.log"
  check "Amsterdam: a wider ground search" grep -q "searched up to 24 m around them" "$WORK/ams-disk.log"
  diff -r -x run-summary.json "$WORK/ams-mem" "$WORK/ams-disk" > "$WORK/diff-ams.log" 2>&1
  check "Amsterdam: points on disk give byte-identical output" test $? -eq 0
else
  fail "no $ams/bag_buildings_epsg28992.geojson (../shared/data missing?)"
fi
# Keeping only the classes heights use (2 ground, 6 building) changes nothing in the
# tiles and keeps fewer points.
"$CLI" run "$SRC/pipelines/sample.json" --threads 2 --set 'readers.lidar.classes=[2, 6]' \
  --set "writers.3dtiles.path=$WORK/classes" > "$WORK/classes.log" 2>&1
check "classes [2, 6] run" test $? -eq 0
all=$(sed -n 's/.* \([0-9]*\) kept in .*/\1/p' "$WORK/t1.log")
some=$(sed -n 's/.* \([0-9]*\) kept in .*/\1/p' "$WORK/classes.log")
check "classes [2, 6] keep fewer points ($some < $all)" test "${some:-0}" -gt 0 -a "${some:-0}" -lt "${all:-0}"
diff -r -x run-summary.json "$WORK/t1" "$WORK/classes" > "$WORK/diff-classes.log" 2>&1
check "classes [2, 6] give byte-identical tiles" test $? -eq 0
# Meshes rebuilt by the writer per tile (the default) against meshes kept from
# filters.extrude: the same bytes, plain and with implicit tiling + compression (parents
# simplify rebuilt meshes).
check "the default run rebuilt the meshes per tile" grep -q "extruded again by the writer" "$WORK/t1.log"
"$CLI" run "$SRC/pipelines/sample.json" --threads 2 --set filters.extrude.keep_meshes_up_to=1000000 \
  --set "writers.3dtiles.path=$WORK/kept" > "$WORK/kept.log" 2>&1
check "meshes-kept run" test $? -eq 0
check "meshes-kept run did not rebuild them" test "$(grep -c "extruded again by the writer" "$WORK/kept.log")" -eq 0
diff -r -x run-summary.json "$WORK/t1" "$WORK/kept" > "$WORK/diff-kept.log" 2>&1
check "meshes kept give byte-identical output" test $? -eq 0
for keep in 0 1000; do
  "$CLI" run "$SRC/pipelines/sample.json" --threads 2 --set filters.extrude.keep_meshes_up_to=$keep \
    --set writers.3dtiles.tiling=implicit --set writers.3dtiles.compression=meshopt \
    --set "writers.3dtiles.path=$WORK/implicit-$keep" > "$WORK/implicit-$keep.log" 2>&1
  check "implicit + meshopt run, keep_meshes_up_to=$keep" test $? -eq 0
done
diff -r -x run-summary.json "$WORK/implicit-0" "$WORK/implicit-1000" > "$WORK/diff-implicit.log" 2>&1
check "implicit + meshopt: meshes on demand give byte-identical output" test $? -eq 0
"$CLI" run "$SRC/pipelines/sample.json" --set 'readers.lidar.classes=[2, 300]' > "$WORK/badclass.log" 2>&1
check "a class outside 0-255: exit 2" test $? -eq 2
finish
