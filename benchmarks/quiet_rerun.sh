#!/usr/bin/env bash
# Quiet-machine pass over every benchmark section (outputs in $OUT, default /tmp/bench).
cd "$(dirname "$0")/.."
mkdir -p "${OUT:-/tmp/bench}"
run() { name=$1; shift; echo "== $name: $* ($(date +%T), $(cut -d' ' -f1-3 /proc/loadavg))"; /usr/bin/time -f "%e s wall" timeout 900 "$@" > ${OUT:-/tmp/bench}/$name.txt 2>&1; tail -1 ${OUT:-/tmp/bench}/$name.txt; }
run sde python benchmarks/sde.py --repeats 30
run exponential python benchmarks/exponential.py --repeats 5
run samplers python benchmarks/samplers.py --skip-accuracy --repeats 5
run closures python benchmarks/closures.py --repeats 100 --train
run pde_heat python benchmarks/pde.py heat --repeats 9
run gradients_stiff python benchmarks/gradients.py stiff
run gradients_cost python benchmarks/gradients.py cost
run pde_scaling python benchmarks/pde.py scaling --repeats 5
echo "done $(date +%T)"
