#!/usr/bin/env bash
# The binary users run is not the one the test suite runs: a Release build (optimised, no
# sanitizers, the dataset left to the kernel at exit) must write the same bytes as the
# sanitized build on the sample pipeline and on a small synthetic city, with 1 and 2
# threads.   tools/release_check.sh SANITIZED_BUILD_DIR RELEASE_BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tested=$1 release=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
compare() { # NAME PIPELINE THREADS
  local name=$1 pipeline=$2 threads=$3
  "$tested/citytiler" run "$pipeline" --threads "$threads" --set "writers.3dtiles.path=$work/$name-tested" 2> "$work/$name-tested.log"
  "$release/citytiler" run "$pipeline" --threads "$threads" --set "writers.3dtiles.path=$work/$name-release" 2> "$work/$name-release.log"
  if diff -r -x run-summary.json "$work/$name-tested" "$work/$name-release" > "$work/$name.diff"; then
    echo "ok: release build, $name, $threads thread(s): the same bytes as the tested build"
  else
    echo "FAIL: release build, $name, $threads thread(s): output differs from the tested build:"
    head -5 "$work/$name.diff"
    fail=1
  fi
}
compare sample "$here/pipelines/sample.json" 2
"$release/tools/synthcity/synthcity" --buildings 300 --density 4 --seed 3 --out "$work/city" > /dev/null
cat > "$work/city.json" <<JSON
{"pipeline": [
  {"type": "readers.footprints", "path": "$work/city/footprints.gpkg", "id_field": "id"},
  {"type": "readers.lidar", "path": "$work/city/points.las", "memory_limit": 1},
  {"type": "filters.heights"},
  {"type": "filters.clean"},
  {"type": "filters.extrude"},
  {"type": "writers.3dtiles", "path": "$work/unused"}]}
JSON
compare city "$work/city.json" 1
compare city2 "$work/city.json" 2
exit $fail
