# Bad asset rows through `citytiler run` (tests/data/assets/, see its README.md):
# each bad row is logged with its row (CSV: line of the file, header = row 1) or feature
# number and its reason, in source order; the per-file summary line counts them by
# reason; the good rows load. Run 1 reads the lon/lat CSV alone (default srs EPSG:4326,
# working CRS chosen by the reader); run 2 reads it after the Amsterdam footprints and
# LiDAR and clamps it; runs 3 and 4 cover a GeoJSON and a WKT CSV.
. "$(dirname "$0")/common.bash"
DATA="$SRC/tests/data/assets"
AMS="$SRC/data-samples/amsterdam"

# expect_line FILE TEXT: TEXT (fixed string) is a line (or part of one) of FILE.
has() { grep -qF -- "$2" "$1"; }
count() { grep -cF -- "$2" "$1"; }

cat > "$WORK/alone.json" <<JSON
{"pipeline": [{"type": "readers.assets", "path": "$DATA/bad_rows.csv"}]}
JSON
"$CLI" run "$WORK/alone.json" --threads 2 > "$WORK/alone.out" 2> "$WORK/alone.err"
check "run 1 (assets alone) exits 0" test $? -eq 0
log="$WORK/alone.err"
check "row 4: missing x" has "$log" "bad_rows.csv: row 4: skipped: missing x (column 'lon' empty)"
check "row 6: non-numeric y" has "$log" "bad_rows.csv: row 6: skipped: non-numeric y ('abc')"
check "row 9: lon 500 outside the area of use" has "$log" "bad_rows.csv: row 9: skipped: outside the CRS's area of use (lon 500 "
check "row 11: duplicate id" has "$log" "bad_rows.csv: row 11: skipped: duplicate id 'a02' (first at row 3)"
check "exactly 4 rows skipped" test "$(count "$log" ": skipped: ")" -eq 4
check "the empty line (8) is not reported" test "$(count "$log" "row 8:")" -eq 0
check "summary: 14 read, 10 kept, 4 skipped by reason" has "$log" \
  "bad_rows.csv: assets: 14 read, 10 kept, 4 skipped: 1 missing x, 1 non-numeric y, 1 outside the CRS's area of use, 1 duplicate id"
check "lon/lat default srs is logged" has "$log" "longitude/latitude columns, assuming EPSG:4326"
check "the reader chose UTM 31N as working CRS" has "$log" "working CRS WGS 84 / UTM zone 31N"

cat > "$WORK/city.json" <<JSON
{"pipeline": [
  {"type": "readers.footprints", "path": "$AMS/bag_buildings_epsg28992.geojson"},
  {"type": "readers.lidar", "path": ["$AMS/ahn_2386_9702_epsg28992.las", "$AMS/ahn_2397_9705_epsg28992.las"]},
  {"type": "readers.assets", "path": "$DATA/bad_rows.csv", "height_field": "height"},
  {"type": "filters.heights"},
  {"type": "filters.clamp"}]}
JSON
"$CLI" run "$WORK/city.json" --threads 2 > "$WORK/city.out" 2> "$WORK/city.err"
check "run 2 (footprints + LiDAR + assets + clamp) exits 0" test $? -eq 0
log="$WORK/city.err"
check "run 2: same summary" has "$log" \
  "bad_rows.csv: assets: 14 read, 10 kept, 4 skipped: 1 missing x, 1 non-numeric y, 1 outside the CRS's area of use, 1 duplicate id"
check "run 2: every kept asset placed" has "$log" "filters.clamp: 10 assets: "
check "run 2: no new working CRS (the footprints' RD New)" test "$(count "$log" "working CRS")" -eq 0

