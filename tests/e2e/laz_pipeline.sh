# LAZ through the whole pipeline: the Delft footprints with heights from the AHN3 tiles
# as LAZ give the same tiles, byte for byte, as with their LAS twins (decompressed by
# LASzip); at 1 and 2 threads, the points in memory and on disk (memory_limit 1 MiB);
# a directory of the LAZ tiles too; and the tileset passes the validators.
. "$(dirname "$0")/common.bash"
need_validators
delft="$CT_SHARED_DATA/delft"
[ -s "$delft/ahn3_cropped_1.laz" ] || fail "no $delft/ahn3_cropped_1.laz (../shared/data missing?)"
mkdir -p "$WORK/laz_dir" && cp "$delft"/ahn3_cropped_*.laz "$WORK/laz_dir/"
pipeline() { # pipeline NAME LIDAR_PATH_JSON [MEMORY_LIMIT] [FOOTPRINTS]
  local limit=${3:+, \"memory_limit\": $3} fp=${4:-$SRC/data-samples/delft/bgt_pand.gpkg}
  cat > "$WORK/$1.json" <<JSON
{"pipeline": [
  {"type": "readers.footprints", "path": "$fp", "id_field": "gml_id"},
  {"type": "readers.lidar", "path": $2, "srs": "EPSG:28992+5709"$limit},
  {"type": "filters.clean"},
  {"type": "filters.heights"},
  {"type": "filters.extrude"},
  {"type": "writers.3dtiles", "path": "$WORK/$1-out"}]}
JSON
}
pipeline las "[\"$delft/ahn3_cropped_1.las\", \"$delft/ahn3_cropped_2.las\"]"
pipeline laz "[\"$delft/ahn3_cropped_1.laz\", \"$delft/ahn3_cropped_2.laz\"]"
pipeline laz_disk "[\"$delft/ahn3_cropped_1.laz\", \"$delft/ahn3_cropped_2.laz\"]" 1
pipeline laz_dir "\"$WORK/laz_dir\""
# Footprints in lon/lat: the working CRS is UTM and the points are reprojected as read
# (the decoded path rather than the raw records' binning).
pipeline las_utm "[\"$delft/ahn3_cropped_1.las\", \"$delft/ahn3_cropped_2.las\"]" "" "$delft/bgt_pand_epsg4326.geojson"
pipeline laz_utm "[\"$delft/ahn3_cropped_1.laz\", \"$delft/ahn3_cropped_2.laz\"]" "" "$delft/bgt_pand_epsg4326.geojson"
"$CLI" run "$WORK/las.json" --threads 2 > "$WORK/las.log" 2>&1
check "LAS twins: exit 0" test $? -eq 0
for run in "laz 1" "laz 2" "laz_disk 2" "laz_dir 2"; do
  set -- $run
  rm -rf "$WORK/$1-out"
  "$CLI" run "$WORK/$1.json" --threads "$2" > "$WORK/$1-$2.log" 2>&1
  check "$1, $2 thread(s): exit 0" test $? -eq 0
  check "$1, $2 thread(s): the points of both tiles read" grep -q "848942 points read from 2 file(s)" "$WORK/$1-$2.log"
  check "$1, $2 thread(s): tiles byte-identical to the LAS twins' run" \
    diff -r -x run-summary.json "$WORK/las-out" "$WORK/$1-out"
done
"$CLI" run "$WORK/las_utm.json" --threads 2 > "$WORK/las_utm.log" 2>&1
check "LAS twins, footprints in lon/lat: exit 0" test $? -eq 0
"$CLI" run "$WORK/laz_utm.json" --threads 2 > "$WORK/laz_utm.log" 2>&1
check "LAZ, footprints in lon/lat: exit 0" test $? -eq 0
check "LAZ, footprints in lon/lat: the points reprojected" grep -q "points read from 2 file(s), .* reprojected to the working CRS" "$WORK/laz_utm.log"
check "LAZ, footprints in lon/lat: tiles byte-identical to the LAS twins' run" \
  diff -r -x run-summary.json "$WORK/las_utm-out" "$WORK/laz_utm-out"
# Amsterdam: two one-chunk AHN tiles (a one-chunk LAZ was refused: its 64 sampled
# points were one point 64 times, which read as a damaged scale).
ams="$CT_SHARED_DATA/amsterdam"
for kind in las laz; do
  if [ "$kind" = las ]; then tiles="[\"$ams/ahn_2386_9702_nocrs.las\", \"$ams/ahn_2397_9705_nocrs.las\"]"
  else tiles="[\"$ams/ahn_2386_9702.laz\", \"$ams/ahn_2397_9705.laz\"]"; fi
  cat > "$WORK/ams_$kind.json" <<JSON
{"pipeline": [
  {"type": "readers.footprints", "path": "$SRC/data-samples/amsterdam/bag_buildings_epsg28992.geojson"},
  {"type": "readers.lidar", "path": $tiles, "srs": "EPSG:28992+5709"},
  {"type": "filters.clean"}, {"type": "filters.heights"}, {"type": "filters.extrude"},
  {"type": "writers.3dtiles", "path": "$WORK/ams_$kind-out"}]}
JSON
  "$CLI" run "$WORK/ams_$kind.json" --threads 2 > "$WORK/ams_$kind.log" 2>&1
  check "Amsterdam, one-chunk tiles as $kind: exit 0" test $? -eq 0
done
check "Amsterdam: LAZ tiles byte-identical to the LAS twins'" diff -r -x run-summary.json "$WORK/ams_las-out" "$WORK/ams_laz-out"
grep -q "points on disk\|on disk" "$WORK/laz_disk-2.log"
check "laz_disk: the points went to disk" test $? -eq 0
node "$SRC/tools/validate/validate-glb.mjs" "$WORK/laz-out" > "$WORK/glb.log" 2>&1
check "laz: every GLB passes the glTF validator" test $? -eq 0
node "$SRC/tools/validate/validate-tileset.mjs" "$WORK/laz-out" > "$WORK/tileset.log" 2>&1
check "laz: tileset.json passes the 3D Tiles schema" test $? -eq 0
finish
