package org.bagnet4j.weights;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.assertj.core.api.SoftAssertions;
import org.bagnet4j.ReferenceFixtures;
import org.bagnet4j.ResNetConfig;
import org.bagnet4j.RequiresReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** weights-converter/convert.py refuses what is not a BagNet checkpoint with one line and exit code 2. */
@RequiresReference
class ConverterTest {
    /** A TorchScript module whose unpickling creates the file named when it was saved (torch.from_file). */
    private static final String TORCHSCRIPT_WITH_MARKER = """
            import sys
            from typing import Tuple

            import torch


            class Marker(torch.nn.Module):
                def __init__(self, path: str):
                    super().__init__()
                    self.path = path

                def forward(self, x):
                    return x

                @torch.jit.export
                def __getstate__(self) -> Tuple[str, bool]:
                    return (self.path, self.training)

                @torch.jit.export
                def __setstate__(self, state: Tuple[str, bool]) -> None:
                    self.path = state[0]
                    # from_file(shared=True) creates the file; using its result keeps the call in the script
                    self.training = torch.from_file(self.path, True, 4).numel() == 4


            torch.jit.save(torch.jit.script(Marker(sys.argv[2])), sys.argv[1])
            """;

    /** A checkpoint whose unpickling calls os.system to create the file named when it was saved. */
    static final String PICKLE_WITH_MARKER = """
            import os, shlex, sys, torch
            class Marker:
                def __reduce__(self):
                    return os.system, ("touch " + shlex.quote(sys.argv[2]),)
            torch.save({"conv1.weight": torch.zeros(1), "marker": Marker()}, sys.argv[1])
            """;