cat > "$WORK/geojson.json" <<JSON
{"pipeline": [{"type": "readers.assets", "path": "$DATA/bad_features.geojson", "id_field": "name"}]}
JSON
"$CLI" run "$WORK/geojson.json" > /dev/null 2> "$WORK/geojson.err"
check "run 3 (GeoJSON) exits 0" test $? -eq 0
log="$WORK/geojson.err"
check "feature 2: non-point" has "$log" "bad_features.geojson: feature 2: skipped: non-point geometry"
check "feature 3: missing geometry" has "$log" "bad_features.geojson: feature 3: skipped: missing geometry"
check "feature 4: duplicate id" has "$log" "bad_features.geojson: feature 4: skipped: duplicate id 'p1' (first at feature 1)"
check "feature 6: swapped x/y outside RD New's area" has "$log" "bad_features.geojson: feature 6: skipped: outside the CRS's area of use"
check "feature 7: missing id" has "$log" "bad_features.geojson: feature 7: skipped: missing id"
check "GeoJSON summary" has "$log" "bad_features.geojson: assets: 8 read, 3 kept, 5 skipped: "

# GDAL reads NaN and Infinity in GeoJSON (not JSON) as numbers, and gives a point of NaN
# as an empty point: it was skipped as "missing geometry", where the file has one.
printf '%s\n' '{"type": "FeatureCollection", "features": [' \
  '{"type": "Feature", "properties": {"id": "ok"}, "geometry": {"type": "Point", "coordinates": [4.9, 52.37]}},' \
  '{"type": "Feature", "properties": {"id": "nan"}, "geometry": {"type": "Point", "coordinates": [NaN, 52.37]}},' \
  '{"type": "Feature", "properties": {"id": "inf"}, "geometry": {"type": "Point", "coordinates": [4.9, Infinity]}},' \
  '{"type": "Feature", "properties": {"id": "empty"}, "geometry": {"type": "Point", "coordinates": []}},' \
  '{"type": "Feature", "properties": {"id": "none"}, "geometry": null}]}' > "$WORK/nonfinite.geojson"
cat > "$WORK/nonfinite.json" <<JSON
{"pipeline": [{"type": "readers.assets", "path": "$WORK/nonfinite.geojson", "id_field": "id"}]}
JSON
"$CLI" run "$WORK/nonfinite.json" > /dev/null 2> "$WORK/nonfinite.err"
log="$WORK/nonfinite.err"
check "GeoJSON NaN point: named, not missing" has "$log" "nonfinite.geojson: feature 1: skipped: unreadable geometry (GeoJSON): a coordinate is NaN, not a finite number"
check "GeoJSON Infinity point: non-finite" has "$log" "nonfinite.geojson: feature 2: skipped: non-finite coordinate"
check "GeoJSON empty and null points: missing geometry" test "$(count "$log" "skipped: missing geometry")" -eq 2
check "GeoJSON non-finite summary" has "$log" "nonfinite.geojson: assets: 5 read, 1 kept, 4 skipped"

cat > "$WORK/wkt.json" <<JSON
{"pipeline": [{"type": "readers.assets", "path": "$DATA/wkt_points.csv", "srs": "EPSG:28992", "id_field": "asset_id", "z_field": "z"}]}
JSON
"$CLI" run "$WORK/wkt.json" > /dev/null 2> "$WORK/wkt.err"
check "run 4 (WKT CSV) exits 0" test $? -eq 0
log="$WORK/wkt.err"
check "row 4: invalid WKT" has "$log" "wkt_points.csv: row 4: skipped: invalid WKT"
check "row 5: non-point" has "$log" "wkt_points.csv: row 5: skipped: non-point geometry"
check "row 6: missing geometry" has "$log" "wkt_points.csv: row 6: skipped: missing geometry"
check "row 7: non-numeric z" has "$log" "wkt_points.csv: row 7: skipped: non-numeric z ('high')"
check "WKT summary" has "$log" "wkt_points.csv: assets: 7 read, 3 kept, 4 skipped: "

