# The same inputs give byte-identical output whatever the thread count.
. "$(dirname "$0")/common.bash"
"$CLI" run "$SRC/pipelines/sample.json" --threads 1 --set "writers.3dtiles.path=$WORK/t1" > "$WORK/t1.log" 2>&1
check "threads 1 run" test $? -eq 0
"$CLI" run "$SRC/pipelines/sample.json" --threads 2 --set "writers.3dtiles.path=$WORK/t2" > "$WORK/t2.log" 2>&1
check "threads 2 run" test $? -eq 0
diff -r "$WORK/t1" "$WORK/t2" > "$WORK/diff.log" 2>&1
check "outputs of --threads 1 and --threads 2 are byte-identical" test $? -eq 0
finish
