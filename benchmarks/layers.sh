#!/usr/bin/env bash
# Where a pass's time goes: `bin/bagnet4j bench --layers` for each preset (random weights, 224x224, 2 threads),
# at batch 1 and batch 8: every kernel of a pass with its median time and GFLOP/s, then the totals per kind of
# layer (the GFLOP/s per layer kind that the README quotes) and the time between kernels.
#   bash benchmarks/layers.sh [PRESET ...]   (default: resnet50 densenet169 vgg16 bagnet33)
# Run it alone on the machine (about 4 minutes with the defaults).
set -euo pipefail
cd "$(dirname "$0")/.."
presets=("${@:-resnet50 densenet169 vgg16 bagnet33}")
presets=(${presets[*]})
export JAVA_HOME=${JAVA_HOME:-$(bin/jdk25)}
mvn -q -B package -DskipTests -Dinvoker.skip=true
for preset in "${presets[@]}"; do
  for batch in 1 8; do
    echo "== $preset, batch $batch"
    bin/bagnet4j bench --preset "$preset" --batch "$batch" --threads 2 --warmup 10 --iters 20 --layers
  done
done
