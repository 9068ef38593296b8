# --partition K/N for independent processes (e.g. Slurm array jobs) and `citytiler merge`:
# three partitions then a merge give the same bytes as one process; a merge with a
# partition missing is refused, naming it.
. "$(dirname "$0")/common.bash"
out="$WORK/tiles"
run() { "$CLI" "$1" "$SRC/pipelines/sample.json" --set "writers.3dtiles.path=$2" \
          --set writers.3dtiles.max_buildings_per_tile=12 "${@:3}"; }

run run "$WORK/reference" > "$WORK/reference.log" 2>&1
check "one-process run" test $? -eq 0

for k in 0 1 2; do
  run run "$out" --partition "$k/3" > "$WORK/part$k.log" 2>&1
  check "partition $k/3 exits 0" test $? -eq 0
  check "partition $k/3 wrote no tileset at the output path" test ! -e "$out/tileset.json"
done
check "the partitions split the tiles" grep -q "partition 1/3: [0-9]* of [0-9]* tiles written" "$WORK/part1.log"
# Each partition's closing line gives its own share of the buildings (it said all 160).
shares=$(sed -n 's/.*done: [0-9]* features read, \([0-9]*\) buildings written.*/\1/p' "$WORK"/part[012].log)
check "the partitions' closing lines give their shares, which add up to the buildings" \
  test "$(echo "$shares" | wc -l)" -eq 3 -a "$(echo "$shares" | paste -sd+ | bc)" -eq 160 -a "$(echo "$shares" | sort -n | tail -1)" -lt 160
# Cells go to partitions largest first, each to the least loaded one: none is left
# idle (cells round robin gave partition 0 none of the sample's 4 cells' buildings).
check "every partition has buildings to write ($(echo $shares))" test "$(echo "$shares" | sort -n | head -1)" -gt 0
run merge "$out" > "$WORK/merge.log" 2>&1
check "merge exits 0" test $? -eq 0
diff -r -x run-summary.json "$WORK/reference" "$out" > "$WORK/diff.log" 2>&1
check "partitions + merge give byte-identical output" test $? -eq 0
# The partitions leave their heights for the merge, which reads no LiDAR point (it read
# and measured everything again: as long as a whole run, after every partition).
check "each partition left its share of the heights" \
  test "$(grep -l "filters.heights: partition: the heights of the 160 buildings left for the merge" "$WORK"/part[012].log | wc -l)" -eq 3
check "the merge reads no LiDAR" grep -q "readers.lidar: merge: the 1 LAS file(s) are not read" "$WORK/merge.log"
check "the merge takes the partitions' heights" \
  grep -q "filters.heights: merge: the heights of 160 buildings taken from the partitions' results" "$WORK/merge.log"
check "the merge's run summary says the LAS was not read" grep -q '"not_read": "the partitions' "$out/run-summary.json"
check "no partition's results left in the output" test -z "$(find "$out" -name 'results-*')"
# Each partition's own summary (memory, times, its share) is in the merge's run summary.
check "the merge's run summary has the 3 partitions' summaries, their shares adding up" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
p = s.get("partitions", [])
assert [e["partition"] for e in p] == ["0/3", "1/3", "2/3"], p
assert sum(e["outputs"]["tiles"]["buildings_written"] for e in p) == 160
assert all(e["peak_rss_bytes"] > 0 and e["cpu_seconds"] > 0 and e["wall_seconds"] > 0 for e in p)
assert all([t["type"] for t in e["stages"]][-1] == "writers.3dtiles" for e in p)
assert all("pipeline" not in e for e in p) and "pipeline" in s
assert sum(e["outputs"]["tiles"]["tiles"] for e in p) == s["outputs"]["tiles"]["tiles"]
' "$out/run-summary.json"
# A second merge: it said "no partition has run", then (exit 2) "already merged"; a
# finished output has nothing to merge: exit 0, a warning, the tileset untouched.
cp "$out/tileset.json" "$WORK/merged-tileset.json"
run merge "$out" > "$WORK/merge2.log" 2>&1
check "a second merge: exit 0" test $? -eq 0
check "a second merge: says there is nothing to merge" grep -q "nothing to merge: the tileset there is finished" "$WORK/merge2.log"
check "a second merge: the merged tileset stays as it was" cmp -s "$out/tileset.json" "$WORK/merged-tileset.json"
check "a second merge: no work directory left" test ! -e "$out.partial"
# A Slurm array of one (--partition 0/1 writes the whole tileset), then its merge job.
run run "$WORK/one" --partition 0/1 > /dev/null 2>&1
check "--partition 0/1: writes the tileset" test -s "$WORK/one/tileset.json"
run merge "$WORK/one" > "$WORK/merge-one.log" 2>&1
check "--partition 0/1 then merge: exit 0" test $? -eq 0
check "--partition 0/1 then merge: nothing to merge" grep -q "nothing to merge" "$WORK/merge-one.log"

