#!/bin/bash
NV=$(python3 -c 'import nvidia, os; print(os.path.dirname(nvidia.__path__[0]))')/nvidia
export LD_LIBRARY_PATH=$NV/cu13/lib:$NV/cudnn/lib
B=$PWD/build/bin
echo "== int8 gpu test"; timeout 100 $B/infc-gpu-tests "INT8*" 2>&1 | tail -15
echo "== digits on GPU"; timeout 120 python3 examples/digits/evaluate.py --infc $B/infc --variants fp32,fp16,int8-entropy,int8-percentile,int8-minmax --out /tmp/dg > $OUT/digits.txt 2>&1; echo rc=$?; tail -14 $OUT/digits.txt
echo "== resnet50 int8"; cd scripts; timeout 330 python3 bench.py --infc $B/infc --out $OUT --models resnet50 --batches large --variants infc-fp16,infc-int8 > $OUT/bench.txt 2>&1; echo rc=$?; tail -5 $OUT/bench.txt
P=/tmp/infc-bench/resnet50.b256.int8.O3.plan
$B/infc inspect $P > $OUT/inspect-int8.txt 2>&1; grep -c "int8 nhwc" $OUT/inspect-int8.txt; grep "#" $OUT/inspect-int8.txt | head -20
timeout 60 $B/infc run $P --profile > $OUT/profile-int8.txt 2>&1; head -60 $OUT/profile-int8.txt
