# Unusual but real inputs and pipelines (the second probe round): stage orders that
# would write a model other than the one asked for, sources with several layers, empty
# layers, Shapefiles missing a part, GDAL's own open errors, CSV rows with extra fields.
# Each case: the expected exit code, a message naming the file and the problem, no
# sanitizer report, nothing left behind on failure.
. "$(dirname "$0")/common.bash"
cd "$WORK" || exit 1
. "$(dirname "$0")/inputs.bash"
mklas ok.las 400 85000 447000
fp fp.geojson "85005 447005 10"
check "inputs generated" test -s ok.las -a -s fp.geojson

# Stages that change what filters.extrude made its meshes from, placed after it: the
# meshes kept the heights of before (filters.heights after it: a 10 m default box with a
# LiDAR roof_z in its metadata; a second filters.extrude's height was ignored), exit 0.
run_case heights_after_extrude 2 "{\"pipeline\": [$FP, $(lidar '"ok.las"'), $E, $H, $W]}"
check "heights_after_extrude: names the file, both stages and the fix" has heights_after_extrude.log \
  "heights_after_extrude.json: stage 3 (filters.heights) comes after filters.extrude (stage 2), which made the meshes from the heights and footprints before it: put it before filters.extrude"
check "heights_after_extrude: no stage ran" test -z "$(grep -F 'stage 0: readers.footprints' heights_after_extrude.log)"
run_case extrude_twice 2 "{\"pipeline\": [$FP, $E, {\"type\": \"filters.extrude\", \"height\": 20}, $W]}"
check "extrude_twice: names both stages" has extrude_twice.log \
  "extrude_twice.json: stage 2 (filters.extrude) comes after filters.extrude (stage 1)"
run_case clean_after_extrude 2 "{\"pipeline\": [$FP, $E, {\"type\": \"filters.clean\"}, $W]}"
check "clean_after_extrude: names both stages" has clean_after_extrude.log \
  "clean_after_extrude.json: stage 2 (filters.clean) comes after filters.extrude (stage 1)"
# Footprints read after filters.extrude (or filters.extrude first of all) had no meshes:
# every stage ran, then the writer said to put filters.extrude before it, which it was.
run_case footprints_after_extrude 2 "{\"pipeline\": [$E, $FP, $W]}"
check "footprints_after_extrude: names both stages, before anything ran" has footprints_after_extrude.log \
  "footprints_after_extrude.json: stage 1 (readers.footprints) comes after filters.extrude (stage 0), which made the meshes from the heights and footprints before it: put it before filters.extrude"
run_case footprints_again_after_extrude 2 "{\"pipeline\": [$FP, $E, $FP, $W]}"
check "footprints_again_after_extrude: names both stages" has footprints_again_after_extrude.log \
  "footprints_again_after_extrude.json: stage 2 (readers.footprints) comes after filters.extrude (stage 1)"
run_case heights_before_extrude 0 "{\"pipeline\": [$FP, $(lidar '"ok.las"'), $H, {\"type\": \"filters.clean\"}, $E, {\"type\": \"filters.clamp\"}, $W]}"
# GDAL's own open errors: a cut GeoJSON said only "Failed to read GeoJSON data", the line
# and column of the fault being in an earlier GDAL message printed raw beside ours.
printf '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"id": "a"}, "geometry":' > cut.geojson
run_case geojson_cut 2 '{"pipeline": [{"type": "readers.footprints", "path": "cut.geojson"}, '"$E, $W]}"
check "geojson_cut: names the file and where the JSON breaks" has geojson_cut.log \
  "cut.geojson: cannot open as a vector source (Failed to read GeoJSON data: At line 1, character "
check "geojson_cut: GDAL prints nothing besides" test -z "$(grep '^ERROR' geojson_cut.log)"
ogr2ogr -f "ESRI Shapefile" noshx.shp fp.geojson > /dev/null 2>&1 && rm -f noshx.shx
run_case shp_no_shx 2 '{"pipeline": [{"type": "readers.footprints", "path": "noshx.shp"}, '"$E, $W]}"
check "shp_no_shx: says the .shx is missing" has shp_no_shx.log "noshx.shp: cannot open as a vector source (Unable to open "
check "shp_no_shx: GDAL prints nothing besides" test -z "$(grep '^ERROR' shp_no_shx.log)"