# A merge with partition 2/3 missing: exit 2, names the missing tile's partition.
run run "$WORK/incomplete" --partition 0/3 > /dev/null 2>&1
run run "$WORK/incomplete" --partition 1/3 > /dev/null 2>&1
run merge "$WORK/incomplete" > "$WORK/incomplete.log" 2>&1
check "merge with a partition missing: exit 2" test $? -eq 2
check "merge with a partition missing: names it" grep -q "was not written by any partition: run partition 2/3 again" "$WORK/incomplete.log"
check "merge with a partition missing: no output" test ! -e "$WORK/incomplete/tileset.json"
# A merge before any partition ran: exit 2, says so, and leaves no work directory.
run merge "$WORK/none" > "$WORK/none.log" 2>&1
check "merge with no partition run: exit 2" test $? -eq 2
check "merge with no partition run: says so" grep -q "no partition has run" "$WORK/none.log"
check "merge with no partition run: nothing left behind" test ! -e "$WORK/none" -a ! -e "$WORK/none.partial"
check "merge with no partition run: said before any stage ran (it read the footprints first)" \
  test -z "$(grep -E 'stage 0|features read' "$WORK/none.log")"
# Options of `run` that merge took and ignored are refused.
for opt in --resume "--partition 0/2"; do
  # shellcheck disable=SC2086
  "$CLI" merge "$SRC/pipelines/sample.json" $opt --set "writers.3dtiles.path=$WORK/none" > "$WORK/merge-opt.log" 2>&1
  check "merge $opt: exit 2 (got $?)" test $? -eq 2
  check "merge $opt: says it is for run" grep -q "citytiler merge: ${opt%% *} is for \`citytiler run\`" "$WORK/merge-opt.log"
done
"$CLI" run "$SRC/pipelines/sample.json" --partition 3/3 > /dev/null 2>&1
check "--partition 3/3: exit 2" test $? -eq 2
# A partition run with other options than the first: refused, saying so (it said "run
# again without --resume", an option never given), and the first partition's work is kept.
run run "$WORK/mixed" --partition 0/2 > /dev/null 2>&1
run run "$WORK/mixed" --partition 1/2 --set writers.3dtiles.lod=false > "$WORK/mixed.log" 2>&1
check "a partition with other options: exit 2" test $? -eq 2
check "a partition with other options: says what to do" grep -q \
  "the partitions there were run with other inputs or options: every partition and the merge need the same pipeline and --set options; remove .*mixed.partial to start over" "$WORK/mixed.log"
