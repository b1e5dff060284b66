#!/usr/bin/env bash
# bagnet4j, ONNX Runtime Java and PyTorch on the same weights, in one run, one table:
#   [BATCH=8] bash benchmarks/side-by-side.sh [THREADS] [ITERS] [PRESET ...]
#   (defaults: all cores, 20, the three BagNets and resnet50, densenet169, vgg16; BATCH 1). Times are per image of
#   the batch.
# Needs Debian's python3-torch (apt-get install python3-torch); ONNX Runtime comes from Maven Central.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-$(nproc)}
iters=${2:-20}
batch=${BATCH:-1}
shift 2 || shift $#
presets=("${@:-bagnet9 bagnet17 bagnet33 resnet50 densenet169 vgg16}")
presets=(${presets[*]})
export JAVA_HOME=${JAVA_HOME:-$(bin/jdk25)}
mvn -q -B install -DskipTests -Dinvoker.skip=true
mvn -q -B -f benchmarks/pom.xml package
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 benchmarks/side_by_side.py "$work" "$threads" "$iters" "$batch" "${presets[@]}" 2>&1 | grep -v -i "warning\|if grid"
# One JVM per model: C2 compiles the kernels for the shapes it profiles first, so each model gets its own profile
# and none is measured with code compiled for the models before it.
for preset in "${presets[@]}"; do
  "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -Xmx8g -XX:+UseTransparentHugePages -XX:LoopUnrollLimit=200 \
    -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" org.bagnet4j.benchmarks.SideBySide \
    "$work" "$threads" "$iters" "$batch" "$preset" | if [ "$preset" = "${presets[0]}" ]; then cat; else grep '^| ' | grep -v '^| model |'; fi
done