# A source of several layers without "layer": the first was read without a word (a
# GeoPackage of buildings and parcels gave parcels if they came first).
ogr2ogr -f GPKG -nln parcels two.gpkg fp.geojson > /dev/null 2>&1
ogr2ogr -update -nln buildings two.gpkg fp.geojson > /dev/null 2>&1
run_case two_layers 0 '{"pipeline": [{"type": "readers.footprints", "path": "two.gpkg"}, '"$E, $W]}"
check "two_layers: warns, naming the layer read and the others" has two_layers.log \
  "two.gpkg: the source holds 2 layers (parcels, buildings): reading the first, 'parcels'; set \"layer\" to read another"
run_case two_layers_named 0 '{"pipeline": [{"type": "readers.footprints", "path": "two.gpkg", "layer": "buildings"}, '"$E, $W]}"
check "two_layers_named: no such warning" test -z "$(grep -F 'layers (' two_layers_named.log)"
printf 'id,x,y\na1,85010,447010\n' > a.csv && ogr2ogr -f GPKG -nln lights -oo X_POSSIBLE_NAMES=x -oo Y_POSSIBLE_NAMES=y -a_srs EPSG:28992 assets2.gpkg a.csv > /dev/null 2>&1
ogr2ogr -update -nln trees -oo X_POSSIBLE_NAMES=x -oo Y_POSSIBLE_NAMES=y -a_srs EPSG:28992 assets2.gpkg a.csv > /dev/null 2>&1
printf '%s\n' '{"pipeline": [{"type": "readers.assets", "path": "assets2.gpkg"}]}' > assets_two_layers.json
run_as_is assets_two_layers
check "assets_two_layers: exit 0 (got $rc), warns likewise" test "$rc" -eq 0 -a -n \
  "$(grep -F "assets2.gpkg: the source holds 2 layers (lights, trees): reading the first, 'lights'" assets_two_layers.log)"
# An empty layer, or a filter that selects nothing: the reader said "0 features read" at
# info level and the writer "nothing to write: 0 features read, all skipped".
printf '{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}}, "features": []}' > empty.geojson
run_case empty_layer 2 '{"pipeline": [{"type": "readers.footprints", "path": "empty.geojson"}, '"$E, $W]}"
check "empty_layer: the reader warns, naming the file and the layer" has empty_layer.log \
  "empty.geojson: layer 'empty' holds no features: no building from this source"
check "empty_layer: the writer says no footprint was read" has empty_layer.log \
  "writers.3dtiles: nothing to write: no footprint was read (see the warnings above)"
run_case where_selects_none 2 '{"pipeline": [{"type": "readers.footprints", "path": "fp.geojson", "where": "id = '"'nope'"'"}, '"$E, $W]}"
check "where_selects_none: the reader says the filter selected nothing" has where_selects_none.log \
  "fp.geojson: no feature of layer 'fp' passes the where/bbox filter: no building from this source"
# A Shapefile without its .dbf opens as features without attributes: the buildings got
# feature numbers as ids and no attributes, without a word.
ogr2ogr -f "ESRI Shapefile" nodbf.shp fp.geojson > /dev/null 2>&1 && rm -f nodbf.dbf
run_case shp_no_dbf 0 '{"pipeline": [{"type": "readers.footprints", "path": "nodbf.shp"}, '"$E, $W]}"
check "shp_no_dbf: warns that the attributes are missing" has shp_no_dbf.log \
  "nodbf.shp: layer 'nodbf' has no .dbf file: its features have no attributes (copy the .dbf beside the .shp)"
ogr2ogr -f "ESRI Shapefile" full.shp fp.geojson > /dev/null 2>&1
run_case shp_whole 0 '{"pipeline": [{"type": "readers.footprints", "path": "full.shp"}, '"$E, $W]}"
check "shp_whole: no such warning" test -z "$(grep -F 'no .dbf' shp_whole.log)"
# CSV rows with more fields than the header (a value holding the delimiter, unquoted):
# GDAL drops the extra fields without a word. Warned, naming the first such row; a
# quoted delimiter, a quoted line break and a short row are not extra fields.
printf 'id,x,y,category,name\na1,85010,447010,tree,"Oak, old"\na2,85012,447010,tree,Oak, old\na3,85014,447010,tree,"two\nlines"\n\na4,85016,447010,tree,x,y,z\na5,85018,447010\n' > extra_fields.csv
printf '%s\n' '{"pipeline": [{"type": "readers.assets", "path": "extra_fields.csv", "srs": "EPSG:28992"}]}' > extra_fields.json
run_as_is extra_fields
check "extra_fields: exit 0 (got $rc)" test "$rc" -eq 0
check "extra_fields: warns, naming the count, the first row and its fields" has extra_fields.log \
  "extra_fields.csv: 2 rows have more fields than the header's 5 (first: row 3, 6 fields): their extra fields are ignored"
