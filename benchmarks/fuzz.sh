#!/usr/bin/env bash
# A fuzzing campaign: runs each Jazzer fuzz target (src/test/java/org/bagnet4j/fuzz) for the given time and
# prints its executions, executions per second, coverage (libFuzzer's edges, features and corpus) and findings.
# mvn verify replays the committed inputs of every target (src/test/resources/org/bagnet4j/fuzz/*Inputs); this
# searches for new ones. A finding is written there as crash-<sha1> (commit it once fixed: it becomes a regression
# test); the inputs that reached new coverage accumulate in .cifuzz-corpus/ for the next campaign.
#
# usage: bash benchmarks/fuzz.sh [SECONDS_PER_TARGET (default 600)] [Class#method ...]
# Run it alone: it uses a core fully, and timings beside a build mean nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(ModelFileFuzzTest#safetensors NpyFuzzTest#npy ImageFuzzTest#decode ImageFuzzTest#geometry
           MetadataFuzzTest#metadata MetadataFuzzTest#json CheckpointFuzzTest#checkpoint)
fi
export JAVA_HOME=${JAVA_HOME:-$(bin/jdk25)}
mkdir -p target/fuzz
mvn -q -B test-compile

printf '%-32s %9s %12s %8s %7s %7s %14s %s\n' target seconds executions exec/s edges features corpus findings
for target in "${targets[@]}"; do
  log=target/fuzz/${target/\#/.}.log
  start=$(date +%s)
  JAZZER_FUZZ=1 mvn -B test -Dtest="$target" -Djazzer.max_duration="${seconds}s" -Dinvoker.skip=true \
    -Dsurefire.failIfNoSpecifiedTests=false >"$log" 2>&1 || true
  elapsed=$(( $(date +%s) - start ))
  done_line=$(grep -a -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n 1 || true)
  runs=$(sed -E 's/^Done ([0-9]+) runs in ([0-9]+).*/\1/' <<<"$done_line")
  run_seconds=$(sed -E 's/^Done ([0-9]+) runs in ([0-9]+).*/\2/' <<<"$done_line")
  stats=$(grep -a -E '^#[0-9]+' "$log" | grep -a 'cov:' | tail -n 1 || true)
  edges=$(grep -oE 'cov: [0-9]+' <<<"$stats" | cut -d' ' -f2 || true)
  features=$(grep -oE 'ft: [0-9]+' <<<"$stats" | cut -d' ' -f2 || true)
  corpus=$(grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' <<<"$stats" | cut -d' ' -f2 || true)
  findings=$(grep -a -oE 'Test unit written to [^ ]+' "$log" | sed 's/Test unit written to //' | tr '\n' ' ' || true)
  rate=$([ -n "$runs" ] && [ "${run_seconds:-0}" -gt 0 ] && echo $(( runs / run_seconds )) || echo "-")
  printf '%-32s %9s %12s %8s %7s %7s %14s %s\n' "$target" "$elapsed" "${runs:--}" "$rate" "${edges:--}" \
    "${features:--}" "${corpus:--}" "${findings:-none}"
done
echo "logs: target/fuzz/; corpus: .cifuzz-corpus/"
