# The writer's per-category symbol options ("symbols": {"tree": {"builtin": "sphere",
# "scale": 4, "color": [...]}, ...}): values of the wrong type or out of range, and
# choices that exclude each other, are refused before anything runs, naming the category
# and the key; they were taken without a word before: "color": [r, g, b] made the
# category's material fully transparent (alpha 0, every asset invisible), "scale": "2"
# and "scale": 0 became 1, "heading": "north" 0, a model beside a builtin won, and a
# height beside a scale replaced it.
. "$(dirname "$0")/common.bash"
cd "$WORK" || exit 1
. "$(dirname "$0")/inputs.bash"
fp fp.geojson "85005 447005 10" "85030 447005 12"
cat > assets.geojson <<'JSON'
{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
 "features": [
  {"type": "Feature", "properties": {"id": "a1", "category": "tree", "z": 1}, "geometry": {"type": "Point", "coordinates": [85020, 447010]}},
  {"type": "Feature", "properties": {"id": "a2", "category": "bench", "z": 1}, "geometry": {"type": "Point", "coordinates": [85025, 447030]}}]}
JSON
AS='{"type": "readers.assets", "path": "assets.geojson", "z_field": "z"}'
# sym NAME WANT_RC SYMBOLS_JSON: footprints, assets, extrude, writer with those symbols.
sym() { run_case "$1" "$2" "{\"pipeline\": [$FP, $AS, $E, {\"type\": \"writers.3dtiles\", \"path\": \"out\", \"symbols\": $3}]}"; }
# The material of the asset GLB's symbol for the tree: its baseColorFactor and alphaMode.
tree_material() {
  node -e 'const fs = require("fs"), path = require("path");
    const dir = path.join(process.argv[1], "assets"), f = fs.readdirSync(dir).filter((n) => n.endsWith(".glb"));
    for (const n of f) {
      const b = fs.readFileSync(path.join(dir, n)), len = b.readUInt32LE(12), j = JSON.parse(b.subarray(20, 20 + len));
      for (const m of j.materials || []) console.log(m.pbrMetallicRoughness.baseColorFactor.map((v) => v.toFixed(2)).join(","), m.alphaMode || "OPAQUE");
    }' "$1"
}

sym rgb 0 '{"tree": {"builtin": "sphere", "color": [0.2, 0.55, 0.2]}}'
check "rgb: a colour of three components is opaque (alpha 1)" test "$(tree_material rgb-out | sort -u | grep -c '^0.20,0.55,0.20,1.00 OPAQUE$')" -eq 1
check "rgb: no transparent material" test -z "$(tree_material rgb-out | grep BLEND)"
sym rgba 0 '{"tree": {"builtin": "sphere", "color": [0.2, 0.55, 0.2, 0.5]}}'
check "rgba: a given alpha stays (blended)" test "$(tree_material rgba-out | grep -c '^0.20,0.55,0.20,0.50 BLEND$')" -ge 1

