#!/usr/bin/env bash
# tools/bench/city: end to end on synthetic cities (tools/synthcity): buildings/s,
# points/s, peak RSS and per-stage seconds (wall/CPU of all threads), for 1 and 2 threads and mpirun -np 2.
#   tools/bench/city.sh [BUILD_DIR] [WORK_DIR] [SIZES...]      e.g. build-rel /tmp/ct-city 10000:10 100000:1
# A size is BUILDINGS:POINTS_PER_M2. Release build with CT_WITH_MPI=ON for the MPI line.
# CITY_MEMORY_LIMIT (MiB; unset: the stage's default, 512): readers.lidar memory_limit (points
# beyond it go to disk; loaded cells are cached up to it). CITY_MODES (default "1 2 mpi2"): runs to make
# (also part2: --partition 0/2, then 1/2, then merge, each with 2 threads, one line of the three;
# part2m: the same after --partition 0/2 and 1/2 --measure-only).
# Each run writes a new output directory (CITY/runs/MODE-N); all are removed when the script ends.
# Writing over the previous run's tileset instead measures ext4 more than citytiler: replacing
# it deletes its ~1,200 files (100k city), and for minutes after a mass deletion ext4 without a
# journal (this VM's disk; ialloc.c find_inode_bit checks recently deleted inodes only then) scans
# past the freed inodes (recently_deleted) whenever it creates a file, under the directory's
# lock, so back-to-back runs into one path slow the writer run after run (100k city, 2
# threads: tiles 1.3-2.1 s against 0.9-1.1 s into fresh directories). A nightly rebuild does
# not follow such a deletion by seconds. CITY_SAME_PATH=1 writes every run to CITY/tiles.
set -uo pipefail
build=${1:-build-rel}
work=${2:-/tmp/citytiler-bench-city}
shift 2 2> /dev/null || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000:10 10000:10 100000:1)
cd "$(dirname "$0")/../.."
mkdir -p "$work"
runs_made=() ratios_cat=()
trap 'rm -rf "${runs_made[@]}"' EXIT
printf '%-14s %-8s %8s %10s %12s %12s %9s  %s\n' city mode seconds points bldg/s Mpts/s RSS_MiB stages
for size in "${sizes[@]}"; do
  n=${size%%:*} d=${size##*:}
  city="$work/city-$n-$d"
  [ -s "$city/points.las" ] || "$build/tools/synthcity/synthcity" --buildings "$n" --density "$d" --seed 1 --out "$city" > /dev/null
  limit=${CITY_MEMORY_LIMIT:+, \"memory_limit\": $CITY_MEMORY_LIMIT}
  cat > "$city/pipeline.json" <<JSON
{"pipeline": [
  {"type": "readers.footprints", "path": "$city/footprints.gpkg", "id_field": "id"},
  {"type": "readers.lidar", "path": "$city/points.las"$limit},
  {"type": "filters.clean"},
  {"type": "filters.heights"},
  {"type": "filters.extrude"},
  {"type": "writers.3dtiles", "path": "$city/tiles"}]}
JSON
  points=$("$build/citytiler" info "$city/points.las" | sed -n 's/ *"point_count": \([0-9]*\).*/\1/p' | head -1)
  cat "$city/points.las" > /dev/null; t0=$(date +%s.%N); cat "$city/points.las" > /dev/null; t1=$(date +%s.%N)
  catsecs=$(echo "$t1 - $t0" | bc -l)
  last1='' ratios=()
  for mode in ${CITY_MODES:-1 2 mpi2}; do
    if [ "$mode" = part2 ] || [ "$mode" = part2m ]; then # partitions one after the other, then the merge
      out="$city/runs/$mode-$$-${#runs_made[@]}"
      runs_made+=("$out" "$out.partial")
      line=''
      steps=("run --partition 0/2" "run --partition 1/2" merge)
      [ "$mode" = part2m ] && steps=("run --partition 0/2 --measure-only" "run --partition 1/2 --measure-only" "${steps[@]}")
      for step in "${steps[@]}"; do
        # shellcheck disable=SC2086
        /usr/bin/time -v "$build/citytiler" $step "$city/pipeline.json" --threads 2 --set "writers.3dtiles.path=$out" \
          > /dev/null 2> "$city/log-part2.txt"
        secs=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$city/log-part2.txt" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
        rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$city/log-part2.txt")
        line+=$(printf '%s: %.2f s, %.0f MiB; ' "${step#run --}" "$secs" "$(echo "$rss / 1024" | bc -l)")
      done
      printf '%-14s %-8s %s\n' "$n@$d" "$mode" "$line"
      continue
    fi
    if [ "$mode" = mpi2 ]; then
      command -v mpirun > /dev/null || continue
      cmd=(mpirun -np 2 --allow-run-as-root --oversubscribe "$build/citytiler" run "$city/pipeline.json" --threads 1)
    else
      cmd=("$build/citytiler" run "$city/pipeline.json" --threads "$mode")
    fi
    out="$city/tiles"
    if [ -z "${CITY_SAME_PATH:-}" ]; then
      out="$city/runs/$mode-$$-${#runs_made[@]}"
      runs_made+=("$out")
    fi
    /usr/bin/time -v "${cmd[@]}" --set "writers.3dtiles.path=$out" > /dev/null 2> "$city/log-$mode.txt"
    secs=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$city/log-$mode.txt" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$city/log-$mode.txt")
    stages=$(node -e 'const s = require(process.argv[1]); console.log(s.stages.map((x) => x.type.split(".")[1] + "=" + x.seconds.toFixed(2) + "/" + x.cpu_seconds.toFixed(2)).join(" "))' "$out/run-summary.json" 2> /dev/null)
    printf '%-14s %-8s %8.2f %10s %12.0f %12.1f %9.0f  %s\n' "$n@$d" "$mode" "$secs" "$points" \
      "$(echo "$n / $secs" | bc -l)" "$(echo "$points / $secs / 1000000" | bc -l)" "$(echo "$rss / 1024" | bc -l)" "$stages"
    # A 2-thread run right after a 1-thread run makes an adjacent pair (CITY_MODES="1 2 1 2 ...").
    [ "$mode" = 1 ] && last1=$secs
    if [ "$mode" = 2 ]; then
      [ -n "$last1" ] && ratios+=("$(printf '%.2f' "$(echo "$last1 / $secs" | bc -l)")x")
      last1=''
      ratios_cat+=("$(printf '%.1f' "$(echo "$secs / $catsecs" | bc -l)")x")
    fi
  done
  printf '%-14s %-8s %8.2f  (cat of the %s-byte LAS, warm)\n' "$n@$d" cat "$catsecs" "$(stat -c %s "$city/points.las")"
  [ ${#ratios[@]} -gt 0 ] && printf '%-14s 2 threads against 1 (adjacent pairs): %s\n' "$n@$d" "${ratios[*]}"
  [ ${#ratios_cat[@]} -gt 0 ] && printf '%-14s 2 threads against cat: %s\n' "$n@$d" "${ratios_cat[*]}"
  ratios_cat=()
done
