# mpirun -np 2 citytiler run: ranks split the cells, rank 0 writes tileset.json; the output
# is byte-identical to a one-process run (and to --threads 1).
. "$CT_SOURCE_DIR/tests/e2e/common.bash"
not_has() { ! grep -q -- "$2" "$1"; }
command -v mpirun > /dev/null || { echo "FAIL: mpirun missing (Debian openmpi-bin)"; exit 1; }
run() { "$@" "$SRC/pipelines/sample.json" --set writers.3dtiles.max_buildings_per_tile=12; }
run "$CLI" run --threads 1 --set "writers.3dtiles.path=$WORK/one" > "$WORK/one.log" 2>&1
check "one process, one thread" test $? -eq 0
mpirun -np 2 --allow-run-as-root --oversubscribe "$CLI" run "$SRC/pipelines/sample.json" --threads 1 \
  --set writers.3dtiles.max_buildings_per_tile=12 --set "writers.3dtiles.path=$WORK/mpi" > "$WORK/mpi.log" 2>&1
check "mpirun -np 2 exits 0" test $? -eq 0
check "rank 1 built its share" grep -q "partition 1/2: [0-9]* of [0-9]* tiles written" "$WORK/mpi.log"
diff -r -x run-summary.json "$WORK/one" "$WORK/mpi" > "$WORK/diff.log" 2>&1
check "mpirun -np 2 output is byte-identical to one process" test $? -eq 0
check "no work directory left" test ! -e "$WORK/mpi.partial"
# Each rank's closing summary names the rank, as its other lines do (the counts differ).
check "closing summaries name their rank" test "$(grep -cE '^citytiler\[[01]\]: done: ' "$WORK/mpi.log")" -eq 2 \
  -a -z "$(grep '^citytiler: done' "$WORK/mpi.log")"
# Heights are split too: each rank measures a run of cells and they exchange results.
check "rank 0 measured its share of the heights" grep -q "measured here (process 0 of 2), results exchanged" "$WORK/mpi.log"
check "rank 1 measured its share of the heights" grep -q "measured here (process 1 of 2), results exchanged" "$WORK/mpi.log"
# The same with the points on disk (cells loaded per rank).
mpirun -np 2 --allow-run-as-root --oversubscribe "$CLI" run "$SRC/pipelines/sample.json" --threads 2 --memory-limit 0.25 \
  --set writers.3dtiles.max_buildings_per_tile=12 --set "writers.3dtiles.path=$WORK/mpi-disk" > "$WORK/mpi-disk.log" 2>&1
check "mpirun -np 2 with points on disk exits 0" test $? -eq 0
check "points were on disk" grep -q "on disk" "$WORK/mpi-disk.log"
diff -r -x run-summary.json "$WORK/one" "$WORK/mpi-disk" > "$WORK/diff-disk.log" 2>&1
check "mpirun -np 2 with points on disk is byte-identical to one process" test $? -eq 0
# Each rank sweeps its own buildings; those with too few ground points search wider
# (min_ground_points 400: most of the sample's) as one process does.
for run in one-wide mpi-wide; do
  launch=()
  [ $run = mpi-wide ] && launch=(mpirun -np 2 --allow-run-as-root --oversubscribe)
  "${launch[@]}" "$CLI" run "$SRC/pipelines/sample.json" --threads 2 --memory-limit 0.25 \
    --set filters.heights.min_ground_points=400 --set writers.3dtiles.max_buildings_per_tile=12 \
    --set "writers.3dtiles.path=$WORK/$run" > "$WORK/$run.log" 2>&1
  check "$run: exit 0" test $? -eq 0
done
check "both ranks searched wider around some of their buildings" \
  test "$(grep -c "of this process's [0-9]* buildings with fewer than 400 ground points" "$WORK/mpi-wide.log")" -eq 2
diff -r -x run-summary.json "$WORK/one-wide" "$WORK/mpi-wide" > "$WORK/diff-wide.log" 2>&1
check "mpirun -np 2, wider ground searches: byte-identical to one process" test $? -eq 0
# --partition under mpirun replaced the ranks' share (both built partition 0/3) and they
# failed on each other's results ("process 1 sent 2944 bytes of results, not 1408", exit 1);
# merge under mpirun had every rank merge, racing ("run-summary.json: cannot write", exit 1).
# Both are usage errors now, said once, and nothing is written.
mpirun -np 2 --allow-run-as-root --oversubscribe "$CLI" run "$SRC/pipelines/sample.json" --partition 0/3 \
  --set "writers.3dtiles.path=$WORK/mpi-part" > "$WORK/mpi-part.log" 2>&1
check "mpirun with --partition: exit 2 (got $?)" test $? -eq 2
check "mpirun with --partition: says why, once" test "$(grep -c 'under mpirun the ranks split the cells themselves' "$WORK/mpi-part.log")" -eq 1
check "mpirun with --partition: nothing written" test ! -e "$WORK/mpi-part" -a ! -e "$WORK/mpi-part.partial"
for k in 0 1; do
  "$CLI" run "$SRC/pipelines/sample.json" --set writers.3dtiles.max_buildings_per_tile=12 --partition $k/2 \
    --set "writers.3dtiles.path=$WORK/mpi-merge" > /dev/null 2>&1