sym scale_text 2 '{"tree": {"builtin": "sphere", "scale": "2"}}'
check "scale_text: says the scale must be a number" has scale_text.log "symbols.tree.scale must be a number above 0"
sym scale_zero 2 '{"tree": {"builtin": "sphere", "scale": 0}}'
check "scale_zero: refused" has scale_zero.log "symbols.tree.scale must be a number above 0"
sym heading_text 2 '{"tree": {"builtin": "sphere", "heading": "north"}}'
check "heading_text: says the heading must be a number" has heading_text.log "symbols.tree.heading must be a number"
sym height_negative 2 '{"bench": {"builtin": "box", "height": -3}}'
check "height_negative: names the key the user wrote (height)" has height_negative.log "symbols.bench.height must be a number above 0"
sym color_five 2 '{"tree": {"builtin": "sphere", "color": [1, 0, 0, 1, 1]}}'
check "color_five: says what a colour is" has color_five.log "symbols.tree.color must be [r, g, b] or [r, g, b, a]"
sym color_text 2 '{"tree": {"builtin": "sphere", "color": "green"}}'
check "color_text: refused" has color_text.log "symbols.tree.color must be [r, g, b] or [r, g, b, a]"
sym model_and_builtin 2 "{\"tree\": {\"builtin\": \"sphere\", \"model\": \"$SRC/tests/data/models/streetlight.ply\"}}"
check "model_and_builtin: asks for one" has model_and_builtin.log "symbols.tree has both a model and a builtin: give one"
sym height_and_scale 2 '{"tree": {"builtin": "sphere", "height": 3, "scale": 2}}'
check "height_and_scale: asks for one" has height_and_scale.log "symbols.tree has both a scale and a height"
sym origin_number 2 '{"tree": {"builtin": "sphere", "origin": 5}}'
check "origin_number: says it must be text" has origin_number.log "symbols.tree.origin must be a string"
# A model 375 km from its own origin, placed by that origin: every instance landed 375 km
# from its asset without a word (a model of 1e30 m stretched the tileset over a
# hemisphere). Refused, naming the model and its reach; by its base centre it is fine.
printf 'v 375000 -375000 0\nv 375001 -375000 0\nv 375000 -374999 0\nv 375000 -375000 2\nf 1 2 3\nf 1 2 4\nf 1 3 4\nf 2 3 4\n' > far.obj
sym far_model 2 '{"tree": {"model": "far.obj", "origin": "model"}}'
check "far_model: names the model and how far it reaches" has far_model.log \
  "far.obj: the model reaches 3.75e+05 m from the point it is placed at"
sym far_centre 0 '{"tree": {"model": "far.obj"}}'
# A glTF whose buffer is shorter than it says: Assimp's own message, exit 2 (under
# LeakSanitizer the IOStream Assimp leaks on that path made it exit 1: tests/lsan.supp).
python3 - <<'PY'
import json, struct
open("tri.bin", "wb").write(struct.pack("<9f", 0, 0, 0, 1, 0, 0, 0, 0, 1))
for name, length in (("tri.gltf", 36), ("tri_bad.gltf", 10**12)):
    json.dump({"asset": {"version": "2.0"}, "buffers": [{"uri": "tri.bin", "byteLength": length}],
               "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": 36}],
               "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3", "min": [0, 0, 0], "max": [1, 0, 1]}],
               "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}], "nodes": [{"mesh": 0}],
               "scenes": [{"nodes": [0]}], "scene": 0}, open(name, "w"))
PY
sym gltf_ok 0 '{"tree": {"model": "tri.gltf"}}'
sym gltf_bad_length 2 '{"tree": {"model": "tri_bad.gltf"}}'
check "gltf_bad_length: Assimp's message, naming the model" has gltf_bad_length.log \
  "tri_bad.gltf: cannot load model: GLTF: Invalid byteLength exceeds size of actual data."
# A 178-byte binary PLY whose header declares 4e9 vertices (and holds no data): Assimp
# allocated until the kernel killed the run (24 GB after 46 s; 1e8 vertices took 1.2 GB
# before "File corrupted"). The header is now checked against the file's size first,
# whatever the file's name: refused at once, naming the model, the element and the sizes.
printf 'ply\nformat binary_little_endian 1.0\nelement vertex 4000000000\nproperty float x\nproperty float y\nproperty float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n' > huge.ply
cp huge.ply huge.model
check "huge_ply: the model is the 178-byte file" test "$(wc -c < huge.ply)" -eq 178
t0=$(date +%s%N)
sym huge_ply 2 '{"tree": {"model": "huge.ply"}}'
t1=$(date +%s%N)
check "huge_ply: refused quickly ($(( (t1 - t0) / 1000000 )) ms)" test $(( (t1 - t0) / 1000000 )) -lt 10000
check "huge_ply: names the model, the element and the sizes" has huge_ply.log \
  "huge.ply: damaged PLY model: its header declares 4000000000 vertex elements (at least 48000000000 bytes) but 0 bytes follow the header"
sym huge_ply_named 2 '{"tree": {"model": "huge.model"}}'
check "huge_ply_named: a PLY by its content is checked too" has huge_ply_named.log \
  "huge.model: damaged PLY model: its header declares 4000000000 vertex elements"
sym ply_ok 0 "{\"tree\": {\"model\": \"$SRC/tests/data/models/streetlight.ply\"}}"
finish