check "a partition with other options: no mention of --resume" test -z "$(grep -F -- '--resume' "$WORK/mixed.log")"
# The output path spelt otherwise by one partition ("DIR/", or relative from another
# folder) is the same directory: it was "other inputs or options".
run run "$WORK/spelt/" --partition 1/2 > "$WORK/spelt1.log" 2>&1
check "partition 1/2 with a trailing slash: exit 0" test $? -eq 0
(cd "$WORK" && run run spelt --partition 0/2 > "$WORK/spelt0.log" 2>&1)
check "partition 0/2 with a relative path from another folder: exit 0" test $? -eq 0
run merge "$WORK/./spelt" > "$WORK/spelt-merge.log" 2>&1
check "the merge of those: exit 0" test $? -eq 0
diff -r -x run-summary.json "$WORK/reference" "$WORK/spelt" > /dev/null 2>&1
check "the merge of those: byte-identical to one process" test $? -eq 0
# The LAS changed since the partitions ran (touched): the merge reads it and measures again
# (same points: same bytes); a partition's results damaged: the merge says which to rerun.
las="$WORK/points.las"
cp "$SRC/data-samples/delft/delft_ahn3_every4th_epsg28992.las" "$las"
for k in 0 1; do run run "$WORK/touched" --partition "$k/2" --set "readers.lidar.path=$las" > /dev/null 2>&1; done
touch -d '2001-01-01' "$las"
run merge "$WORK/touched" --set "readers.lidar.path=$las" > "$WORK/touched.log" 2>&1
check "merge after the LAS changed: exit 0" test $? -eq 0
check "merge after the LAS changed: reads it" grep -q "readers.lidar: 212236 points read from 1 file" "$WORK/touched.log"
check "merge after the LAS changed: no partition heights taken" test -z "$(grep -F "taken from the partitions" "$WORK/touched.log")"
diff -r -x run-summary.json "$WORK/reference" "$WORK/touched" > /dev/null 2>&1
check "merge after the LAS changed: byte-identical to one process" test $? -eq 0
for k in 0 1; do run run "$WORK/damaged" --partition "$k/2" > /dev/null 2>&1; done
share="$WORK/damaged.partial/.resume/results-filters.heights-0-1-of-2.bin"
check "partition 1/2 left its heights" test -s "$share"
printf '\xff\xff\xff\xff' | dd of="$share" bs=1 seek=100 conv=notrunc 2> /dev/null
run merge "$WORK/damaged" > "$WORK/damaged.log" 2>&1
check "merge with damaged partition results: exit 2" test $? -eq 2
check "merge with damaged partition results: names the file and the partition to rerun" \
  grep -q "results-filters.heights-0-1-of-2.bin: partition 1/2's results are damaged (checksum): run partition 1/2 again" "$WORK/damaged.log"
check "merge with damaged partition results: no output" test ! -e "$WORK/damaged/tileset.json"

# With assets: filters.clamp's grounds are left for the merge too.
"$CLI" run "$SRC/pipelines/smart-city.json" --set "writers.3dtiles.path=$WORK/city-ref" > /dev/null 2>&1
check "smart-city, one process: exit 0" test $? -eq 0
for k in 0 1; do
  "$CLI" run "$SRC/pipelines/smart-city.json" --set "writers.3dtiles.path=$WORK/city" --partition "$k/2" > /dev/null 2>&1
  check "smart-city partition $k/2: exit 0" test $? -eq 0
done
"$CLI" merge "$SRC/pipelines/smart-city.json" --set "writers.3dtiles.path=$WORK/city" > "$WORK/city-merge.log" 2>&1
check "smart-city merge: exit 0" test $? -eq 0
check "smart-city merge: the assets' ground taken from the partitions" \
  grep -q "filters.clamp: merge: the ground of [0-9]* assets taken from the partitions' results" "$WORK/city-merge.log"
check "smart-city merge: reads no LiDAR" grep -q "readers.lidar: merge: the 2 LAS file(s) are not read" "$WORK/city-merge.log"
diff -r -x run-summary.json "$WORK/city-ref" "$WORK/city" > /dev/null 2>&1
check "smart-city partitions + merge: byte-identical to one process" test $? -eq 0
# A tileset of assets alone (no footprints): the partitions write no tile, the merge the assets.
"$CLI" run "$SRC/pipelines/assets-only.json" --set "writers.3dtiles.path=$WORK/assets-ref" > /dev/null 2>&1
check "assets-only, one process: exit 0" test $? -eq 0
for k in 0 1; do
  "$CLI" run "$SRC/pipelines/assets-only.json" --set "writers.3dtiles.path=$WORK/assets" --partition "$k/2" > "$WORK/assets$k.log" 2>&1
  check "assets-only partition $k/2: exit 0" test $? -eq 0
  check "assets-only partition $k/2: says the merge writes the assets" grep -q "the merge, or rank 0 under mpirun) writes the assets" "$WORK/assets$k.log"
done
"$CLI" merge "$SRC/pipelines/assets-only.json" --set "writers.3dtiles.path=$WORK/assets" > /dev/null 2>&1
check "assets-only merge: exit 0" test $? -eq 0
diff -r -x run-summary.json "$WORK/assets-ref" "$WORK/assets" > /dev/null 2>&1
check "assets-only partitions + merge: byte-identical to one process (and written: $(ls "$WORK/assets/assets" 2> /dev/null | wc -l) GLBs)" test $? -eq 0 -a -s "$WORK/assets/tileset.json"
# --measure-only: each partition reads only the LiDAR of its band of the city and measures
# its buildings; then each partition takes every partition's measurements (no LiDAR read)
# and writes its tiles; then the merge. The same bytes as one process.
measured=0
for k in 0 1 2; do
  run run "$WORK/banded" --partition "$k/3" --measure-only > "$WORK/measure$k.log" 2>&1
  check "measure-only $k/3: exit 0" test $? -eq 0
  check "measure-only $k/3: keeps its band's points (or none)" \
    grep -Eq "readers.lidar: partition $k/3 keeps (the points of its band|no points)" "$WORK/measure$k.log"
  check "measure-only $k/3: stops after measuring, saying what comes next" \
    grep -q -- "--measure-only: partition $k/3 measured its band of the city and stops before stage 4 (filters.extrude)" \
    "$WORK/measure$k.log"
  m=$(sed -n "s/.*filters.heights: partition $k\/3 measured the \([0-9]*\) buildings of its band.*/\1/p" "$WORK/measure$k.log")
  measured=$((measured + ${m:-0}))