printf 'id;x;y;category\na1;85010;447010;tree;oops\n' > extra_semicolon.csv
printf '%s\n' '{"pipeline": [{"type": "readers.assets", "path": "extra_semicolon.csv", "srs": "EPSG:28992"}]}' > extra_semicolon.json
run_as_is extra_semicolon
check "extra_semicolon: exit 0 (got $rc), the ';' delimiter too" test "$rc" -eq 0 -a -n \
  "$(grep -F "extra_semicolon.csv: 1 rows have more fields than the header's 4 (first: row 2, 5 fields)" extra_semicolon.log)"
printf 'id,x,y,category\na1,85010,447010,tree\n' > no_extra.csv
printf '%s\n' '{"pipeline": [{"type": "readers.assets", "path": "no_extra.csv", "srs": "EPSG:28992"}]}' > no_extra.json
run_as_is no_extra
check "no_extra: exit 0 (got $rc), no such warning" test "$rc" -eq 0 -a -z "$(grep -F 'more fields' no_extra.log)"
# GeometryCollections of polygons (ST_Collect, some CAD exports) were skipped as "not a
# polygon": their polygons are kept now, also within a collection in a collection,
# other parts dropped with a count.
python3 - <<'PY2'
import json
sq = lambda x: [[x, 447005], [x + 10, 447005], [x + 10, 447015], [x, 447015], [x, 447005]]
pt = {"type": "Point", "coordinates": [85000, 447000]}
gc = lambda *g: {"type": "GeometryCollection", "geometries": list(g)}
geoms = [gc({"type": "Polygon", "coordinates": [sq(85005)]}),
         gc({"type": "Polygon", "coordinates": [sq(85025)]}, pt),
         gc(pt), {"type": "LineString", "coordinates": [[85000, 447000], [85010, 447010]]},
         gc(gc({"type": "Polygon", "coordinates": [sq(85045)]}), pt)]  # nested: its polygon was lost
feats = [{"type": "Feature", "properties": {"id": "g%d" % i}, "geometry": g} for i, g in enumerate(geoms)]
json.dump({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
           "features": feats}, open("collections.geojson", "w"))
PY2
run_case collections 0 '{"pipeline": [{"type": "readers.footprints", "path": "collections.geojson", "id_field": "id"}, '"$E, $W]}"
check "collections: the two with polygons written, the others skipped" has collections.log \
  "done: 5 features read, 3 buildings written, 2 skipped"
check "collections: the dropped point counted" has collections.log \
  "changed 2: geometry collection: parts that are not polygons dropped"
check "collections: a skip names the geometry type" has collections.log \
  "collections.geojson: feature 3 (record 4): skipped: not a polygon (LINESTRING)"
# Control bytes in the data (an id holding ESC [31m) reached the terminal raw through the
# text log, recolouring it (or forging lines with a newline): written as \xNN now.
python3 - <<'PY2'
import json
sq = lambda x: [[x, 447005], [x + 10, 447005], [x + 10, 447015], [x, 447015], [x, 447005]]
feats = [{"type": "Feature", "properties": {"id": "a\x1b[31mb\nc"}, "geometry": {"type": "Polygon", "coordinates": [sq(x)]}}
         for x in (85005, 85025)]
json.dump({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
           "features": feats}, open("control_ids.geojson", "w"))
PY2
run_case control_ids 0 '{"pipeline": [{"type": "readers.footprints", "path": "control_ids.geojson", "id_field": "id"}, '"$E, $W]}"
check "control_ids: the id's ESC and newline written as \\xNN" has control_ids.log "(first: 'a\\x1B[31mb\\x0Ac', features 0 and 1)"
check "control_ids: no raw ESC in the log" test "$(grep -c "$(printf '\033')" control_ids.log)" -eq 0
# A GeoJSON whose "crs" GDAL cannot read (an unknown code): taken as WGS 84 without a
# word, every feature skipped as outside that CRS's area of use. One warning says so.
printf '%s\n' '{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::999999"}}, "features": [{"type": "Feature", "properties": {"id": "a"}, "geometry": {"type": "Polygon", "coordinates": [[[85000, 447000], [85010, 447000], [85010, 447010], [85000, 447000]]]}}]}' > bad_crs.geojson
run_case bad_crs 2 '{"pipeline": [{"type": "readers.footprints", "path": "bad_crs.geojson"}, '"$E, $W]}"
check "bad_crs: says every feature lies outside its CRS, naming it" has bad_crs.log \
  "bad_crs.geojson: every feature lies outside the area of use of its CRS (WGS 84): is that the CRS its coordinates are in?"
