# Helpers of the e2e input cases (sourced after common.bash, in $WORK): tiny LAS and
# GeoJSON inputs, stage snippets and run_case.
# mklas OUT N X0 Y0 [CLASSES]: a LAS 1.2 point format 1 file, N points on a 1 m grid.
mklas() {
  python3 - "$@" <<'PY'
import struct, sys, math
out, n, x0, y0 = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
classes = [int(c) for c in (sys.argv[5] if len(sys.argv) > 5 else "2,6").split(",")]
side = max(1, math.isqrt(n)); s = 0.01; recs = bytearray(); xs = []; ys = []
for i in range(n):
    x = x0 + i % side; y = y0 + i // side; c = classes[i % len(classes)]
    xs.append(x); ys.append(y)
    recs += struct.pack('<iiiHBBbBHd', round(x / s), round(y / s), 1000 if c == 6 else 0, 0, 9, c, 0, 0, 0, 0.0)
h = bytearray(227); h[0:4] = b'LASF'; h[24] = 1; h[25] = 2
struct.pack_into('<HHHIIBHI', h, 90, 1, 2024, 227, 227, 0, 1, 28, n)
struct.pack_into('<ddd', h, 131, s, s, s)
struct.pack_into('<dddddd', h, 179, max(xs or [0]), min(xs or [0]), max(ys or [0]), min(ys or [0]), 10, 0)
open(out, 'wb').write(bytes(h) + bytes(recs))
PY
}
# fp OUT "x0 y0 side" ...: square footprints in EPSG:28992 (ids b1, b2, ...).
fp() {
  local out=$1; shift
  python3 - "$out" "$@" <<'PY'
import json, sys
feats = []
for i, a in enumerate(sys.argv[2:]):
    x, y, s = map(float, a.split())
    ring = [[x, y], [x + s, y], [x + s, y + s], [x, y + s], [x, y]]
    feats.append({"type": "Feature", "properties": {"id": "b%d" % (i + 1)}, "geometry": {"type": "Polygon", "coordinates": [ring]}})
json.dump({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
           "features": feats}, open(sys.argv[1], "w"))
PY
}

FP='{"type": "readers.footprints", "path": "fp.geojson"}'
H='{"type": "filters.heights"}'
E='{"type": "filters.extrude"}'
W='{"type": "writers.3dtiles", "path": "out"}'
lidar() { echo "{\"type\": \"readers.lidar\", \"path\": $1, \"srs\": \"EPSG:28992\"}"; }

# run_case NAME WANT_RC PIPELINE_JSON: runs it (60 s at most); checks the exit code,
# no sanitizer report, and for a failure no output directory nor PATH.partial.
run_case() {
  local name=$1 want=$2 json=$3
  printf '%s\n' "$json" > "$name.json"
  rm -rf "$name-out" "$name-out.partial"
  timeout 60 "$CLI" run "$name.json" --threads 2 --set "writers.3dtiles.path=$name-out" > "$name.log" 2>&1
  local rc=$?
  check "$name: exit code $want (got $rc)" test "$rc" -eq "$want"
  check "$name: no sanitizer report" test -z "$(grep -E 'Sanitizer|runtime error' "$name.log")"
  if [ "$want" -ne 0 ]; then
    check "$name: no output left behind" test ! -e "$name-out" -a ! -e "$name-out.partial"
  fi
}
has() { grep -qF -- "$2" "$1"; }
# run_as_is NAME: runs NAME.json as written (cases without a writer, or whose writer paths
# are the point), its log in NAME.log; rc becomes the exit code.
run_as_is() { timeout 60 "$CLI" run "$1.json" > "$1.log" 2>&1; rc=$?; }
# heights_of DIR: "ground_z roof_z bottom top" of the only building of the tileset DIR: its
# attributes (the first GLB's property table) and the root region's heights (WGS84
# ellipsoidal, metres).
heights_of() {
  python3 - "$1" <<'PY'
import glob, json, struct, sys
d = sys.argv[1]
r = json.load(open(d + "/tileset.json"))["root"]["boundingVolume"]["region"]
b = open(glob.glob(d + "/tiles/*.glb")[0], "rb").read()
jl = struct.unpack_from("<I", b, 12)[0]
j = json.loads(b[20:20 + jl]); binary = b[20 + jl + 8:]
props = j["extensions"]["EXT_structural_metadata"]["propertyTables"][0]["properties"]
def f64(name):
    v = j["bufferViews"][props[name]["values"]]
    return struct.unpack_from("<d", binary, v.get("byteOffset", 0))[0]
print("%.3f %.3f %.3f %.3f" % (f64("ground_z"), f64("roof_z"), r[4], r[5]))
PY
}