done
check "measure-only: the bands' buildings add up to the 160 ($measured)" test "$measured" -eq 160
check "measure-only: one partition measured fewer than all" \
  grep -Eq "filters.heights: partition [0-2]/3 measured the ([1-9]|[1-9][0-9]|1[0-5][0-9]) buildings of its band" "$WORK"/measure[012].log
# (partition 2/3's band holds no footprint: it said no point lay near the footprints, and
# gave a y range ending at -50)
check "measure-only: no partition warns that no point lies near the footprints" \
  test -z "$(grep -l 'none of the' "$WORK"/measure[012].log)"
check "measure-only: no tiles yet" test -z "$(find "$WORK/banded.partial" -name '*.glb')" -a ! -e "$WORK/banded"
check "measure-only: the closing line says nothing was written" grep -q "measured only (--measure-only): no tile written" "$WORK/measure0.log"
# A merge right after the measuring: exit 2, naming a partition still to run (and it
# spoils nothing: the bytes below are still one process's).
run merge "$WORK/banded" > "$WORK/banded-early-merge.log" 2>&1
check "merge after --measure-only alone: exit 2" test $? -eq 2
check "merge after --measure-only alone: says which partition to run, without --measure-only" grep -q \
  "was not written by any partition: run partition [0-2]/3 again (\`citytiler run --partition [0-2]/3\`, without --measure-only)" \
  "$WORK/banded-early-merge.log"
for k in 0 1 2; do
  run run "$WORK/banded" --partition "$k/3" > "$WORK/banded$k.log" 2>&1
  check "after measure-only, partition $k/3: exit 0" test $? -eq 0
  check "after measure-only, partition $k/3: reads no LiDAR" \
    grep -q "readers.lidar: partition: the 1 LAS file(s) are not read" "$WORK/banded$k.log"
  check "after measure-only, partition $k/3: takes the heights" \
    grep -q "filters.heights: partition: the heights of 160 buildings taken from the partitions' results" "$WORK/banded$k.log"
done
run merge "$WORK/banded" > "$WORK/banded-merge.log" 2>&1
check "after measure-only, merge: exit 0" test $? -eq 0
diff -r -x run-summary.json "$WORK/reference" "$WORK/banded" > /dev/null 2>&1
check "measure-only, partitions, merge: byte-identical to one process" test $? -eq 0
# A partition run before every partition measured: it reads the LiDAR itself.
run run "$WORK/early" --partition 0/2 --measure-only > /dev/null 2>&1
run run "$WORK/early" --partition 1/2 > "$WORK/early1.log" 2>&1
check "partition before every measure-only: exit 0" test $? -eq 0
check "partition before every measure-only: reads the LiDAR" grep -q "readers.lidar: 212236 points read" "$WORK/early1.log"
# Smart-city (assets on the ground and on roofs): the same with filters.clamp.
for k in 0 1; do
  "$CLI" run "$SRC/pipelines/smart-city.json" --set "writers.3dtiles.path=$WORK/city-banded" --partition "$k/2" \
    --measure-only > "$WORK/city-measure$k.log" 2>&1
  check "smart-city measure-only $k/2: exit 0, the assets' ground measured" \
    grep -q "filters.clamp: partition $k/2 measured the ground of the [0-9]* assets of its band" "$WORK/city-measure$k.log"
done
for k in 0 1; do
  "$CLI" run "$SRC/pipelines/smart-city.json" --set "writers.3dtiles.path=$WORK/city-banded" --partition "$k/2" \
    > "$WORK/city-banded$k.log" 2>&1
  check "smart-city after measure-only, partition $k/2: takes the assets' ground" \
    grep -q "filters.clamp: partition: the ground of [0-9]* assets taken from the partitions' results" "$WORK/city-banded$k.log"
