# The same inputs give byte-identical output whatever the thread count.
. "$(dirname "$0")/common.bash"
"$CLI" run "$SRC/pipelines/sample.json" --threads 1 --set "writers.3dtiles.path=$WORK/t1" > "$WORK/t1.log" 2>&1
check "threads 1 run" test $? -eq 0
"$CLI" run "$SRC/pipelines/sample.json" --threads 2 --set "writers.3dtiles.path=$WORK/t2" > "$WORK/t2.log" 2>&1
check "threads 2 run" test $? -eq 0
diff -r -x run-summary.json "$WORK/t1" "$WORK/t2" > "$WORK/diff.log" 2>&1
check "outputs of --threads 1 and --threads 2 are byte-identical" test $? -eq 0
# Points on disk (a memory limit far below the sample's 3 MiB of points): cells are
# processed one at a time, and the tiles are the same bytes.
"$CLI" run "$SRC/pipelines/sample.json" --threads 2 --set readers.lidar.memory_limit=0.25 \
  --set "writers.3dtiles.path=$WORK/disk" > "$WORK/disk.log" 2>&1
check "points-on-disk run" test $? -eq 0
check "points-on-disk run used the disk" grep -q "on disk" "$WORK/disk.log"
diff -r -x run-summary.json "$WORK/t1" "$WORK/disk" > "$WORK/diff-disk.log" 2>&1
check "points on disk give byte-identical output" test $? -eq 0
finish
