# Assets beyond the footprints (street lights along a road out of town) and readers.lidar's
# crop: read before the LiDAR, they widen the area it keeps, so every asset stands on the
# LiDAR ground; read after it, the pipeline is warned about when it loads, and each asset
# beyond the crop is said to be outside the area kept (QA: 205 of 513 assets were flagged
# "outside the LiDAR coverage" over a complete ground grid).
. "$(dirname "$0")/common.bash"
cd "$WORK" || exit 1
. "$(dirname "$0")/inputs.bash"
mklas ground.las 40000 85000 447000 2 # a 200 x 200 m ground grid, 1 point a m²
fp fp.geojson "85090 447090 20"
python3 - <<'PY'
import json
feats = [{"type": "Feature", "properties": {"id": "A%d" % i, "category": "street_light"},
          "geometry": {"type": "Point", "coordinates": [85005.5 + 47 * (i % 5), 447005.5 + 47 * (i // 5)]}}
         for i in range(25)]
json.dump({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
           "features": feats}, open("assets.geojson", "w"))
PY
check "inputs generated" test -s ground.las -a -s fp.geojson -a -s assets.geojson
A='{"type": "readers.assets", "path": "assets.geojson"}'
C='{"type": "filters.clamp"}'
run_case first 0 "{\"pipeline\": [$FP, $A, $(lidar '"ground.las"'), $H, $C, $E, $W]}"
check "assets first: all 25 on the LiDAR ground" has first.log "filters.clamp: 25 assets: 25 on the LiDAR ground"
check "assets first: no load warning" test -z "$(grep -F 'comes after stage' first.log)"
# (the assets' "id" field is their id: not repeated beside it as an attribute "id_2")
check "assets first: asset tiles written" test -n "$(find first-out -name '*.glb' -path '*assets*')"
check "assets first: no id_2 attribute in the asset tiles" test -z "$(find first-out -name '*.glb' -path '*assets*' -exec grep -l '"id_2"' {} +)"
run_case after 0 "{\"pipeline\": [$FP, $(lidar '"ground.las"'), $A, $H, $C, $E, $W]}"
check "assets after: warned when the pipeline loads" has after.log \
  "stage 2 (readers.assets) comes after stage 1 (readers.lidar), which keeps only the points near what was read before it (crop)"
check "assets after: the far ones are said to lie outside the area kept, not outside the LiDAR" \
  has after.log "asset A0 (feature 0): outside the area readers.lidar kept"
check "assets after: none said to be outside the LiDAR coverage" test -z "$(grep -F 'outside the LiDAR coverage' after.log)"
run_case nocrop 0 "{\"pipeline\": [$FP, {\"type\": \"readers.lidar\", \"path\": \"ground.las\", \"srs\": \"EPSG:28992\", \"crop\": false}, $A, $H, $C, $E, $W]}"
check "crop false: all 25 on the LiDAR ground, no warning" has nocrop.log "filters.clamp: 25 assets: 25 on the LiDAR ground"
check "crop false: no load warning" test -z "$(grep -F 'comes after stage' nocrop.log)"
finish