done
"$CLI" merge "$SRC/pipelines/smart-city.json" --set "writers.3dtiles.path=$WORK/city-banded" > /dev/null 2>&1
check "smart-city after measure-only, merge: exit 0" test $? -eq 0
diff -r -x run-summary.json "$WORK/city-ref" "$WORK/city-banded" > /dev/null 2>&1
check "smart-city measure-only, partitions, merge: byte-identical to one process" test $? -eq 0
# Automatic roof classes (building_classes unset): one process takes class 6 alone as roof
# when any point has class 6, else every non-ground point. A band without class 6 points
# cannot tell, so it measures both ways and the runs after choose as one process does.
# The synthetic 1k city's LiDAR in 8 tiles: class 6 made 1 in the lower 4 tiles ("half"),
# or in all ("none").
"$CT_BINARY_DIR/tools/synthcity/synthcity" --buildings 1000 --seed 7 --density 2 --out "$WORK/synth" > /dev/null
python3 "$SRC/tests/mpi/split_las.py" "$WORK/synth/points.las" "$WORK/synth/tiles" 8
python3 - "$WORK/synth" <<'PY'
import glob, shutil, struct, sys
def strip6(path):  # class 6 -> 1 (PDRF 6: the class is byte 16 of a record)
    b = bytearray(open(path, 'rb').read())
    off, rl = struct.unpack_from('<I', b, 96)[0], struct.unpack_from('<H', b, 105)[0]
    for i in range(struct.unpack_from('<Q', b, 247)[0]):
        if b[off + i * rl + 16] == 6:
            b[off + i * rl + 16] = 1
    open(path, 'wb').write(bytes(b))
d = sys.argv[1]
for name, count in (("half", 4), ("none", 8)):
    shutil.copytree(d + "/tiles", d + "/" + name)
    for f in sorted(glob.glob(d + "/" + name + "/*.las"))[:count]:
        strip6(f)
PY
for c in half none; do
  cat > "$WORK/synth-$c.json" <<JSON
{"pipeline": [
  {"type": "readers.footprints", "path": "synth/footprints.gpkg", "id_field": "id"},
  {"type": "readers.lidar", "path": "synth/$c"},
  {"type": "filters.heights"},
  {"type": "filters.extrude"},
  {"type": "writers.3dtiles", "path": "synth-$c-one", "max_buildings_per_tile": 40}]}
JSON
  "$CLI" run "$WORK/synth-$c.json" > "$WORK/synth-$c-one.log" 2>&1
  check "$c: one process: exit 0" test $? -eq 0
  for step in "run --partition 0/3 --measure-only" "run --partition 1/3 --measure-only" "run --partition 2/3 --measure-only" \
    "run --partition 0/3" "run --partition 1/3" "run --partition 2/3" merge; do
    # shellcheck disable=SC2086
    "$CLI" $step "$WORK/synth-$c.json" --set "writers.3dtiles.path=$WORK/synth-$c-parts" >> "$WORK/synth-$c-parts.log" 2>&1
    check "$c: $step: exit 0" test $? -eq 0
  done
  diff -r -x run-summary.json "$WORK/synth-$c-one" "$WORK/synth-$c-parts" > /dev/null 2>&1
  check "$c: measure-only, partitions, merge: byte-identical to one process" test $? -eq 0
done
check "half: the lower band measured both ways" grep -q "partition 0/3 measured the [0-9]* buildings of its band of the city (of 1000); no point of its band has class 6, so both ways" "$WORK/synth-half-parts.log"
check "half: an upper band has class 6" grep -q "partition 2/3 measured the [0-9]* buildings of its band of the city (of 1000)$" "$WORK/synth-half-parts.log"
check "none: the merge says every non-ground point counts as roof, as one process does" \
  test "$(grep -c "no point has class 6 (building): every non-ground point counts as roof" "$WORK/synth-none-parts.log")" -ge 1
# (the choice matters: with the lower tiles' points as roof, half's heights differ)
"$CLI" run "$WORK/synth-half.json" --set filters.heights.building_classes=[1,6] \
  --set "writers.3dtiles.path=$WORK/synth-half-as-roof" > /dev/null 2>&1
