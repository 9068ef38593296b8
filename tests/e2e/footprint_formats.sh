# readers.footprints on the OGR formats users bring (GeoPackage, Shapefile, GeoJSON,
# FlatGeobuf, CSV with WKT), with its options: layer, id_field, attributes, srs, where,
# bbox; and geographic input reprojected to UTM. Every run must validate.
. "$(dirname "$0")/common.bash"
need_validators
gpkg="$SRC/data-samples/delft/bgt_pand.gpkg"

# run_pipeline NAME READER_JSON: runs reader -> extrude -> 3dtiles into $WORK/NAME.
run_pipeline() {
  local name=$1 reader=$2
  printf '{"pipeline": [%s, {"type": "filters.extrude", "height": 8}, {"type": "writers.3dtiles", "path": "%s/%s"}]}\n' \
    "$reader" "$WORK" "$name" > "$WORK/$name.json"
  "$CLI" run "$WORK/$name.json" > "$WORK/$name.log" 2>&1
}
written() { sed -n 's/.* \([0-9][0-9]*\) buildings written.*/\1/p' "$WORK/$1.log"; }

for fmt in "ESRI Shapefile:shp" "GeoJSON:geojson" "FlatGeobuf:fgb"; do
  driver=${fmt%%:*} ext=${fmt##*:}
  ogr2ogr -f "$driver" "$WORK/pand.$ext" "$gpkg" bgt_pand > /dev/null 2>&1
  run_pipeline "fmt_$ext" "{\"type\": \"readers.footprints\", \"path\": \"$WORK/pand.$ext\", \"id_field\": \"gml_id\"}"
  check "$driver: exit 0" test $? -eq 0
  check "$driver: 160 buildings written (got $(written fmt_$ext))" test "$(written fmt_$ext)" = 160
  node "$SRC/tools/validate/validate-glb.mjs" "$WORK/fmt_$ext" > /dev/null 2>&1
  check "$driver: GLBs valid" test $? -eq 0
done

# Shapefile stores shells clockwise: filters.clean orients them without counting a repair
# (every Shapefile footprint was counted "ring orientation fixed" and flagged).
printf '{"pipeline": [{"type": "readers.footprints", "path": "%s/pand.shp", "id_field": "gml_id"}, {"type": "filters.clean"}, {"type": "filters.extrude", "height": 8}, {"type": "writers.3dtiles", "path": "%s/shp_clean"}]}\n' \
  "$WORK" "$WORK" > "$WORK/shp_clean.json"
"$CLI" run "$WORK/shp_clean.json" > "$WORK/shp_clean.log" 2>&1
check "Shapefile + clean: exit 0, 160 buildings" test $? -eq 0 -a "$(written shp_clean)" = 160
check "Shapefile + clean: no orientation repair counted" test -z "$(grep -F 'ring orientation' "$WORK/shp_clean.log")"

# CSV with WKT geometry carries no CRS: the srs option supplies it.
ogr2ogr -f CSV "$WORK/pand.csv" "$gpkg" bgt_pand -lco GEOMETRY=AS_WKT > /dev/null 2>&1
run_pipeline csv_srs "{\"type\": \"readers.footprints\", \"path\": \"$WORK/pand.csv\", \"srs\": \"EPSG:28992\", \"id_field\": \"gml_id\"}"
check "CSV + srs: exit 0" test $? -eq 0
check "CSV + srs: 160 buildings" test "$(written csv_srs)" = 160

# where: the same count as OGR's own filter.
# OGR's own count, by iterating (a feature count of GeoPackage's R-tree can include
# bounding-box-only matches that iteration drops).
ogr_count() { ogr2ogr -f CSV /vsistdout/ "$gpkg" bgt_pand -select gml_id "$@" 2>/dev/null | tail -n +2 | wc -l; }
expect=$(ogr_count -where "identificatiebagpnd < 503100000030000")
run_pipeline where "{\"type\": \"readers.footprints\", \"path\": \"$gpkg\", \"where\": \"identificatiebagpnd < 503100000030000\"}"
check "where: $(written where) buildings, OGR says $expect" test "$(written where)" = "$expect" -a "$expect" -gt 0 -a "$expect" -lt 160

# bbox: the same count as OGR's spatial filter.
expect=$(ogr_count -spat 84900 447500 85000 447600)
run_pipeline bbox "{\"type\": \"readers.footprints\", \"path\": \"$gpkg\", \"bbox\": [84900, 447500, 85000, 447600]}"
check "bbox: $(written bbox) buildings, OGR says $expect" test "$(written bbox)" = "$expect" -a "$expect" -gt 0 -a "$expect" -lt 160

# attributes: only the listed ones reach the tile metadata.
run_pipeline attrs "{\"type\": \"readers.footprints\", \"path\": \"$gpkg\", \"layer\": \"bgt_pand\", \"attributes\": [\"bgt_status\"]}"
check "attribute list: exit 0" test $? -eq 0
glb=$(find "$WORK/attrs" -name '*.glb' | head -1)
check "attribute list: bgt_status in the metadata" grep -aq '"bgt_status"' "$glb"
check "attribute list: lokaalid not in the metadata" test -z "$(grep -a -o '"lokaalid"' "$glb")"

# Attribute names match ignoring case (the check did; the keep test did not, and the
# attribute was silently left out); the metadata keeps the source's spelling.
run_pipeline attrs_case "{\"type\": \"readers.footprints\", \"path\": \"$gpkg\", \"layer\": \"bgt_pand\", \"attributes\": [\"BGT_Status\"]}"
check "attribute in another case: exit 0" test $? -eq 0
glb=$(find "$WORK/attrs_case" -name '*.glb' | head -1)
check "attribute in another case: bgt_status in the metadata" grep -aq '"bgt_status"' "$glb"

# A wrong attribute name is an error naming it.
run_pipeline badattr "{\"type\": \"readers.footprints\", \"path\": \"$gpkg\", \"attributes\": [\"no_such_field\"]}"
check "unknown attribute: exit 2" test $? -eq 2
check "unknown attribute: named" grep -q "no_such_field" "$WORK/badattr.log"

# Geographic input (WGS84 lon/lat) is reprojected to UTM and still lands in Delft.
ogr2ogr -f GeoJSON -t_srs EPSG:4326 "$WORK/pand_4326.geojson" "$gpkg" bgt_pand > /dev/null 2>&1
run_pipeline wgs84 "{\"type\": \"readers.footprints\", \"path\": \"$WORK/pand_4326.geojson\"}"
check "WGS84 input: exit 0" test $? -eq 0
check "WGS84 input: reprojected to UTM 31N" grep -q "UTM zone 31N" "$WORK/wgs84.log"
node "$SRC/tools/validate/validate-tileset.mjs" "$WORK/wgs84" > /dev/null 2>&1
check "WGS84 input: tileset valid" test $? -eq 0

# Footprints in a compound CRS (EPSG:7415, RD New + NAP, as the 3D BAG ships): its
# horizontal part is the working CRS, its vertical part the heights' when the LiDAR has
# none. Kept whole, every stage ran and the writer failed (PROJ: no compound can hold a
# compound), PROJ printing a raw line into the JSON log.
las="$SRC/data-samples/delft/delft_ahn3_every4th_epsg28992.las"
ogr2ogr -f GPKG -a_srs EPSG:7415 "$WORK/pand_7415.gpkg" "$gpkg" bgt_pand -nln bgt_pand > /dev/null 2>&1
for crs in 7415 28992; do
  [ "$crs" = 7415 ] && src="$WORK/pand_7415.gpkg" || src="$gpkg"
  printf '{"pipeline": [{"type": "readers.footprints", "path": "%s", "id_field": "gml_id"}, {"type": "readers.lidar", "path": "%s"}, {"type": "filters.heights"}, {"type": "filters.extrude"}, {"type": "writers.3dtiles", "path": "%s/lidar_%s"}]}\n' \
    "$src" "$las" "$WORK" "$crs" > "$WORK/lidar_$crs.json"
  "$CLI" run "$WORK/lidar_$crs.json" --log-format json > "$WORK/lidar_$crs.log" 2>&1
  check "EPSG:$crs footprints with LiDAR: exit 0" test $? -eq 0
done
diff -r -x run-summary.json "$WORK/lidar_7415" "$WORK/lidar_28992" > /dev/null 2>&1
check "EPSG:7415 footprints give the bytes of EPSG:28992 ones" test $? -eq 0
check "EPSG:7415 footprints: every log line is JSON" test -z "$(grep -v '^{' "$WORK/lidar_7415.log")"
run_pipeline compound_alone "{\"type\": \"readers.footprints\", \"path\": \"$WORK/pand_7415.gpkg\"}"
check "EPSG:7415 footprints alone: exit 0" test $? -eq 0
check "EPSG:7415 footprints alone: heights in their vertical CRS, said" grep -q "heights taken as in the footprints' vertical CRS" "$WORK/compound_alone.log"
check "EPSG:7415 footprints alone: no 'no vertical CRS known' warning" test -z "$(grep "no vertical CRS known" "$WORK/compound_alone.log")"
finish
