# LiDAR covering only some of the footprints: the buildings outside it get a fallback
# height (default 10 m boxes beside measured ones). That was an info line only; now a
# warning says how many and names the first, and a fully covered run says nothing.
. "$(dirname "$0")/common.bash"
cd "$WORK" || exit 1
. "$(dirname "$0")/inputs.bash"
mklas part.las 400 85000 447000
fp cover.geojson "85005 447005 10" "85200 447200 10" "85300 447300 10"
fp inside.geojson "85005 447005 10"
check "inputs generated" test -s part.las -a -s cover.geojson -a -s inside.geojson
run_case partial 0 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"cover.geojson\", \"id_field\": \"id\"}, $(lidar '"part.las"'), $H, $E, $W]}"
check "partial: warns how many fell back and names the first" has partial.log \
  "filters.heights: 2 of 3 buildings have no LiDAR roof height and got a fallback height (first: building b2, feature 1; the \"flag\" attribute says why): does the LiDAR cover every footprint?"
run_case covered 0 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"inside.geojson\"}, $(lidar '"part.las"'), $H, $E, $W]}"
check "partial: warns that they stand on the others' ground" has partial.log \
  "filters.heights: 2 of 3 buildings have no ground points and stand on the median ground of the others (first: building b2, feature 1)"
check "covered: no such warning" test -z "$(grep -F 'fallback height (first' covered.log)"
finish