check "half: taking the lower band's points as roof gives other tiles" \
  test -n "$(diff -r -q -x run-summary.json "$WORK/synth-half-one" "$WORK/synth-half-as-roof" 2>&1)"

# Misuse: --measure-only without --partition, or with merge.
"$CLI" run "$SRC/pipelines/sample.json" --measure-only > "$WORK/mo-alone.log" 2>&1
check "--measure-only without --partition: exit 2" test $? -eq 2
check "--measure-only without --partition: says what it goes with" grep -q -- "--measure-only goes with --partition K/N" "$WORK/mo-alone.log"
"$CLI" merge "$SRC/pipelines/sample.json" --measure-only > "$WORK/mo-merge.log" 2>&1
check "merge --measure-only: exit 2" test $? -eq 2
# Two runs writing one output at once: the second removed the first's work directory,
# and the first failed with "cannot create". The output is locked (OUTPUT.lock, flock):
# here this shell holds it as another run would.
command -v flock > /dev/null || { echo "FAIL: flock missing (util-linux)"; exit 1; }
exec 9> "$WORK/held.lock"
flock -x 9
run run "$WORK/held" > "$WORK/held.log" 2>&1
check "an output another run holds: exit 2 (got $?)" test $? -eq 2
check "an output another run holds: says so" grep -q "held: another citytiler run is writing this output (it holds $WORK/held.lock)" "$WORK/held.log"
check "an output another run holds: its work left alone" test ! -e "$WORK/held.partial" -a ! -e "$WORK/held"
flock -u 9
flock -s 9 # (as a partition of a run holds it: other partitions may write, a whole run may not)
run run "$WORK/held" --partition 0/2 > "$WORK/held-part.log" 2>&1
check "partitions share the lock: exit 0 (got $?)" test $? -eq 0
run merge "$WORK/held" > "$WORK/held-merge.log" 2>&1
check "a merge while a partition holds the output: exit 2 (got $?)" test $? -eq 2
check "a merge while a partition holds the output: says another run writes it" \
  grep -q "another citytiler run is writing this output" "$WORK/held-merge.log"
exec 9>&-
# A partition of a run split another way (3 partitions: it holds a read lock on byte 3 of
# the lock file, as citytiler's partitions do on byte N): its tiles would fall among these.
python3 - "$WORK/held.lock" > "$WORK/held3.ready" <<'PY' &
import fcntl, sys, time
f = open(sys.argv[1], "a+")  # (read access: a read lock needs it)
fcntl.flock(f, fcntl.LOCK_SH)
fcntl.lockf(f, fcntl.LOCK_SH, 1, 3)
print("held", flush=True)
time.sleep(60)
PY
holder=$!
for _ in $(seq 100); do [ -s "$WORK/held3.ready" ] && break; sleep 0.1; done
run run "$WORK/held" --partition 1/2 > "$WORK/held-n.log" 2>&1
check "a partition while a run split in 3 writes the output: exit 2 (got $?)" test $? -eq 2
check "a partition while a run split in 3 writes the output: says so" \
  grep -q "held: a run split into 3 partitions is writing this output (it holds $WORK/held.lock), and this one is split into 2" "$WORK/held-n.log"
kill $holder 2> /dev/null; wait $holder 2> /dev/null
run run "$WORK/held" --partition 1/2 > /dev/null 2>&1 && run merge "$WORK/held" > /dev/null 2>&1
check "once released: the other partition and the merge (exit 0)" test $? -eq 0
check "a whole run's lock file goes at its end" test ! -e "$WORK/held.lock"
# The same one after another: partitions 0/2 and 1/2 done, then 0/3 into the same output
# (first-time-user QA: it ran, rewrote the partition count and mixed its tiles with theirs).
run run "$WORK/seq" --partition 0/2 > /dev/null 2>&1 && run run "$WORK/seq" --partition 1/2 > /dev/null 2>&1
check "sequential partitions 0/2, 1/2: exit 0" test $? -eq 0
run run "$WORK/seq" --partition 0/3 > "$WORK/seq-n.log" 2>&1
check "then 0/3: exit 2 (got $?)" test $? -eq 2
check "then 0/3: names both splits and how to start over" \
  grep -q "seq.partial: holds the work of a run split into 2 partitions, and this one is split into 3" "$WORK/seq-n.log"
run merge "$WORK/seq" > /dev/null 2>&1
check "the 2-way merge still works after it (exit 0)" test $? -eq 0 -a -s "$WORK/seq/tileset.json"
finish
