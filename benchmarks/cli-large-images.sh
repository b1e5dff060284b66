#!/usr/bin/env bash
# The command line on large images, as a user runs it: `bin/bagnet4j classify --no-resize` of square PNGs with
# bagnet33 (seeded random weights, made with Debian's python3-torch) under -Xmx512m for everything, next to a warm
# 224x224 batch-1 pass of the same engine (`bin/bagnet4j bench`) in the same run, and the time it takes to decode
# each file band by band as the streamed pass reads it, by ImageIO's reader and by bagnet4j's. One table.
#   bash benchmarks/cli-large-images.sh [SIZE ...]   (default: 4096 8192)
# Run it alone on the machine; 8192 takes about 12 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-4096 8192}")
sizes=(${sizes[*]})
export JAVA_HOME=${JAVA_HOME:-$(bin/jdk25)}
mvn -q -B package -DskipTests -Dinvoker.skip=true
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

/usr/bin/python3 - "$work" "${sizes[@]}" <<'EOF'
import os, sys
import numpy as np
import torch
from PIL import Image
sys.path.insert(0, "weights-converter")
from bagnet_torch import BagNet, preset_config
from convert import convert
from make_reference import randomize
work = sys.argv[1]
checkpoint = os.path.join(work, "bagnet33.pth.tar")
torch.save(randomize(BagNet(preset_config("bagnet33")), seed=7).state_dict(), checkpoint,
           _use_new_zipfile_serialization=False)
convert(checkpoint, os.path.join(work, "bagnet33.safetensors"), arch="bagnet33")
rng = np.random.default_rng(0)
for size in map(int, sys.argv[2:]):
    # Smooth noise: blobs of colour, compressed about as well as a photo.
    small = (rng.random((size // 64, size // 64, 3)) * 255).astype("uint8")
    Image.fromarray(small).resize((size, size), Image.BILINEAR).save(os.path.join(work, "%d.png" % size))
EOF

# The band-by-band decoding alone, both ways, in the rows a streamed pass reads at a time at this heap (about 160
# input rows a band, plus the receptive field's overlap): ImageIO's reader given each band as its source region
# (what bagnet4j did before), and bagnet4j's one-pass PNG reader.
cat > "$work/Decode.java" <<'EOF'
import java.awt.Rectangle;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.bagnet4j.image.ImageDecoder;
public class Decode {
    public static void main(String[] args) throws Exception {
        long start = System.nanoTime();
        try (ImageInputStream in = ImageIO.createImageInputStream(Path.of(args[0]).toFile())) {
            ImageReader reader = ImageIO.getImageReaders(in).next();
            reader.setInput(in, true, false);
            int width = reader.getWidth(0);
            int height = reader.getHeight(0);
            for (int y = 0; y < height; y += 160) {
                ImageReadParam param = reader.getDefaultReadParam();
                param.setSourceRegion(new Rectangle(0, y, width, Math.min(160 + 25, height - y)));
                reader.read(0, param);
            }
            reader.dispose();
        }
        long middle = System.nanoTime();
        try (ImageDecoder.Regions image = ImageDecoder.openRegions(Path.of(args[0]), Long.MAX_VALUE)) {
            for (int y = 0; y < image.height(); y += 160) {
                image.read(0, y, image.width(), Math.min(160 + 25, image.height() - y));
            }
        }
        System.out.printf("%.1f | %.1f%n", (middle - start) / 1e9, (System.nanoTime() - middle) / 1e9);
    }
}
EOF

ms224=$(bin/bagnet4j bench --model "$work/bagnet33.safetensors" --iters 30 2>/dev/null \
  | sed -n 's/.*median \([0-9.]*\) ms.*/\1/p')
s_per_mp_224=$(python3 -c "print(f'{$ms224 / 1e3 / (224 * 224 / 1e6):.2f}')")
echo "bagnet33 (random weights), classify --no-resize with -Xmx512m, $(nproc) threads; warm 224x224 pass: $ms224 ms = $s_per_mp_224 s per megapixel"
echo
echo "| image | result | seconds | s per megapixel | over the 224 pass | band decoding alone: ImageIO by regions (s) | one pass (s) |"
echo "|---|---|---|---|---|---|---|"
for size in "${sizes[@]}"; do
  start=$(date +%s.%N)
  if out=$(BAGNET4J_JAVA_OPTS=-Xmx512m bin/bagnet4j classify --model "$work/bagnet33.safetensors" --no-resize \
      --json "$work/$size.png" 2>"$work/err"); then
    result="ok, top class $(sed -n 's/.*"top":\[{"index":\([0-9]*\).*/\1/p' <<<"$out")"
  else
    result="failed: $(grep -v 'evaluated tile by tile' "$work/err" | head -1)"
  fi
  seconds=$(python3 -c "print(f'{$(date +%s.%N) - $start:.1f}')")
  decode=$("$JAVA_HOME/bin/java" -Xmx512m -cp target/bagnet4j.jar "$work/Decode.java" "$work/$size.png" 2>/dev/null)
  python3 -c "
mp = $size * $size / 1e6
print(f'| {$size}x{$size} | $result | $seconds | {$seconds / mp:.2f} | {$seconds / mp / $s_per_mp_224:.1f}x | $decode |')"
done
