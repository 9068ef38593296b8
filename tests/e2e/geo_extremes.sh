# Where on Earth and how large: footprints in lon/lat across the antimeridian, near the
# poles, in feet, with extreme sizes and heights. Every run through both validators
# (Khronos glTF on every GLB; 3D Tiles 1.1 schema + structure, which includes every vertex
# inside its tile's volume), and the buildings measured where they landed
# (geo_buildings.mjs: tile transforms, node matrices and feature ids, back to lon/lat
# and metres) against the footprints written.
. "$(dirname "$0")/common.bash"
need_validators
cd "$WORK" || exit 1
VAL="$SRC/tools/validate"
GEO="$SRC/tests/e2e/geo_buildings.mjs"

# footprints OUT CRS "x y sx sy" ...: rectangles (ids b1, b2, ...) in CRS (none: no crs
# member, GeoJSON's lon/lat).
footprints() {
  python3 - "$@" <<'PY'
import json, sys
out, crs = sys.argv[1], sys.argv[2]
feats = []
for i, a in enumerate(sys.argv[3:]):
    x, y, sx, sy = map(float, a.split())
    ring = [[x, y], [x + sx, y], [x + sx, y + sy], [x, y + sy], [x, y]]
    feats.append({"type": "Feature", "properties": {"id": "b%d" % (i + 1)}, "geometry": {"type": "Polygon", "coordinates": [ring]}})
d = {"type": "FeatureCollection", "features": feats}
if crs != "none":
    d["crs"] = {"type": "name", "properties": {"name": crs}}
json.dump(d, open(out, "w"))
PY
}

# run_geo NAME PIPELINE_JSON: runs it into NAME-out (exit 0, no sanitizer report), both
# validators, and writes NAME.buildings (geo_buildings.mjs).
run_geo() {
  local name=$1
  printf '%s\n' "$2" > "$name.json"
  timeout 120 "$CLI" run "$name.json" --threads 2 --set "writers.3dtiles.path=$name-out" > "$name.log" 2>&1
  local rc=$?
  check "$name: exit 0 (got $rc)" test "$rc" -eq 0
  check "$name: no sanitizer report" test -z "$(grep -E 'Sanitizer|runtime error' "$name.log")"
  node "$VAL/validate-glb.mjs" "$name-out" > "$name-glb.log" 2>&1
  check "$name: Khronos glTF validator, 0 errors ($(tail -1 "$name-glb.log"))" test $? -eq 0
  node "$VAL/validate-tileset.mjs" "$name-out" > "$name-tileset.log" 2>&1
  rc=$?
  grep ERROR "$name-tileset.log" | head -5
  check "$name: tileset.json valid (3D Tiles 1.1 schema + structure)" test "$rc" -eq 0
  node "$GEO" "$name-out" > "$name.buildings" 2> "$name.buildings.err"
}

# max_lon_width DIR: the widest longitude interval of any region in DIR/tileset.json, in
# radians (west > east is an interval across the antimeridian).
max_lon_width() {
  node -e 'const t = JSON.parse(require("fs").readFileSync(process.argv[1] + "/tileset.json", "utf8"));
    let worst = 0;
    (function walk(x) {
      const r = x.boundingVolume?.region;
      if (r) worst = Math.max(worst, r[2] >= r[0] ? r[2] - r[0] : r[2] - r[0] + 2 * Math.PI);
      (x.children ?? []).forEach(walk);
    })(t.root);
    console.log(worst.toPrecision(3))' "$1"
}

# landed NAME ID LON LAT EAST NORTH HMIN HMAX: building ID of NAME.buildings has its centre
# within 1e-6 degrees of (LON, LAT), its extent within 1 cm of EAST x NORTH metres and its
# heights within 1 cm of HMIN..HMAX.
landed() {
  node -e 'const [file, id, ...w] = process.argv.slice(1); const [lon, lat, e, n, h0, h1] = w.map(Number);
    const b = require("fs").readFileSync(file, "utf8").trim().split("\n").map(JSON.parse).find((x) => x.id === id);
    if (!b) { console.log("not found"); process.exit(1); }
    const dlon = Math.abs(((b.lon - lon + 540) % 360) - 180);
    const ok = dlon < 1e-6 && Math.abs(b.lat - lat) < 1e-6 && Math.abs(b.east - e) < 0.01 && Math.abs(b.north - n) < 0.01 &&
      Math.abs(b.hMin - h0) < 0.01 && Math.abs(b.hMax - h1) < 0.01;
    console.log(`lon ${b.lon.toFixed(7)} lat ${b.lat.toFixed(7)} ${b.east.toFixed(3)} x ${b.north.toFixed(3)} m, h ${b.hMin.toFixed(3)}..${b.hMax.toFixed(3)}`);
    process.exit(ok ? 0 : 1)' "$NAME.buildings" "$@"
}
check_landed() { local what=$1; shift; local r; r=$(landed "$@"); check "$what ($r)" test $? -eq 0; }

