# A researcher's own stage (README, "Adding a stage"): tools/examples/run_with_volume adds
# filters.volume to the pipelines it runs (ct_context_add_stage). On the Delft sample its
# area and volume reach every tile's metadata, equal to an area computed here from the
# GeoPackage and to that area x (roof_z - ground_z); the tiles pass both validators, at 1
# and 2 threads alike; `citytiler run` itself does not know the stage (exit 2, named).
. "$(dirname "$0")/common.bash"
need_validators
cd "$WORK" || exit 1
RUN="$CT_BINARY_DIR/tools/examples/run_with_volume"
D="$SRC/data-samples/delft"
cat > p.json <<JSON
{"pipeline": [
  {"type": "readers.footprints", "path": "$D/bgt_pand.gpkg", "id_field": "gml_id"},
  {"type": "readers.lidar", "path": "$D/delft_ahn3_every4th_epsg28992.las"},
  {"type": "filters.heights"},
  {"type": "filters.volume"},
  {"type": "filters.extrude"},
  {"type": "writers.3dtiles", "path": "out1", "max_buildings_per_tile": 40}]}
JSON
"$RUN" p.json > run1.log 2>&1
rc=$?
check "run_with_volume: exit 0 (got $rc)" test "$rc" -eq 0
check "the stage says what it did" grep -q "filters.volume: 160 buildings, 0 without both heights (no volume)" run1.log
"$RUN" p.json --threads 2 --set writers.3dtiles.path=out2 > run2.log 2>&1
check "2 threads: exit 0" test $? -eq 0
check "1 and 2 threads: the same tiles" diff -r out1 out2 -x run-summary.json
"$RUN" p.json --set filters.volume.volume_attribute=m3 --set writers.3dtiles.path=out3 > run3.log 2>&1
check "its option by --set: exit 0" test $? -eq 0
check "its option by --set: the column named so" grep -aq '"m3"' out3/tiles/0_0_0.glb
"$CLI" run p.json > cli.log 2>&1
rc=$?
check "citytiler run: exit 2 (got $rc)" test "$rc" -eq 2
check "citytiler run: names the unknown stage" grep -q "unknown stage type 'filters.volume'" cli.log

ogr2ogr -f GeoJSON fp.geojson "$D/bgt_pand.gpkg" > /dev/null 2>&1
python3 - "$SRC/tests/e2e" > check.txt <<'PY'
import json, sys
sys.dont_write_bytecode = True  # (no __pycache__ in the source tree)
sys.path.insert(0, sys.argv[1])
from glb_rows import rows as read_rows
def ring_area(r):  # (about the first vertex: products of coordinates near 447,000 lose 1e-5 m²)
    x0, y0 = r[0][0], r[0][1]
    q = [(p[0] - x0, p[1] - y0) for p in r]
    return 0.5 * sum(q[i][0] * q[i + 1][1] - q[i + 1][0] * q[i][1] for i in range(len(q) - 1))
def area(g):
    polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
    return sum(abs(ring_area(p[0])) - sum(abs(ring_area(h)) for h in p[1:]) for p in polys)
truth = {f["properties"]["gml_id"]: area(f["geometry"]) for f in json.load(open("fp.geojson"))["features"]}
rows = read_rows("out1/tiles/*.glb")
bad_area = bad_volume = 0
for i, r in rows.items():
    a, v = r.get("footprint_area"), r.get("volume")
    if a is None or abs(a - truth[i]) > 1e-6 * max(1.0, truth[i]):
        bad_area += 1
    # roof_z and ground_z are written to the millimetre
    if v is None or abs(v - a * (r["roof_z"] - r["ground_z"])) > a * 0.0011 + 1e-6:
        bad_volume += 1
print("buildings", len(rows), "of", len(truth))
print("bad_area", bad_area)
print("bad_volume", bad_volume)
PY
cat check.txt
check "every building in the tiles" grep -qx "buildings 160 of 160" check.txt
check "footprint_area: the GeoPackage's area, every building" grep -qx "bad_area 0" check.txt
check "volume: area x (roof_z - ground_z), every building" grep -qx "bad_volume 0" check.txt
node "$SRC/tools/validate/validate-glb.mjs" out1 > glb.log 2>&1
check "every GLB passes the glTF validator" test $? -eq 0
node "$SRC/tools/validate/validate-tileset.mjs" out1 > tileset.log 2>&1
check "tileset.json passes the 3D Tiles schema" test $? -eq 0
finish
