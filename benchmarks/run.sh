#!/usr/bin/env bash
# Builds bagnet4j and the benchmarks, then runs one benchmark class: bash benchmarks/run.sh HeatmapBenchmark [ARGS]
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-$(bin/jdk25)}
mvn -q -B install -DskipTests -Dinvoker.skip=true
mvn -q -B -f benchmarks/pom.xml package
class=${1:-HeatmapBenchmark}
shift || true
# Heap touched up front: first-touch page faults would otherwise be timed as compute.
exec "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -Xms8g -Xmx8g -XX:+AlwaysPreTouch -XX:+UseTransparentHugePages \
  -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" "$([[ $class == *.* ]] && echo "org.bagnet4j.$class" || echo "org.bagnet4j.benchmarks.$class")" "$@"