WRITER='{"type": "writers.3dtiles", "path": "out", "max_buildings_per_tile": 1000}'

# --- Axis order and units (these worked; kept so they stay so): lon/lat GeoJSON (no crs
# member) and the same as a GeoPackage (EPSG:4326, whose axes are lat, lon) land in Delft;
# 100 x 50 ft in New York's EPSG:2263 (US feet) is 30.48 x 15.24 m on the ground.
footprints wgs.geojson none "4.3571 52.0116 0.0002 0.0001"
ogr2ogr -f GPKG wgs.gpkg wgs.geojson > /dev/null 2>&1
footprints feet.geojson urn:ogc:def:crs:EPSG::2263 "987000 211000 100 50"
for c in wgs.geojson wgs.gpkg feet.geojson; do
  NAME=${c%.*}_${c#*.}
  run_geo "$NAME" "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"$c\", \"id_field\": \"id\"}, {\"type\": \"filters.extrude\"}, $WRITER]}"
done
NAME=wgs_geojson; check_landed "wgs_geojson: lands in Delft, 13.73 x 11.13 m" b1 4.3572 52.01165 13.7321 11.1268 0 10
NAME=wgs_gpkg; check_landed "wgs_gpkg: the same" b1 4.3572 52.01165 13.7321 11.1268 0 10
# (cs2cs EPSG:2263 EPSG:4326 of the centre 987050 211025: 40.7458910 -73.9898950)
NAME=feet_geojson; check_landed "feet_geojson: lands in Manhattan, 100 x 50 ft" b1 -73.9898950 40.7458910 30.482 15.244 0 10

# --- A town across the antimeridian (Taveuni, Fiji: lon 180 at lat -16.8): 24
# buildings, half each side, all in one tile, with street lights among them. Every
# region was min/max of longitudes, so the root and any tile holding both sides spanned
# the globe ([-3.14157, 3.14156] rad: a band around the Earth at that latitude) instead
# of the 60 m between its houses; assets likewise.
args=()
for i in 0 1 2 3 4 5 6 7 8 9 10 11; do
  args+=("$(python3 -c "print(179.9995 + 0.00004 * $i, -16.8, 0.00002, 0.00001)")")
  args+=("$(python3 -c "print(-179.9999 + 0.00004 * $i, -16.8003, 0.00002, 0.00001)")")
done
footprints am.geojson none "${args[@]}"
printf 'id,lon,lat,z,category\nl1,179.99995,-16.80015,0,street_light\nl2,-179.99995,-16.80015,0,street_light\n' > am_lights.csv
NAME=am
run_geo am "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"am.geojson\", \"id_field\": \"id\"},
  {\"type\": \"readers.assets\", \"path\": \"am_lights.csv\", \"z_field\": \"z\"}, {\"type\": \"filters.extrude\"}, $WRITER]}"
w=$(max_lon_width am-out)
check "am: every region spans the town, not the globe (widest $w rad < 1e-4)" \
  node -e 'process.exit(Number(process.argv[1]) < 1e-4 ? 0 : 1)' "$w"
check "am: the root region crosses the antimeridian (west > east)" \
  node -e 'const r = require(process.argv[1] + "/tileset.json").root.boundingVolume.region; process.exit(r[0] > 0 && r[2] < 0 && r[0] > r[2] ? 0 : 1)' "$PWD/am-out"
check_landed "am: b1 east of the antimeridian lands there" b1 179.99951 -16.799995 2.1320 1.1067 0 10
check_landed "am: b2 west of it lands there" b2 -179.99989 -16.800295 2.1320 1.1067 0 10
check_landed "am: b24 lands there" b24 -179.99945 -16.800295 2.1320 1.1067 0 10
check "am: no triangle wound against its normal, every face in its region ($(tail -1 am.buildings))" grep -q '"facesOutside":0,"insideOut":0}' am.buildings
# Its working CRS: the UTM zone at lon 180, not zone 31 on the other side of the Earth
# (the plain middle of -180..180 is 0; there the town's metres were distorted).
check "am: working CRS around the antimeridian ($(grep -o 'UTM zone [0-9]*[NS]' am.log | head -1))" \
  grep -Eq "working CRS WGS 84 / UTM zone (1|60)S" am.log

# A house across the antimeridian given with longitudes past 180 (179.9998..180.0001: not
# cut at the antimeridian as RFC 7946 asks) was skipped as "outside the CRS's area of
# use"; PROJ wraps such longitudes, and it lands where it is, 32 m wide.
# Likewise a street light beside it at lon 180.00005.
footprints am_past.geojson none "179.9998 -16.8 0.0003 0.0001"
printf 'id,lon,lat,z,category\nl1,180.00005,-16.80015,0,street_light\nl2,-179.99995,-16.80015,0,street_light\n' > am_past_lights.csv
NAME=am_past
run_geo am_past "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"am_past.geojson\", \"id_field\": \"id\"},
  {\"type\": \"readers.assets\", \"path\": \"am_past_lights.csv\", \"z_field\": \"z\"}, {\"type\": \"filters.extrude\"}, $WRITER]}"
check "am_past: not skipped" grep -q "1 buildings written, 0 skipped" am_past.log
check "am_past: the light past 180 is kept" grep -q "assets: 2 read, 2 kept, 0 skipped" am_past.log
w=$(max_lon_width am_past-out)
check "am_past: every region, the lights' included, spans the house, not the globe (widest $w rad < 1e-4)" \
  node -e 'process.exit(Number(process.argv[1]) < 1e-4 ? 0 : 1)' "$w"
check_landed "am_past: b1 lands across the antimeridian" b1 179.99995 -16.79995 31.980 11.067 0 10

# The same town as an implicit tileset (4 buildings a tile): the root region was the whole
# globe and beyond ([-3.2044, 3.2044] rad in longitude: outside [-pi, pi]; latitude
# -pi/2..pi/2), 17 levels deep, and the quadtree stopped at max_level with 12 buildings
# in each of 2 tiles. Now the root crosses the antimeridian (west > east) around the town.
run_geo am_implicit "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"am.geojson\", \"id_field\": \"id\"},
  {\"type\": \"filters.extrude\"}, {\"type\": \"writers.3dtiles\", \"path\": \"out\", \"max_buildings_per_tile\": 4, \"tiling\": \"implicit\"}]}"
check "am_implicit: the root region crosses the antimeridian around the town ($(max_lon_width am_implicit-out) rad)" \
  node -e 'const r = require(process.argv[1] + "/tileset.json").root.boundingVolume.region;
    process.exit(r.slice(0, 4).every((v) => Math.abs(v) <= Math.PI) && r[0] > r[2] && r[2] - r[0] + 2 * Math.PI < 1e-4 && r[3] - r[1] < 1e-4 ? 0 : 1)' "$PWD/am_implicit-out"
levels=$(node -e 'console.log(require(process.argv[1] + "/tileset.json").root.implicitTiling.availableLevels)' "$PWD/am_implicit-out")
nglb=$(find am_implicit-out/tiles -name '*.glb' | wc -l)
check "am_implicit: a few levels ($levels), at least 6 tiles for 24 buildings at 4 a tile ($nglb)" test "$levels" -le 6 -a "$nglb" -ge 6

# --- One footprint given 300 times (a cadastre with a record per flat), beside 40
# others, 100 buildings a tile: the quadtree split the stack down to max_level 16, one
# child a level, and each of those 16 parents carried the same HLOD meshes (17 tiles of
# 2.3 MB for one spot at 20,000 copies). Now a tile whose centroids are all one point
# stays a leaf.
python3 - <<'PY'
import json
sq = lambda x, y, s: [[[x, y], [x + s, y], [x + s, y + s], [x, y + s], [x, y]]]
feats = [{"type": "Feature", "properties": {"id": "s%d" % i}, "geometry": {"type": "Polygon", "coordinates": sq(85100, 447100, 10)}}
         for i in range(300)]
feats += [{"type": "Feature", "properties": {"id": "o%d" % i}, "geometry": {"type": "Polygon", "coordinates": sq(85000 + 20 * (i % 8), 447000 + 40 * (i // 8), 8)}}
          for i in range(40)]
json.dump({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
           "features": feats}, open("stack.geojson", "w"))
PY
run_geo stack '{"pipeline": [{"type": "readers.footprints", "path": "stack.geojson", "id_field": "id"}, {"type": "filters.extrude"},
  {"type": "writers.3dtiles", "path": "out", "max_buildings_per_tile": 100}]}'
deepest=$(ls stack-out/tiles | sed 's/_.*//' | sort -n | tail -1)
check "stack: the stack stays a leaf once apart from the others (deepest level $deepest, $(ls stack-out/tiles | wc -l) tiles)" test "$deepest" -le 6
check "stack: all 340 buildings in the leaves" test "$(grep -c '"id"' stack.buildings)" -eq 340

# --- S-JTSK / Krovak EPSG:2065 (Prague): GDAL reads its coordinates southing, then
# westing, a mirror image of east, north. The building landed right, but every triangle
# was wound clockwise seen from outside (12 of 12 against their normals): viewers cull
# the outside and show the inside of each building. Now a tile whose working CRS mirrors
# gets its triangles wound the other way.
footprints krovak.geojson urn:ogc:def:crs:EPSG::2065 "1043823 743011 20 10"
NAME=krovak
run_geo krovak '{"pipeline": [{"type": "readers.footprints", "path": "krovak.geojson", "id_field": "id"}, {"type": "filters.extrude"},
  {"type": "writers.3dtiles", "path": "out", "lod": false}]}'
check "krovak: no triangle wound against its normal ($(tail -1 krovak.buildings))" grep -q '"insideOut":0}' krovak.buildings
# (cs2cs EPSG:2065 EPSG:4326 of the centre, 1043833 743016: 50.0799073 14.4199595)
r=$(node -e 'const b = JSON.parse(require("fs").readFileSync("krovak.buildings", "utf8").split("\n")[0]);
  console.log(b.lon.toFixed(7), b.lat.toFixed(7)); process.exit(Math.abs(b.lon - 14.4199595) < 1e-6 && Math.abs(b.lat - 50.0799073) < 1e-6 ? 0 : 1)')
check "krovak: lands in Prague where PROJ puts it ($r)" test $? -eq 0
# The same with meshopt compression and HLOD parents (one tile splits: 2 per tile).
footprints krovak3.geojson urn:ogc:def:crs:EPSG::2065 "1043823 743011 20 10" "1043843 743011 20 10" "1043823 743031 20 10" "1043863 743051 8 8"
run_geo krovak_meshopt '{"pipeline": [{"type": "readers.footprints", "path": "krovak3.geojson", "id_field": "id"}, {"type": "filters.extrude"},
  {"type": "writers.3dtiles", "path": "out", "compression": "meshopt", "max_buildings_per_tile": 2}]}'
check "krovak_meshopt: no triangle wound against its normal ($(tail -1 krovak_meshopt.buildings))" grep -q '"insideOut":0}' krovak_meshopt.buildings

# --- Near the poles (lat 89.9: three huts at lon 10, 100, -170; one at the South Pole):
# there a millimetre is a wide angle of longitude. Regions were made of the exact
# positions, but the GLBs hold float32 ones (and, compressed, quantized ones up to
# position_tolerance away): with meshopt 3 to 6 vertices of a tile fell outside its
# region (worst 3e-8 rad of longitude, 0.3 mm), and so did float32 vertices of an
# implicit tile 16 km across. Now a region grows by the error of the positions written.
footprints pole.geojson none "10 89.9 0.01 0.001" "100 89.9 0.01 0.001" "-170 89.95 0.01 0.001" "45 -89.99 0.1 0.001"
for v in "pole_meshopt|\"compression\": \"meshopt\", \"max_buildings_per_tile\": 2" \
         "pole_implicit|\"tiling\": \"implicit\", \"max_buildings_per_tile\": 2" \
         "pole_implicit_meshopt|\"tiling\": \"implicit\", \"compression\": \"meshopt\", \"max_buildings_per_tile\": 2"; do
  run_geo "${v%%|*}" "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"pole.geojson\", \"id_field\": \"id\"}, {\"type\": \"filters.extrude\"},
    {\"type\": \"writers.3dtiles\", \"path\": \"out\", ${v#*|}}]}"
done
r=$(node -e 'const bs = require("fs").readFileSync("pole_meshopt.buildings", "utf8").trim().split("\n").map(JSON.parse);
  const want = {b1: [10.005, 89.9005], b2: [100.005, 89.9005], b3: [-169.995, 89.9505], b4: [45.05, -89.9895]};
  const bad = Object.entries(want).filter(([id, [lon, lat]]) => { const b = bs.find((x) => x.id === id);
    return !b || Math.abs(b.lat - lat) > 1e-6 || Math.abs(b.lon - lon) > 1e-4 || Math.abs(b.hMax - 10) > 0.02; });
  console.log(bad.length ? "misplaced: " + bad.map((x) => x[0]) : "all 4 in place"); process.exit(bad.length ? 1 : 0)')
check "pole_meshopt: the huts land at their lon/lat, 10 m high ($r)" test $? -eq 0

# --- Heights: an 800 m tower on ground 3,500 m up, and a height attribute of 1e9 (a
# column in millimetres, a sentinel). The option 'height' stops at 10,000 m, but the
# attribute was taken as it came: a building a million kilometres tall, whose float32
# positions left its tile's region (12 of 192 vertices; validate-tileset.mjs failed),
# without a word. Now a height beyond 10,000 m is no height: the default, and a warning
# naming the building, the record, the value and the attribute.
python3 - <<'PY'
import json
sq = lambda x, y, s: [[[x, y], [x + s, y], [x + s, y + s], [x, y + s], [x, y]]]
hs = {"tower": 800, "mm": 1e9, "low": 12}
feats = [{"type": "Feature", "properties": {"id": k, "h": h}, "geometry": {"type": "Polygon", "coordinates": sq(85000 + 40 * i, 447000, 30)}}
         for i, (k, h) in enumerate(hs.items())]
json.dump({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
           "features": feats}, open("heights.geojson", "w"))
PY
NAME=heights
run_geo heights '{"pipeline": [{"type": "readers.footprints", "path": "heights.geojson", "id_field": "id"},
  {"type": "filters.extrude", "height_attribute": "h", "base_z": 3500}, {"type": "writers.3dtiles", "path": "out"}]}'
check "heights: the 1e9 m attribute is named in a warning" grep -qF \
  "filters.extrude: 1 buildings have a height above 10000 m (first: building mm, feature 1: 1e+09 m in attribute 'h'): they got the default 10.0 m instead" heights.log
hmax() { node -e 'const b = require("fs").readFileSync("heights.buildings", "utf8").trim().split("\n").map(JSON.parse).find((x) => x.id === process.argv[1]); console.log(b ? b.hMax.toFixed(2) : "none")' "$1"; }
check "heights: the 800 m tower stands 3500..4300 m ($(hmax tower))" test "$(hmax tower)" = "4300.00"
check "heights: the 1e9 one got the default 10 m ($(hmax mm))" test "$(hmax mm)" = "3510.00"

# --- Faces, not only corners, inside their tile's region. A region was the box of the
# vertices' lon/lat/height, but a flat face between them sags below the ellipsoid they
# stand on (a 2 km hall's floor: 0.2 m under its corners), and near a pole an edge passes
# closer to the pole than its ends, or a face holds the pole itself (the South Pole
# station, in EPSG:3031): its region stopped 11 m short of the pole and spanned 233 of
# the 360 degrees of longitude (validate-tileset.mjs: 6 of 48 vertices outside). Now the
# region grows by the sag of the longest edge and takes in the pole when a face may hold
# it. geo_buildings.mjs counts the faces with a point (centre, edge midpoints) outside.
footprints southpole.geojson urn:ogc:def:crs:EPSG::3031 "-10 -5 20 10" "100 100 10 10"
footprints hall.geojson urn:ogc:def:crs:EPSG::28992 "85000 447000 2000 2000" "87100 447000 30 30"
# Street lights by the pole too: an asset tile's region, made of the corners of its box
# of instances, missed 10 of 322 vertices there.
printf 'id,x,y,z,category\na1,0.5,0.5,0,street_light\na2,-3,2,0,box\na3,30,-40,0,street_light\n' > southpole.csv
ASSETS_southpole='{"type": "readers.assets", "path": "southpole.csv", "srs": "EPSG:3031", "z_field": "z"}, '
ASSETS_hall=''
for c in southpole hall; do
  a=ASSETS_$c
  run_geo "$c" "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"$c.geojson\", \"id_field\": \"id\"}, ${!a}{\"type\": \"filters.extrude\"}, $WRITER]}"
  check "$c: every face inside its tile's region ($(tail -1 "$c.buildings"))" grep -q '"facesOutside":0,' "$c.buildings"
done
check "southpole: the region reaches the pole, all longitudes" \
  node -e 'const r = require(process.argv[1] + "/tileset.json").root.boundingVolume.region;
    process.exit(r[1] === -Math.PI / 2 && r[0] === -Math.PI && r[2] === Math.PI ? 0 : 1)' "$PWD/southpole-out"

# --- Web Mercator (EPSG:3857) footprints: its "metres" are ground metres only at the
# equator (0.62 m in Delft), yet it was kept as the working CRS, so every option in metres
# (cell_size, buffers, tolerances, min_area) was 1.6 times too large there: a shed of
# 1.2 x 1.2 units (0.55 m2 on the ground) passed filters.clean's min_area of 1 m2. Now a
# Mercator source is reprojected to its UTM zone like lon/lat; the buildings are the same.
footprints webmerc.geojson urn:ogc:def:crs:EPSG::3857 "485041.14 6799036.12 20 10" "485071.14 6799036.12 1.2 1.2"
NAME=webmerc
run_geo webmerc "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"webmerc.geojson\", \"id_field\": \"id\"},
  {\"type\": \"filters.clean\"}, {\"type\": \"filters.extrude\"}, $WRITER]}"
check "webmerc: reprojected to UTM" grep -qF "webmerc.geojson: reprojecting footprints to the working CRS WGS 84 / UTM zone 31N" webmerc.log
check "webmerc: the 0.55 m2 shed is below min_area 1 m2" grep -qF "done: 2 features read, 1 buildings written, 1 skipped" webmerc.log
# (cs2cs EPSG:3857 EPSG:4326 of the centre 485051.14 6799041.12: 51.9940026 4.3572885)
check_landed "webmerc: 20 x 10 units are 12.34 x 6.15 m in Delft" b1 4.3572885 51.9940026 12.3406 6.1546 0 10

# --- A site grid (a local engineering CRS, LOCAL_CS / ENGCRS) has no link to the Earth:
# GDAL printed two raw "ERROR 6: Cannot find coordinate operations ... to `EPSG:32631'"
# (a UTM zone picked at lon 0) and the reader said only "cannot transform from the source
# CRS to the working CRS". Now one message says what the CRS is and what to do, for the
# footprints' source CRS and for an assets srs alike.
footprints site.geojson none "100 100 20 10"
ogr2ogr -f GPKG site.gpkg site.geojson -a_srs 'LOCAL_CS["site grid",LOCAL_DATUM["x",0],UNIT["metre",1],AXIS["X",EAST],AXIS["Y",NORTH]]' > /dev/null 2>&1
printf '%s\n' '{"pipeline": [{"type": "readers.footprints", "path": "site.gpkg"}, {"type": "filters.extrude"}, {"type": "writers.3dtiles", "path": "site-out"}]}' > site.json
timeout 60 "$CLI" run site.json > site.log 2>&1
check "site: exit 2 (got $?)" test $? -eq 2
check "site: says the CRS has no link to the Earth and what to do" grep -qF \
  "site.gpkg: the source's CRS 'site grid' is a local engineering CRS, with no link to the Earth: the features cannot be placed on the globe; set the stage's \"srs\" to the CRS the coordinates are really in" site.log
check "site: no raw GDAL error printed" test -z "$(grep '^ERROR' site.log)"
check "site: nothing written" test ! -e site-out -a ! -e site-out.partial
printf 'id,x,y\na1,10,10\n' > site.csv
printf '%s\n' '{"pipeline": [{"type": "readers.assets", "path": "site.csv", "srs": "LOCAL_CS[\"site\",LOCAL_DATUM[\"x\",0],UNIT[\"metre\",1],AXIS[\"X\",EAST],AXIS[\"Y\",NORTH]]"}]}' > site_assets.json
timeout 60 "$CLI" run site_assets.json > site_assets.log 2>&1
check "site_assets: exit 2 (got $?)" test $? -eq 2
check "site_assets: says the srs has no link to the Earth" grep -qF \
  "site.csv: the srs 'site' is a local engineering CRS, with no link to the Earth" site_assets.log

finish
