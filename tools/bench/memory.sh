#!/usr/bin/env bash
# Peak memory of a whole run (footprints + LiDAR -> heights -> extrusion -> tiles) on the
# enlarged inputs that bench_lidar makes (25x the sample by default), with the points in
# memory and with a small memory_limit that sends them to disk (one cell at a time).
#   tools/bench/memory.sh [BUILD_DIR] [WORK_DIR]
set -euo pipefail
build=${1:-build-rel}
work=${2:-/tmp/citytiler-bench}
cd "$(dirname "$0")/../.."
"$build/tools/bench/bench_lidar" --work "$work" --rounds 1 > "$work.bench.txt"
grep -E "^input|^footprints" "$work.bench.txt"
las=$(ls "$work"/tiled_*.las | head -1)
gpkg=$(ls "$work"/tiled_*.gpkg | head -1)
for limit in 2048 16; do
  cat > "$work/memory-$limit.json" <<JSON
{"pipeline": [
  {"type": "readers.footprints", "path": "$gpkg"},
  {"type": "readers.lidar", "path": "$las", "memory_limit": $limit},
  {"type": "filters.heights"},
  {"type": "filters.extrude"},
  {"type": "writers.3dtiles", "path": "$work/memory-$limit-out"}]}
JSON
  /usr/bin/time -v "$build/citytiler" run "$work/memory-$limit.json" --threads 2 2> "$work/memory-$limit.log" > /dev/null
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/memory-$limit.log")
  secs=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/memory-$limit.log")
  echo "memory_limit ${limit} MiB: peak RSS $((rss / 1024)) MiB, wall $secs, $(grep -o '[0-9]* kept in [0-9]* cells' "$work/memory-$limit.log")"
done
echo "LAS file: $(du -m "$las" | cut -f1) MB"
