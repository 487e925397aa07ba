#!/bin/bash
NV=$(python3 -c 'import nvidia, os; print(os.path.dirname(nvidia.__path__[0]))')/nvidia
export LD_LIBRARY_PATH=$NV/cu13/lib:$NV/cudnn/lib
B=$PWD/build/bin
(cd scripts; timeout 240 python3 bench.py --infc $B/infc --out $OUT --models resnet50 --batches large --variants infc-fp16,infc-int8 > $OUT/bench.txt 2>&1; echo rc=$?; tail -2 $OUT/bench.txt)
P=/tmp/infc-bench/resnet50.b256.int8.O3.plan
$B/infc inspect $P > $OUT/inspect-int8.txt 2>&1; grep -c "int8 nhwc" $OUT/inspect-int8.txt; grep -c "faster than INT8" $OUT/inspect-int8.txt
