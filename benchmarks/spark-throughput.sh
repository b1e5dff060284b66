#!/usr/bin/env bash
# Images per second of the Spark module next to the CLI's classify, on one folder of 224x224 JPEGs and one model,
# in one run: bagnet4j classify, score on local[1], score on local[2], and score on a standalone cluster of two
# one-core workers (master, workers and executors each their own JVM, started here from spark/target/lib).
#   bash benchmarks/spark-throughput.sh [ROUNDS] [MODEL]
# MODEL: bagnet33 (default: seeded random weights, made with Debian's python3-torch) or embedded (the 28x28
# Fashion-MNIST BagNet, where Spark's own cost per image dominates). Throughput is marginal: the extra images of
# a large run over its extra wall time against a small run, so that JVM and Spark start-up, model loading and
# warm-up cancel out. Medians of ROUNDS (default 3) interleaved rounds. Run it alone on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
model=${2:-bagnet33}
small=40
large=240
export JAVA_HOME=${JAVA_HOME:-$(bin/jdk25)}
java=$JAVA_HOME/bin/java
mvn -q -B install -DskipTests -Dinvoker.skip=true
mvn -q -B -f spark/pom.xml package -DskipTests
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT

# The images: crops of the test photos at several scales, resized to 224x224, as JPEG.
/usr/bin/python3 - "$work" "$small" "$large" <<'EOF'
import os, random, sys
from PIL import Image
work, small, large = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
photos = [Image.open(os.path.join("src/test/resources/photos", f)).convert("RGB")
          for f in sorted(os.listdir("src/test/resources/photos")) if f.endswith((".jpg", ".png"))]
rng = random.Random(3)
for size, count in (("small", small), ("large", large)):
    os.makedirs(os.path.join(work, size))
    for i in range(count):
        photo = rng.choice(photos)
        side = int(min(photo.size) * rng.uniform(0.4, 1.0))
        x, y = rng.randrange(photo.size[0] - side + 1), rng.randrange(photo.size[1] - side + 1)
        crop = photo.crop((x, y, x + side, y + side)).resize((224, 224), Image.BILINEAR)
        crop.save(os.path.join(work, size, "%04d.jpg" % i), quality=90)
EOF

model_args=()
if [[ $model == bagnet33 ]]; then
  /usr/bin/python3 - "$work" <<'EOF'
import os, sys
import torch
sys.path.insert(0, "weights-converter")
from bagnet_torch import BagNet, preset_config
from convert import convert
from make_reference import randomize
checkpoint = os.path.join(sys.argv[1], "bagnet33.pth.tar")
torch.save(randomize(BagNet(preset_config("bagnet33")), seed=7).state_dict(), checkpoint,
           _use_new_zipfile_serialization=False)
convert(checkpoint, os.path.join(sys.argv[1], "bagnet33.safetensors"), arch="bagnet33")
EOF
  model_args=(--model "$work/bagnet33.safetensors")
elif [[ $model != embedded ]]; then
  echo "MODEL must be bagnet33 or embedded" >&2
  exit 2
fi

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
await() { # file, text
  for _ in $(seq 600); do grep -q "$2" "$1" 2>/dev/null && return; sleep 0.2; done
  echo "no '$2' in $1" >&2
  exit 1
}
# A standalone cluster without a Spark distribution: SPARK_HOME only needs a jars folder.
mkdir -p "$work/home/jars"
export SPARK_HOME=$work/home SPARK_SCALA_VERSION=2.13 SPARK_LOCAL_IP=127.0.0.1
master_port=$(free_port)
"$java" -Xmx256m -cp "spark/target/lib/*" org.apache.spark.deploy.master.Master --host 127.0.0.1 \
  --port "$master_port" --webui-port "$(free_port)" > "$work/master.log" 2>&1 &
pids+=($!)
await "$work/master.log" "elected leader"
for i in 0 1; do
  "$java" -Xmx256m -cp "spark/target/lib/*" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 \
    --port "$(free_port)" --webui-port "$(free_port)" --cores 1 --memory 2g --work-dir "$work/worker-$i" \
    "spark://127.0.0.1:$master_port" > "$work/worker-$i.log" 2>&1 &
  pids+=($!)
  await "$work/worker-$i.log" "Successfully registered"
done
cluster=(-Dspark.executor.extraClassPath="$PWD/spark/target/bagnet4j-spark.jar:$PWD/spark/target/lib/*"
  -Dspark.executor.extraJavaOptions=--add-modules=jdk.incubator.vector -Dspark.executor.memory=1536m)

seconds() { # command...: its wall time
  local start end
  start=$(date +%s.%N)
  "$@" > "$work/last.log" 2>&1 || { [[ $? == 1 ]] || { cat "$work/last.log" >&2; exit 1; }; }
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}
run() { # config, folder
  case $1 in
    classify) seconds bin/bagnet4j classify "${model_args[@]}" --json "$work/$2" ;;
    local1|local2) seconds "$java" -jar spark/target/bagnet4j-spark.jar score --master "local[${1#local}]" \
        "${model_args[@]}" --input "$work/$2" --output "$work/out" --overwrite ;;
    cluster) seconds "$java" "${cluster[@]}" -jar spark/target/bagnet4j-spark.jar score \
        --master "spark://127.0.0.1:$master_port" "${model_args[@]}" --input "$work/$2" --output "$work/out" \
        --overwrite ;;
  esac
}
configs=(classify local1 local2 cluster)
for r in $(seq "$rounds"); do
  for c in "${configs[@]}"; do
    s=$(run "$c" small)
    l=$(run "$c" large)
    echo "$c $(echo "($large - $small) / ($l - $s)" | bc -l) $s $l" >> "$work/results"
    echo "round $r: $c: $small images in $s s, $large in $l s" >&2
  done
done

echo
echo "$model, 224x224 JPEGs, $(nproc) cores, marginal images/s ($large - $small images over the difference of the"
echo "two runs' wall times), medians of $rounds rounds:"
echo
echo "| run | images/s (median, range) | of classify's | wall, $small images (s) | wall, $large images (s) |"
echo "|---|---|---|---|---|"
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
column() { awk -v c="$1" -v k="$2" '$1 == c {print $k}' "$work/results"; }
base=$(column classify 2 | median)
for c in "${configs[@]}"; do
  rate=$(column "$c" 2 | median)
  case $c in
    classify) name="bagnet4j classify (one image per thread)" ;;
    local1) name="score --master local[1]" ;;
    local2) name="score --master local[2]" ;;
    cluster) name="score on a standalone cluster, 2 workers of 1 core" ;;
  esac
  printf '| %s | %.2f (%.2f-%.2f) | %.2f | %.1f | %.1f |\n' "$name" "$rate" "$(column "$c" 2 | sort -g | head -1)" \
    "$(column "$c" 2 | sort -g | tail -1)" "$(echo "$rate / $base" | bc -l)" "$(column "$c" 3 | median)" \
    "$(column "$c" 4 | median)"
done
