# Attribute values that GDAL gives in its display form reach the tile metadata in forms
# their consumers parse: dates and times as ISO 8601 (GDAL writes 2024/02/29 13:45:30.123+01),
# lists as JSON arrays (GDAL writes (2:a,b,c), the same for ["a,b","c"] and ["a","b,c"]);
# NaN and infinities are no data, counted in the run's changes (they were silent). Every
# tile declares each property alike (one INT64 value made that tile's column INT64 and
# the others' INT32, under one schema id).
. "$(dirname "$0")/common.bash"
need_validators
cd "$WORK" || exit 1
python3 - <<'PY'
import json
def square(x0, y0):
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x0 + 10, y0], [x0 + 10, y0 + 10], [x0, y0 + 10], [x0, y0]]]}
props = [
    {"id": "a", "when": "2024-02-29T13:45:30.123+01:00", "day": "2024-02-29", "tags": ["a,b", "c"], "nums": [1, 2, 3], "r": 1.5,
     "big": 3000000000, "s": "x"},
    {"id": "b", "when": "1970-01-01T00:00:00Z", "day": "1999-12-31", "tags": ["a", "b,c"], "nums": [], "r": "NaN",
     "big": 7, "s": None},
    {"id": "c", "when": "2000-01-01T12:00:00.5-05:30", "day": "2000-01-01", "tags": [], "nums": [-7], "r": "Infinity",
     "big": None, "s": ""},
]
feats = [{"type": "Feature", "properties": p, "geometry": square(85000 + 20 * i, 447000)} for i, p in enumerate(props)]
text = json.dumps({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
                   "features": feats})
# NaN and Infinity as GeoJSON readers take them (bare words, as GDAL and JavaScript write them)
text = text.replace('"r": "NaN"', '"r": NaN').replace('"r": "Infinity"', '"r": Infinity')
open("fp.geojson", "w").write(text)
PY
cat > p.json <<JSON
{"pipeline": [{"type": "readers.footprints", "path": "fp.geojson", "id_field": "id"},
  {"type": "filters.extrude", "height": 10},
  {"type": "writers.3dtiles", "path": "out", "max_buildings_per_tile": 1, "lod": false}]}
JSON
"$CLI" run p.json > run.log 2>&1
check "run: exit 0" test $? -eq 0
check "NaN and Infinity: counted as written as no data" grep -q "changed 2: attribute NaN or infinite: written as no data" run.log
python3 - "$SRC/tests/e2e" > values.txt <<'PY'
import sys
sys.dont_write_bytecode = True  # (no __pycache__ in the source tree)
sys.path.insert(0, sys.argv[1])
from glb_rows import rows as read_rows
rows = read_rows("out/tiles/*.glb")
for i in sorted(rows):
    r = rows[i]
    print(i, r.get("when"), r.get("day"), r.get("tags"), r.get("nums"), r.get("r"))
PY
cat values.txt
check "building a: ISO date-time with ms and offset, date, JSON lists, 1.5" \
  grep -qxF 'a 2024-02-29T13:45:30.123+01:00 2024-02-29 ["a,b","c"] [1,2,3] 1.5' values.txt
check "building b: UTC as Z, another list than a's, an empty list, NaN as no data" \
  grep -qxF 'b 1970-01-01T00:00:00Z 1999-12-31 ["a","b,c"] [] None' values.txt
check "building c: half a second, a negative offset, Infinity as no data" \
  grep -qxF 'c 2000-01-01T12:00:00.500-05:30 2000-01-01 [] [-7] None' values.txt
python3 - <<'PY' > schemas.txt
import glob, json, struct
for path in sorted(glob.glob("out/tiles/*.glb")):
    b = open(path, "rb").read()
    j = json.loads(b[20:20 + struct.unpack_from("<I", b, 12)[0]])
    print(json.dumps(j["extensions"]["EXT_structural_metadata"]["schema"], sort_keys=True))
PY
check "one building a tile: 3 tiles" test "$(wc -l < schemas.txt)" -eq 3
check "every tile's schema the same" test "$(sort -u schemas.txt | wc -l)" -eq 1
check "big: INT64 in every tile, with its noData" python3 -c '
import json, sys
p = json.loads(open("schemas.txt").readline())["classes"]["building"]["properties"]["big"]
sys.exit(not (p["componentType"] == "INT64" and "noData" in p))'
node "$SRC/tools/validate/validate-glb.mjs" out > glb.log 2>&1
check "every GLB passes the glTF validator" test $? -eq 0
finish