done
mpirun -np 2 --allow-run-as-root --oversubscribe "$CLI" merge "$SRC/pipelines/sample.json" \
  --set writers.3dtiles.max_buildings_per_tile=12 --set "writers.3dtiles.path=$WORK/mpi-merge" > "$WORK/mpi-merge.log" 2>&1
check "mpirun merge: exit 2" test $? -eq 2
check "mpirun merge: says why, once" test "$(grep -c 'merge runs in one process' "$WORK/mpi-merge.log")" -eq 1
"$CLI" merge "$SRC/pipelines/sample.json" --set writers.3dtiles.max_buildings_per_tile=12 \
  --set "writers.3dtiles.path=$WORK/mpi-merge" > "$WORK/mpi-merge2.log" 2>&1
check "the partitions' work is still there for a merge in one process" test $? -eq 0
diff -r -x run-summary.json "$WORK/one" "$WORK/mpi-merge" > /dev/null 2>&1
check "which gives the same bytes" test $? -eq 0
# A rank that fails alone (here rank 0, whose temporary point files find a full disk:
# an MPMD launch gives it its own environment) left the others waiting at their next
# barrier, and the run hung until killed. Now it ends them all: exit 1, its message said.
# (A TMPDIR that cannot be written is refused when the pipeline loads now: exit 2, below.)
# rank0_env NAME VAR=VALUE: two ranks (MPMD), rank 0 with VAR=VALUE in its environment,
# writing to $WORK/NAME, log NAME.log; rc becomes mpirun's exit code.
rank0_env() {
  timeout 300 mpirun --allow-run-as-root --oversubscribe \
    -np 1 env "$2" "$CLI" run "$SRC/pipelines/sample.json" --threads 1 --memory-limit 0.001 \
    --set "writers.3dtiles.path=$WORK/$1" : \
    -np 1 "$CLI" run "$SRC/pipelines/sample.json" --threads 1 --memory-limit 0.001 \
    --set "writers.3dtiles.path=$WORK/$1" > "$WORK/$1.log" 2>&1
  rc=$?
}
rank0_env mpi-fail CITYTILER_TEST_SPILL_FULL=1
check "a rank failing alone: the run ends, exit 1 (got $rc; 124: it hung)" test $rc -eq 1
check "a rank failing alone: says why" grep -q "the temporary point file in .*: No space left on device" \
  "$WORK/mpi-fail.log"
# The ranks mpirun then stops do not say that --resume finishes the run (nothing to resume).
check "a rank failing alone: the others do not point to --resume" not_has "$WORK/mpi-fail.log" "with --resume finishes"
touch "$WORK/a_file"
rank0_env mpi-tmpdir TMPDIR="$WORK/a_file"
check "a rank's TMPDIR a file: the run ends, exit 2 (got $rc; 124: it hung)" test $rc -eq 2
check "a rank's TMPDIR a file: says why" grep -q "TMPDIR '$WORK/a_file' (where points beyond memory_limit go) is not a directory" \
  "$WORK/mpi-tmpdir.log"
# An output path under a file: every rank refuses it before any stage runs, exit 2.
timeout 300 mpirun -np 2 --allow-run-as-root --oversubscribe "$CLI" run "$SRC/pipelines/sample.json" --threads 1 --verbose \
  --set "writers.3dtiles.path=$WORK/a_file/out" > "$WORK/mpi-out-file.log" 2>&1
rc=$?
check "an output path under a file: exit 2 (got $rc)" test $rc -eq 2
check "an output path under a file: said before any stage ran" \
  test -n "$(grep 'a_file/out: output path cannot be written' "$WORK/mpi-out-file.log")" -a -z "$(grep 'stage 0' "$WORK/mpi-out-file.log")"
# Ranks given different pipelines (an MPMD launch, here another max_buildings_per_tile):
# they ran through and failed at the end with "tile 1_0_0 of another rank is missing"
# (exit 1). Refused before any stage runs, naming the process and what to do.
mpirun --allow-run-as-root --oversubscribe -np 1 "$CLI" run "$SRC/pipelines/sample.json" --threads 1 \
  --set "writers.3dtiles.path=$WORK/mpmd" : -np 1 "$CLI" run "$SRC/pipelines/sample.json" --threads 1 \
  --set "writers.3dtiles.path=$WORK/mpmd" --set writers.3dtiles.max_buildings_per_tile=7 > "$WORK/mpmd.log" 2>&1
rc=$?
check "ranks with different pipelines: exit 2 (got $rc)" test "$rc" -eq 2
check "ranks with different pipelines: says so" grep -q "process 1 of 2 runs another pipeline than the processes before it" "$WORK/mpmd.log"
check "ranks with different pipelines: no stage ran" not_has "$WORK/mpmd.log" "stage 0: readers.footprints done"
check "ranks with different pipelines: nothing written" test ! -e "$WORK/mpmd" -a ! -e "$WORK/mpmd.partial"
finish