    /**
     * Makes hostile variants of the tiny checkpoint in WORK and converts each with convert.main in this one
     * process; prints per case: "case", name, exit code, seconds, output files left in WORK, stderr.
     */
    private static final String HOSTILE_CHECKPOINTS = """
            import contextlib, io, os, pickle, sys, time, zipfile
            from collections import OrderedDict
            import torch
            sys.path.insert(0, "weights-converter")
            import convert

            work, tiny, tiny_zip = sys.argv[1:4]
            out = os.path.join(work, "out.safetensors")
            state = torch.load(tiny, weights_only=True)


            def saved(name, changes, legacy=True):
                changed = OrderedDict(state)
                changed.update(changes)
                path = os.path.join(work, name + ".pth")
                torch.save(changed, path, _use_new_zipfile_serialization=not legacy)
                return path


            def rezipped(name, storage_compression=zipfile.ZIP_STORED, extra=None):
                path = os.path.join(work, name + ".pth")
                with zipfile.ZipFile(tiny_zip) as source, zipfile.ZipFile(path, "w") as target:
                    for info in source.infolist():
                        compression = storage_compression if "/data/" in info.filename else zipfile.ZIP_STORED
                        target.writestr(info.filename, source.read(info), compress_type=compression)
                    if extra:
                        target.writestr(extra, b"x")
                return path


            class Storage:
                def __init__(self, numel):
                    self.pid = ("storage", torch.FloatStorage, "0", "cpu", numel)


            class Tensor:
                def __init__(self, storage, size, stride):
                    self.args = (storage, 0, size, stride, False, OrderedDict())

                def __reduce__(self):
                    return torch._utils._rebuild_tensor_v2, self.args


            class Saver(pickle.Pickler):
                def persistent_id(self, obj):
                    return obj.pid if isinstance(obj, Storage) else None


            def handmade(name, numel, size, stride, stored_bytes):
                pickled = io.BytesIO()
                Saver(pickled, protocol=2).dump({"fc.weight": Tensor(Storage(numel), size, stride)})
                path = os.path.join(work, name + ".pth")
                with zipfile.ZipFile(path, "w") as z:
                    z.writestr("archive/data.pkl", pickled.getvalue())
                    z.writestr("archive/data/0", bytes(stored_bytes))
                    z.writestr("archive/version", b"3\\n")
                return path


            def written(name, content):
                path = os.path.join(work, name)
                with open(path, "wb") as f:
                    f.write(content)
                return path


            fc = state["fc.weight"]
            nan_fc = fc.clone()
            nan_fc[0, 0] = float("nan")
            shared = torch.zeros(1000)
            os.mkdir(os.path.join(work, "folder"))
            cases = {
                "conv1_1d": [saved("conv1_1d", {"conv1.weight": torch.zeros(8)}), out],
                "conv1_0d": [saved("conv1_0d", {"conv1.weight": torch.tensor(1.0)}), out],
                "int_key": [saved("int_key", {7: torch.zeros(1)}), out],
                "layer5": [saved("layer5", {"layer5.0.foo": torch.zeros(1)}), out],
                "layer1_x": [saved("layer1_x", {"layer1.x.y": torch.zeros(1)}), out],
                "block_1000000": [saved("block_1000000", {"layer1.1000000.conv1.weight": fc}), out],
                "sparse": [saved("sparse", {"fc.weight": fc.to_sparse()}), out],
                "int_weight": [saved("int_weight", {"fc.weight": fc.to(torch.int32)}), out],
                "stride0": [saved("stride0", {"fc.weight": torch.zeros(1).expand(20_000_000, 2048)}, False), out],
                "nan": [saved("nan", {"fc.weight": nan_fc}), out],
                "shared": [saved("shared", {"x%d" % i: shared for i in range(1000)}), out],
                "deflated": [rezipped("deflated", zipfile.ZIP_DEFLATED), out],
                "extra_entry": [rezipped("extra_entry", extra="tiny_zip.pth/extra/x"), out],
                "storage_claim": [handmade("storage_claim", 10 ** 9, (10 ** 9,), (1,), 16), out],
                "view_outside": [handmade("view_outside", 4, (10, 64), (64, 1), 16), out],
                "truncated": [written("truncated.pth", open(tiny, "rb").read()[:-100]), out],
                "stride_17": [tiny, out, "--strides", "2,2,2,17"],
                "labels_latin1": [tiny, out, "--labels", written("labels.txt", b"caf\\xe9\\n" * 10)],
                "missing_folder": [tiny, os.path.join(work, "missing", "out.safetensors")],
                "folder_output": [tiny, os.path.join(work, "folder")],
            }
            for name, args in cases.items():
                errors = io.StringIO()
                start = time.monotonic()
                with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
                    try:
                        code = convert.main(args)
                    except BaseException as e:
                        code = repr(e)[:300]  # one line, even for a multi-line error
                seconds = time.monotonic() - start
                left = [f for f in os.listdir(work) if f.endswith((".tmp", ".safetensors"))]
                message = errors.getvalue().strip().replace("\\n", "\\\\n")
                print("\\t".join(["case", name, str(code), "%.2f" % seconds, ",".join(left), message]))
            """;

    @TempDir
    Path dir;

    record Run(int code, String output) {
    }