# A GeoJSON geometry GDAL cannot parse: GDAL reads the file whole at the first feature and
# drops the geometry, so the feature came as "empty geometry" like a null one, and GDAL's
# message ("Invalid 'x' coordinate") was pinned on the first feature, which was fine.
cat > badgeom.geojson <<'JSON'
{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}}, "features": [
{"type": "Feature", "properties": {"id": "ok"}, "geometry": {"type": "Polygon", "coordinates": [[[85000, 447000], [85010, 447000], [85010, 447010], [85000, 447010], [85000, 447000]]]}},
{"type": "Feature", "properties": {"id": "short"}, "geometry": {"type": "Polygon", "coordinates": [[[85020, 447000], [85030], [85030, 447010], [85020, 447000]]]}},
{"type": "Feature", "properties": {"id": "text"}, "geometry": {"type": "Polygon", "coordinates": [[["x", "y"], [85050, 447000], [85050, 447010], [85040, 447000]]]}},
{"type": "Feature", "properties": {"id": "none"}, "geometry": null},
{"type": "Feature", "properties": {"id": "typo"}, "geometry": {"type": "Polygonn", "coordinates": [[[85060, 447000], [85070, 447000], [85070, 447010], [85060, 447000]]]}}]}
JSON
run_case geojson_badgeom 0 '{"pipeline": [{"type": "readers.footprints", "path": "badgeom.geojson", "id_field": "id"}, '"$E, $W]}"
check "geojson_badgeom: a position of one number is named" has geojson_badgeom.log \
  "badgeom.geojson: feature 1 (record 2): skipped: unreadable geometry (Polygon coordinates[0][1]: a position needs at least 2 numbers, not 1)"
check "geojson_badgeom: a string coordinate is named" has geojson_badgeom.log \
  "badgeom.geojson: feature 2 (record 3): skipped: unreadable geometry (Polygon coordinates[0][0][0]: a coordinate must be a number)"
check "geojson_badgeom: a null geometry stays an empty one" has geojson_badgeom.log \
  "badgeom.geojson: feature 3 (record 4): skipped: empty geometry"
check "geojson_badgeom: an unknown type is named" has geojson_badgeom.log \
  "badgeom.geojson: feature 4 (record 5): skipped: unreadable geometry (\"Polygonn\" is not a GeoJSON geometry type)"
check "geojson_badgeom: GDAL's message is the file's, not the first feature's" has geojson_badgeom.log \
  "badgeom.geojson: GDAL, reading the file: Invalid 'x' coordinate"
check "geojson_badgeom: no GDAL message pinned on the good feature" test -z "$(grep -F 'feature 0 (record 1)' geojson_badgeom.log)"
check "geojson_badgeom: counted by reason" has geojson_badgeom.log "skipped 3: unreadable geometry (GeoJSON)"
cat > badpoints.geojson <<'JSON'
{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}}, "features": [
{"type": "Feature", "properties": {"id": "p1", "category": "street_light"}, "geometry": {"type": "Point", "coordinates": [85005, 447005]}},
{"type": "Feature", "properties": {"id": "p2", "category": "street_light"}, "geometry": {"type": "Point", "coordinates": [85006]}},
{"type": "Feature", "properties": {"id": "p3", "category": "street_light"}, "geometry": null}]}
JSON
printf '%s\n' '{"pipeline": [{"type": "readers.assets", "path": "badpoints.geojson", "id_field": "id"}]}' > assets_badgeom.json
run_as_is assets_badgeom
check "assets_badgeom: exit 0 (got $rc)" test "$rc" -eq 0
check "assets_badgeom: the point of one number is named" has assets_badgeom.log \
  "unreadable geometry (GeoJSON): Point coordinates: a position needs at least 2 numbers, not 1"
check "assets_badgeom: the null one stays missing" has assets_badgeom.log "missing geometry"
# Footprints carrying attributes named like filters.heights' own columns (a dataset
# exported by an earlier run, say): roof_z as text stopped the run after the LiDAR read
# ("attribute 'roof_z' already exists with another type", no stage, no file); of the same
# type, a building without a measured roof kept the input's roof_z beside measured ones.
# The stage's columns replace them, with one warning naming them.
python3 - <<'PY'
import json
ring = [[85005, 447005], [85015, 447005], [85015, 447015], [85005, 447015], [85005, 447005]]
props = {"id": "b1", "roof_z": "tall", "flag": 7, "point_count": "many", "ground_z": 99.5}
json.dump({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
           "features": [{"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": [ring]}}]},
          open("fp_named_like_heights.geojson", "w"))
