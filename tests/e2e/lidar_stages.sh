# Several readers.lidar stages and their CRSs (QA 5): their points are pooled, so their
# heights must be in one vertical CRS: two different ones are an error naming both, a
# stage without one beside a stage with one a warning (its heights are taken in the
# other's), and a vertical CRS recorded by a stage that kept no point a warning (the tiles
# take it). A stage that keeps no point says what that means given the others. Files of
# one stage without a CRS are counted, not only the first named. filters.clamp with LiDAR
# but no ground near any asset nor under any building: no median ground exists (assets were
# put at z 0 "on the median ground"): an error under no_ground "flag", skipped under "skip".
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/inputs.bash"
cd "$WORK" || exit 1
fp fp.geojson "85005 447005 10"
mklas a.las 400 85000 447000
mklas b.las 400 85000.5 447000.5  # (not a copy: a copy is read once)
stage() { echo "{\"type\": \"readers.lidar\", \"path\": \"$1\", \"srs\": \"$2\"${3:-}}"; }

run_case two_datums 2 "{\"pipeline\": [$FP, $(stage a.las EPSG:28992+5709), $(stage b.las EPSG:28992+5703), $H, $E, $W]}"
check "two_datums: names both vertical CRSs" has two_datums.log \
  "readers.lidar: this stage's LiDAR heights are in NAVD88 height, an earlier readers.lidar stage's in NAP height: a building's points would mix two vertical datums"
run_case same_datum 0 "{\"pipeline\": [$FP, $(stage a.las EPSG:28992+5709), $(stage b.las EPSG:7415), $H, $E, $W]}"
check "same_datum: EPSG:28992+5709 and EPSG:7415: no word of it" eval '! grep -q "readers.lidar: .*vertical" same_datum.log'
# (where PROJ has no NAP grid, as with Debian's proj-data, the geoid warning names the datum)
check "same_datum: the geoid fallback names NAP height" eval \
  '! grep -q "PROJ has no grid for" same_datum.log || grep -q "PROJ has no grid for NAP height here" same_datum.log'
run_case one_without 0 "{\"pipeline\": [$FP, $(stage a.las EPSG:28992+5709), $(stage b.las EPSG:28992), $H, $E, $W]}"
check "one_without: warned, the datum taken named" has one_without.log \
  "readers.lidar: this stage's LiDAR has no vertical CRS: its heights are taken to be in NAP height, as an earlier readers.lidar stage's"
run_case first_without 0 "{\"pipeline\": [$FP, $(stage a.las EPSG:28992), $(stage b.las EPSG:28992+5709), $H, $E, $W]}"
check "first_without: warned the other way round" has first_without.log \
  "readers.lidar: an earlier readers.lidar stage's LiDAR has no vertical CRS: its heights are taken to be in NAP height, as this stage's"
run_case empty_first 0 "{\"pipeline\": [$FP, $(stage a.las EPSG:28992+5701 ', "classes": [9]'), $(stage b.las EPSG:28992+5709), $H, $E, $W]}"
check "empty_first: its datum decides though it kept no point: said" has empty_first.log \
  "readers.lidar: this stage's LiDAR heights are in NAP height, but the tiles take ODN height from an earlier readers.lidar stage that kept no point"
check "empty_first: the empty stage does not promise fallback heights outright" has empty_first.log \
  "unless a later readers.lidar stage brings points, every building gets a fallback height"
run_case empty_second 0 "{\"pipeline\": [$FP, $(stage a.las EPSG:28992+5709), $(stage b.las EPSG:28992+5709 ', "classes": [9]'), $H, $E, $W]}"
check "empty_second: the earlier stage's points stay" has empty_second.log \
  "this stage adds no point (those of the readers.lidar stages before it are kept)"
check "empty_second: heights measured" has empty_second.log "1 buildings: 0 without enough roof points (fallback height), 0 without ground points"

# Files of one stage without a CRS: each counted.
cp "$SRC/data-samples/delft/delft_ahn3_every4th_epsg28992.las" crs.las
run_case nocrs_files 0 "{\"pipeline\": [$FP, {\"type\": \"readers.lidar\", \"path\": [\"crs.las\", \"a.las\", \"b.las\"]}, $H, $E, $W]}"
check "nocrs_files: both files without a CRS counted, the first named" has nocrs_files.log \
  "LAS source: 2 files have no CRS (first: $WORK/a.las): assuming the CRS of $WORK/crs.las for them"
run_case nocrs_file 0 "{\"pipeline\": [$FP, {\"type\": \"readers.lidar\", \"path\": [\"crs.las\", \"a.las\"]}, $H, $E, $W]}"
check "nocrs_file: one file named" has nocrs_file.log "LAS source: $WORK/a.las has no CRS: assuming the CRS of $WORK/crs.las"

# Assets with LiDAR that holds no ground near them, and no building: no median ground.
mklas far.las 400 90000 450000
printf 'id,x,y,z,category\nhigh,85010,447010,5,lamp\nlow,85012,447010,,lamp\n' > assets.csv
A='{"type": "readers.assets", "path": "assets.csv", "srs": "EPSG:28992", "z_field": "z"}'
run_case no_ground_flag 2 "{\"pipeline\": [$A, $(stage far.las EPSG:28992+5709), {\"type\": \"filters.clamp\"}, $W]}"
check "no_ground_flag: an error naming the asset and why" has no_ground_flag.log \
  "filters.clamp: 1 assets need the ground (no z of their own; first: asset low, row 3) but the LiDAR has no ground point near any of them nor under any building"
run_case no_ground_skip 0 "{\"pipeline\": [$A, $(stage far.las EPSG:28992+5709), {\"type\": \"filters.clamp\", \"no_ground\": \"skip\"}, $W]}"
check "no_ground_skip: skipped, said why" has no_ground_skip.log \
  "filters.clamp: 1 assets need the ground (no z of their own; first: asset low, row 3) and the LiDAR has no ground point near any of them nor under any building"
check "no_ground_skip: counted" has no_ground_skip.log "clamp: no z and no LiDAR ground in the area"
check "no_ground_skip: none 'on the median ground'" eval '! grep -q "placed on the median ground" no_ground_skip.log'
finish