# Usage errors name the file and the field; exit code 2.
cat > "$WORK/badfield.json" <<JSON
{"pipeline": [{"type": "readers.assets", "path": "$DATA/bad_rows.csv", "z_field": "elevation"}]}
JSON
"$CLI" run "$WORK/badfield.json" > /dev/null 2> "$WORK/badfield.err"
check "unknown z_field: exit 2" test $? -eq 2
check "unknown z_field: message names file and field" has "$WORK/badfield.err" "bad_rows.csv: z_field 'elevation' is not a field of layer 'bad_rows'"

# Heights and scales beyond reason: one row at z 1e9 stretched the whole tileset's
# bounds to 1,000 km without a word; z, height or scale 1e300 failed the writer at the
# end of the run naming no row. Skipped, each with its value and the range.
printf 'x,y,id,z,h,sc\n85000,447000,ok,1.5,2,1\n85001,447000,high,1e9,,\n85002,447000,deep,-1e7,,\n85003,447000,mast,,1e300,\n85004,447000,big,,,1e6\n85005,447000,below,,-2,0.5\n' > "$WORK/ranges.csv"
printf '{"pipeline": [{"type": "readers.assets", "path": "%s", "srs": "EPSG:28992", "z_field": "z", "height_field": "h", "scale_field": "sc"}]}\n' "$WORK/ranges.csv" > "$WORK/ranges.json"
"$CLI" run "$WORK/ranges.json" > /dev/null 2> "$WORK/ranges.err"
check "ranges: exit 0" test $? -eq 0
log="$WORK/ranges.err"
check "ranges: z 1e9 skipped" has "$log" "ranges.csv: row 3: skipped: z out of range (1e+09; from -12000 to 12000)"
check "ranges: z -1e7 skipped" has "$log" "ranges.csv: row 4: skipped: z out of range (-1e+07; from -12000 to 12000)"
check "ranges: height 1e300 skipped" has "$log" "ranges.csv: row 5: skipped: height out of range (1e+300; from -1000 to 1000)"
check "ranges: scale 1e6 skipped" has "$log" "ranges.csv: row 6: skipped: scale out of range (1e+06; from 0 to 1000)"
check "ranges: summary (a height of -2 m and a scale of 0.5 kept)" has "$log" \
  "ranges.csv: assets: 6 read, 2 kept, 4 skipped: 2 z out of range, 1 height out of range, 1 scale out of range"
# x 1e300 is beyond any CRS (PROJ gave it some lon/lat, and the message named a point in
# the southern Pacific)
printf 'x,y,id\n85000,447000,ok\n1e300,447000,far\n' > "$WORK/far.csv"
printf '{"pipeline": [{"type": "readers.assets", "path": "%s", "srs": "EPSG:28992"}]}\n' "$WORK/far.csv" > "$WORK/far.json"
"$CLI" run "$WORK/far.json" > /dev/null 2> "$WORK/far.err"
check "far: x 1e300 named as beyond any CRS" has "$WORK/far.err" \
  "far.csv: row 3: skipped: outside the CRS's area of use (1e+300, 447000: beyond any CRS's extent)"

# An input that gives no asset (a header only; every row bad) still runs (exit 0), but
# warns: an info line alone was easy to miss in a batch log.
printf 'id,x,y\n' > "$WORK/header_only.csv"
printf 'id,x,y\na,,\nb,1,\n' > "$WORK/all_bad.csv"
for f in header_only all_bad; do
  printf '{"pipeline": [{"type": "readers.assets", "path": "%s", "srs": "EPSG:28992"}]}\n' "$WORK/$f.csv" > "$WORK/$f.json"
  "$CLI" run "$WORK/$f.json" > /dev/null 2> "$WORK/$f.err"
  check "$f: exit 0" test $? -eq 0
done
check "header only: warns that there are no rows" has "$WORK/header_only.err" \
  "warning: $WORK/header_only.csv: no asset rows: the layer is empty (a CSV with a header only?)"
check "every row bad: warns that none was kept" has "$WORK/all_bad.err" \
  "warning: $WORK/all_bad.csv: none of its 2 asset rows was kept (every one skipped, see above)"
finish
