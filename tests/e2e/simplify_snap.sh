# filters.simplify's snap_tolerance (QA: on synthcity seed 2, tolerance 0 with snap 1.5,
# 3 and 10 m made 81, 568 and 62,383 m2 of roofs overlap, exit 0, no word). A
# snap_tolerance above tolerance is refused before anything runs (it would move walls
# beyond tolerance); at tolerance = snap_tolerance = 3 m, the footprints snapping would
# make overlap keep their input, counted and logged with the neighbour.
. "$(dirname "$0")/common.bash"
cd "$WORK" || exit 1
. "$(dirname "$0")/inputs.bash"
SYNTH=$CT_BINARY_DIR/tools/synthcity/synthcity
"$SYNTH" --buildings 1000 --seed 2 --density 0.1 --out city > city.log 2>&1
check "synthcity 1000 buildings, seed 2" test $? -eq 0 -a -s city/footprints.gpkg
# pipe TOLERANCE SNAP: the city's footprints, cleaned, simplified, extruded.
pipe() {
  echo "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"city/footprints.gpkg\", \"id_field\": \"id\"},
  {\"type\": \"filters.clean\"}, {\"type\": \"filters.simplify\", \"tolerance\": $1, \"snap_tolerance\": $2}, $E, $W]}"
}
run_case snap_above_tolerance 2 "$(pipe 0 1.5)"
check "snap_above_tolerance: says which and why" has snap_above_tolerance.log \
  "stage 2 (filters.simplify): option 'snap_tolerance' (1.5 m) is larger than 'tolerance' (0 m): inserting a neighbour's vertex moves a wall by up to snap_tolerance, and no boundary point may move more than tolerance (snap_tolerance may be at most 0.001 m here)"
rm -rf set_snap-out
timeout 60 "$CLI" run snap_above_tolerance.json --set filters.simplify.tolerance=0.5 \
  --set filters.simplify.snap_tolerance=0.6 --set writers.3dtiles.path=set_snap-out > set_snap.log 2>&1
rc=$?
check "set_snap: 0.6 m over 0.5 m given with --set: exit 2 (got $rc)" test "$rc" -eq 2 -a -n \
  "$(grep -F "(snap_tolerance may be at most 0.5 m here)" set_snap.log)"
run_case default_snap_tolerance_0 0 "$(pipe 0 0.001)"
check "default_snap_tolerance_0: nothing kept unsimplified" test -z "$(grep -F 'kept unsimplified' default_snap_tolerance_0.log)"
run_case snap_3 0 "$(pipe 3 3)"
kept=$(sed -n 's/.*changed \([0-9]*\): simplify: kept unsimplified (would overlap a neighbour)$/\1/p' snap_3.log)
check "snap_3: footprints kept unsimplified as they would overlap a neighbour (got '${kept:-none}')" \
  test "${kept:-0}" -gt 50
check "snap_3: the log gives the overlap and the neighbour" test -n \
  "$(grep -E 'filters.simplify: building b[0-9]+ \(feature [0-9]+\): kept unsimplified: would overlap a neighbour: [0-9.]+ m2 in common, 0.000 m2 before \(building b[0-9]+\)' snap_3.log)"
check "snap_3: the run summary counts them" test -n \
  "$(grep -F '"simplify: kept unsimplified (would overlap a neighbour)"' snap_3-out/run-summary.json)"
finish