    private Run convert(String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of(ReferenceFixtures.python(),
                "weights-converter/convert.py"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Run(p.waitFor(), out);
    }

    private void assertRefused(Run run, String message) {
        assertThat(run.code()).as(run.output()).isEqualTo(2);
        assertThat(run.output().strip()).startsWith("convert.py: error: ").contains(message).doesNotContain("\n")
                .doesNotContain("Traceback");
    }

    @Test
    void refusesWhatIsNotASupportedModel() throws Exception {
        Path out = dir.resolve("out.safetensors");
        Path linear = dir.resolve("linear.pth");
        ReferenceFixtures.exec(List.of(ReferenceFixtures.python(), "-c",
                "import torch; torch.save(torch.nn.Linear(3, 2).state_dict(), '" + linear + "')"));
        assertRefused(convert(linear.toString(), out.toString()), "not a BagNet, ResNet, VGG or DenseNet checkpoint");
        // Architectures of other kinds, by the names and shapes of their tensors, before any weight is used.
        for (String[] model : new String[][] {
            {"resnext50_32x4d", "a ResNeXt (grouped convolutions"},
            {"mobilenet_v2", "it looks like a MobileNet"}}) {
            Path file = dir.resolve(model[0] + ".pth");
            ReferenceFixtures.exec(List.of(ReferenceFixtures.python(), "-c", "import torch, torchvision; "
                    + "torch.save(torchvision.models." + model[0] + "().state_dict(), '" + file + "')"));
            assertRefused(convert(file.toString(), out.toString()), model[1]);
        }
        Path vit = dir.resolve("vit.pth"); // a ViT's names and shapes, without its 86 million weights
        ReferenceFixtures.exec(List.of(ReferenceFixtures.python(), "-c", "import torch; torch.save({"
                + "'class_token': torch.zeros(1, 1, 768), 'conv_proj.weight': torch.zeros(768, 3, 16, 16), "
                + "'heads.head.weight': torch.zeros(1000, 768)}, '" + vit + "')"));
        assertRefused(convert(vit.toString(), out.toString()), "it looks like a Vision Transformer (ViT)");
        Path broken = dir.resolve("resnet18_broken.pth");
        ReferenceFixtures.exec(List.of(ReferenceFixtures.python(), "-c", "import torch, torchvision; "
                + "s = torchvision.models.resnet18().state_dict(); del s['layer3.1.conv2.weight']; "
                + "s['fc.weight'] = torch.zeros(1000, 256); torch.save(s, '" + broken + "')"));
        assertRefused(convert(broken.toString(), out.toString()), "missing tensor 'layer3.1.conv2.weight'");

        Path text = dir.resolve("notes.pth");
        Files.writeString(text, "hello");
        assertRefused(convert(text.toString(), out.toString()), "cannot read");
        assertRefused(convert(dir.resolve("absent.pth").toString(), out.toString()), "checkpoint not found");

        String bagnet9 = ReferenceFixtures.file("bagnet9.pth.tar").toString();
        assertRefused(convert(bagnet9, out.toString(), "--arch", "bagnet33"),
                "tensor 'layer3.0.conv2.weight' has shape [256, 256, 1, 1], a bagnet33 needs [256, 256, 3, 3]");
        assertRefused(convert(bagnet9, out.toString(), "--strides", "2,2"), "--strides has 2 entries");
        assertThat(Files.exists(out)).isFalse();
    }

    @Test
    void labelsFromAFileOverrideTheDefault() throws Exception {
        Path labels = Files.writeString(dir.resolve("labels.txt"),
                "zero\none\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine, or ten\n");
        Path out = dir.resolve("tiny.safetensors");
        Run run = convert(ReferenceFixtures.file("tiny.pth.tar").toString(), out.toString(), "--labels",
                labels.toString());
        assertThat(run.code()).as(run.output()).isZero();
        org.bagnet4j.BagNet model = org.bagnet4j.BagNet.load(out);
        assertThat(model.labels().name(9)).isEqualTo("nine, or ten");
        assertThat(model.labels().indexOf("three")).isEqualTo(3);
        // Without --labels, a model of other than 1000 classes names them "class N" (README).
        assertThat(org.bagnet4j.BagNet.load(ReferenceFixtures.model("tiny")).labels().name(9)).isEqualTo("class 9");
        Path short3 = Files.writeString(dir.resolve("three.txt"), "a\nb\nc\n");
        assertRefused(convert(ReferenceFixtures.file("tiny.pth.tar").toString(), out.toString(), "--labels",
                short3.toString()), "has 3 labels but the model has 10 classes");
    }

    /**
     * A Python without PyTorch gets one line naming the packages and the interpreter (-S hides Debian's packages),
     * and PyTorch's advice to load a refused file unsafely is never passed on.
     */
    @Test
    void missingPackagesAndUnsafeAdviceAreOneLineOfHelp() throws Exception {
        Process p = new ProcessBuilder(ReferenceFixtures.python(), "-S", "weights-converter/convert.py", "a.pth",
                dir.resolve("b.safetensors").toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertRefused(new Run(p.waitFor(), out), "has no module 'numpy'; install Debian's python3-torch, "
                + "python3-numpy and python3-torchvision");
        assertThat(out).contains("run convert.py with /usr/bin/python3");
        String refusal = ReferenceFixtures.exec(List.of(ReferenceFixtures.python(), "-c", "import sys; "
                + "sys.path.insert(0, 'weights-converter'); import convert; print(convert.torch_refusal(RuntimeError("
                + "'Weights only load failed. Retry with weights_only=False if you trust the source')))"));
        assertThat(refusal).startsWith("PyTorch's safe loader refused it").doesNotContain("weights_only=False");
    }

    @Test
    void infersPresetsFromShapes() throws Exception {
        Path out = dir.resolve("b9.safetensors");
        Run run = convert(ReferenceFixtures.file("bagnet9.pth.tar").toString(), out.toString());
        assertThat(run.code()).as(run.output()).isZero();
        try (ModelFile f = ModelFile.open(out)) {
            assertThat(f.architecture()).isEqualTo(org.bagnet4j.BagNetConfig.bagnet9());
        }
    }

    /**
     * A narrow wide ResNet (stem and layer1 16 wide, 128 per group, as torchvision's classes build it): both
     * converters read the base width off conv1.weight, and convert.py width_per_group off layer1.0.conv1.weight.
     */
    @Test
    void infersANarrowResNetsBaseWidth() throws Exception {
        Path checkpoint = dir.resolve("narrow.pth");
        ReferenceFixtures.exec(List.of(ReferenceFixtures.python(), "-c", """
                import sys
                import torch
                from torch import nn
                from torchvision.models import resnet
                m = resnet.ResNet(resnet.Bottleneck, [3, 4, 6, 3], num_classes=10, width_per_group=128)
                m.conv1, m.bn1, m.inplanes = nn.Conv2d(1, 16, 7, 2, 3, bias=False), nn.BatchNorm2d(16), 16
                for s, blocks in enumerate([3, 4, 6, 3]):
                    setattr(m, "layer%d" % (s + 1), m._make_layer(resnet.Bottleneck, 16 << s, blocks, min(s, 1) + 1))
                m.fc = nn.Linear(512, 10)
                torch.save(m.state_dict(), sys.argv[1])
                """, checkpoint.toString()));
        Path out = dir.resolve("narrow.safetensors");
        Run run = convert(checkpoint.toString(), out.toString());
        assertThat(run.code()).as(run.output()).isZero();
        ResNetConfig narrow = new ResNetConfig("custom", 1, true, List.of(3, 4, 6, 3), 128, 16, 10);
        try (ModelFile f = ModelFile.open(out)) {
            assertThat(f.architecture()).isEqualTo(narrow);
        }
        try (CheckpointConverter.Converted c = CheckpointConverter.convert(checkpoint, null, null)) {
            // bagnet4j's converter adapts a preset, and keeps its name as it does for other input channels
            assertThat(c.architecture()).isEqualTo(new ResNetConfig("wide_resnet50_2", 1, true, List.of(3, 4, 6, 3),
                    128, 16, 10));
        }
    }

    @Test
    void refusesTorchScriptArchivesWithoutRunningThem() throws Exception {
        Path script = Files.writeString(dir.resolve("torchscript.py"), TORCHSCRIPT_WITH_MARKER);
        Path archive = dir.resolve("scripted.pt");
        Path marker = dir.resolve("marker");
        ReferenceFixtures.exec(List.of(ReferenceFixtures.python(), script.toString(), archive.toString(),
                marker.toString()));
        assertThat(marker).doesNotExist();

        assertRefused(convert(archive.toString(), dir.resolve("out.safetensors").toString()), "TorchScript archive");
        assertThat(marker).doesNotExist();
        // torch.load itself hands the archive to torch.jit.load, which runs its code.
        ReferenceFixtures.exec(List.of(ReferenceFixtures.python(), "-c", "import sys, torch; torch.load(sys.argv[1])",
                archive.toString()));
        assertThat(marker).exists();
    }

    @Test
    void refusesPicklesThatCallOtherFunctionsWithoutCallingThem() throws Exception {
        Path checkpoint = dir.resolve("system.pth");
        Path marker = dir.resolve("marker");
        ReferenceFixtures.exec(List.of(ReferenceFixtures.python(), "-c", PICKLE_WITH_MARKER, checkpoint.toString(),
                marker.toString()));

        assertRefused(convert(checkpoint.toString(), dir.resolve("out.safetensors").toString()),
                "pickle uses the forbidden global posix.system");
        assertThat(marker).doesNotExist();
        ReferenceFixtures.exec(List.of(ReferenceFixtures.python(), "-c",
                "import sys, torch; torch.load(sys.argv[1], weights_only=False)", checkpoint.toString()));
        assertThat(marker).exists();
    }

    @Test
    void refusesHostileCheckpointsQuicklyLeavingNoFile() throws Exception {
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("conv1_1d", "tensor 'conv1.weight' has shape [8], a BagNet needs 4 dimensions");
        expected.put("conv1_0d", "tensor 'conv1.weight' has shape [], a BagNet needs 4 dimensions");
        expected.put("int_key", "has a tensor under 7, not under a name");
        expected.put("layer5", "no tensor 'layer5.0.conv1.weight'");
        expected.put("layer1_x", "unexpected tensor 'layer1.x.y'");
        expected.put("block_1000000", "blocks of layer1 are not numbered 0..N without gaps");
        expected.put("sparse", "pickle uses the forbidden global torch._utils._rebuild_sparse_tensor");
        expected.put("int_weight", "tensor 'fc.weight' has dtype torch.int32, not floating point");
        expected.put("stride0", "repeats its elements (stride 0)");
        expected.put("nan", "tensor 'fc.weight' has non-finite values");
        expected.put("shared", "its tensors share storage");
        expected.put("deflated", "zip entry 'data/0' is compressed");
        expected.put("extra_entry", "unexpected zip entry 'tiny_zip.pth/extra/x'");
        expected.put("storage_claim", "storage '0' declares 4000000000 bytes but its zip entry holds 16");
        expected.put("view_outside", "a tensor of size [10, 64] at offset 0 reaches past its storage '0' of 4");
        expected.put("truncated", "runs past the end of the file");
        expected.put("stride_17", "strides[3] = 17 is outside [1, 16]");
        expected.put("labels_latin1", "are not UTF-8 text");
        expected.put("missing_folder", "does not exist");
        expected.put("folder_output", "is a folder");

        Path driver = Files.writeString(dir.resolve("hostile.py"), HOSTILE_CHECKPOINTS);
        Path work = Files.createDirectory(dir.resolve("hostile"));
        String report = ReferenceFixtures.exec(List.of(ReferenceFixtures.python(), driver.toString(), work.toString(),
                ReferenceFixtures.file("tiny.pth.tar").toString(),
                ReferenceFixtures.file("tiny_zip.pth.tar").toString()));
        Map<String, String[]> results = new LinkedHashMap<>();
        report.lines().filter(line -> line.startsWith("case\t")).map(line -> line.split("\t", -1))
                .forEach(fields -> results.put(fields[1], fields));
        assertThat(results.keySet()).as(report).containsExactlyElementsOf(expected.keySet());
        SoftAssertions.assertSoftly(softly -> expected.forEach((name, message) -> {
            String[] result = results.get(name);
            softly.assertThat(result[2]).as(name + ": exit code (" + result[5] + ")").isEqualTo("2");
            softly.assertThat(result[5]).as(name).startsWith("convert.py: error: ").contains(message)
                    .doesNotContain("\\n").doesNotContain("Traceback");
            softly.assertThat(Double.parseDouble(result[3])).as(name + ": seconds").isLessThan(20);
            softly.assertThat(result[4]).as(name + ": files left behind").isEmpty();
        }));
    }
}