PY
run_case attrs_named_like_heights 0 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"fp_named_like_heights.geojson\"}, $(lidar '"ok.las"'), $H, $E, $W]}"
check "attrs_named_like_heights: one warning names the replaced attributes" has attrs_named_like_heights.log \
  "filters.heights: the buildings' input attributes ground_z, roof_z, point_count, flag are replaced by what this stage computes"
check "attrs_named_like_heights: ground_z and roof_z are the measured ones ($(heights_of attrs_named_like_heights-out 2>&1 | cut -d' ' -f1,2))" \
  test "$(heights_of attrs_named_like_heights-out 2>/dev/null | cut -d' ' -f1,2)" = "0.000 10.000"
# Likewise asset columns named like filters.clamp's: ground_z as text stopped the run
# ("asset attribute 'ground_z' already exists with another type").
printf 'id,x,y,ground_z,clamp_flag\na1,85010,447002,high,3\n' > assets_named_like_clamp.csv
run_case assets_named_like_clamp 0 "{\"pipeline\": [$FP, $(lidar '"ok.las"'), {\"type\": \"readers.assets\", \"path\": \"assets_named_like_clamp.csv\", \"srs\": \"EPSG:28992\"}, $H, {\"type\": \"filters.clamp\"}, $E, $W]}"
check "assets_named_like_clamp: one warning names the replaced attributes" has assets_named_like_clamp.log \
  "filters.clamp: the assets' input attributes ground_z, clamp_flag are replaced by what this stage computes"
# filters.clamp names an asset as readers.assets does: by its CSV row (it said "record 3",
# the word the footprint reader uses for its read order).
printf 'id,x,y\na1,85010,447002\na2,95000,447002\n' > assets_far.csv
run_case assets_far 0 "{\"pipeline\": [$FP, $(lidar '"ok.las"'), {\"type\": \"readers.assets\", \"path\": \"assets_far.csv\", \"srs\": \"EPSG:28992\"}, $H, {\"type\": \"filters.clamp\"}, $E, $W]}"
check "assets_far: the clamp warning names the CSV row" has assets_far.log "filters.clamp: asset a2 (row 3): outside the LiDAR coverage"
# 35 assets beyond the LiDAR: the first 20 are listed, the other 15 counted in one line
# (100,000 such assets made 100,000 lines); every one is still flagged.
{ echo 'id,x,y'; for i in $(seq 1 35); do echo "f$i,$((95000 + i)),447002"; done; } > assets_many_far.csv
run_case assets_many_far 0 "{\"pipeline\": [$FP, $(lidar '"ok.las"'), {\"type\": \"readers.assets\", \"path\": \"assets_many_far.csv\", \"srs\": \"EPSG:28992\"}, $H, {\"type\": \"filters.clamp\"}, $E, $W]}"
check "assets_many_far: 20 assets listed ($(grep -c 'filters.clamp: asset f[0-9]* (row' assets_many_far.log))" \
  test "$(grep -c 'filters.clamp: asset f[0-9]* (row [0-9]*): outside the LiDAR coverage' assets_many_far.log)" -eq 20
check "assets_many_far: the other 15 counted" has assets_many_far.log \
  "filters.clamp: 15 more assets flagged, skipped or placed on the ground likewise (not listed: the first 20 are; each one's clamp_flag says why)"
check "assets_many_far: all 35 flagged" has assets_many_far.log "35 flagged (outside the LiDAR or no ground points)"
# Latitude given as x (lon/lat columns named x, y in the wrong order): the light landed
# in the Indian Ocean, 7,600 km from the footprints, without a word from the reader.
printf 'id,x,y\na1,51.9936,4.3530\n' > assets_lat_first.csv
run_case assets_lat_first 0 "{\"pipeline\": [$FP, $(lidar '"ok.las"'), {\"type\": \"readers.assets\", \"path\": \"assets_lat_first.csv\"}, $H, {\"type\": \"filters.clamp\"}, $E, $W]}"
check "assets_lat_first: warns that it lies far from the footprints" has assets_lat_first.log \
  "assets_lat_first.csv: 1 of its 1 assets lie more than 10 km from the footprints (first: a1, row 2,"
check "assets_far: 10 km away, no such warning" test -z "$(grep -F 'from the footprints (first' assets_far.log)"
finish
