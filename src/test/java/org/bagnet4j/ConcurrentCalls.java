package org.bagnet4j;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

import org.bagnet4j.explain.Patch;
import org.bagnet4j.tensor.Tensor;

/**
 * Many threads on one model at once, in a JVM of its own (run with a small heap, so that calls fall back to tile
 * by tile evaluation depending on what else runs): scores, grids, streamed passes with patches, image files, calls
 * that must fail and callers that are interrupted, each result compared to the bit with the one the same call gave
 * alone (an interrupted caller gets its answer, or when it reads a file, an error saying it was interrupted). Prints
 * the digest of the results and a summary line; exits with 1 on any difference or unexpected failure.
 *
 * <p>Arguments: the number of threads, the calls per thread, then image files to classify.
 */
public final class ConcurrentCalls {
    /** bagnet33's geometry at a sixth of its widths, Winograd on its last 3x3: small enough for a small heap. */
    static final BagNetConfig CONFIG = new BagNetConfig("probe", 3, 16, List.of(16, 32, 64, 64), List.of(1, 1, 1, 2),
            List.of(2, 2, 2, 1), List.of(1, 1, 1, 1), 50);
    static final int[] CLASSES = {0, 7, 49};

    private ConcurrentCalls() {
    }

    /** The model every run builds: the same weights in this JVM and in the test's. */
    static BagNet model() {
        return BagNet.withRandomWeights(CONFIG, 7, 2);
    }

    /** Inputs of sizes whose grids need padding to the tile alignment, and one that needs none. */
    static List<Tensor> inputs() {
        return List.of(BagNetTest.randomImages(1, 1, 160, 160, 3), BagNetTest.randomImages(2, 1, 57, 57, 3),
                BagNetTest.randomImages(3, 1, 97, 131, 3));
    }

    /** What one call gives: every number of its result, in order. */
    interface Call {
        float[] run(BagNet model);
    }

    /** The calls the threads make, each of which has one right answer. */
    static List<Call> calls(List<Tensor> inputs, List<Path> files) {
        List<Call> calls = new ArrayList<>();
        for (Tensor x : inputs) {
            calls.add(m -> m.classScores(x)[0]);
            calls.add(m -> m.patchLogits(x, CLASSES).data());
            calls.add(m -> {
                StreamResult r = m.stream(x, new StreamRequest().classes(CLASSES).topPatches(3).bottomPatches(2));
                List<Float> values = new ArrayList<>();
                r.top().forEach(list -> list.forEach(p -> values.add(p.value())));
                r.bottom().forEach(list -> list.stream().map(Patch::value).forEach(values::add));
                float[] out = Arrays.copyOf(r.scores(), r.scores().length + values.size());
                for (int i = 0; i < values.size(); i++) {
                    out[r.scores().length + i] = values.get(i);
                }
                return out;
            });
        }
        for (Path file : files) {
            calls.add(m -> {
                List<Prediction> top = m.classify(file, 5);
                float[] out = new float[top.size() * 2];
                for (int i = 0; i < top.size(); i++) {
                    out[2 * i] = top.get(i).index();
                    out[2 * i + 1] = top.get(i).logit();
                }
                return out;
            });
        }
        return calls;
    }

    /** SHA-256 of the answers' bits, in order. */
    static String digest(List<float[]> answers) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (float[] a : answers) {
            ByteBuffer bytes = ByteBuffer.allocate(4 * a.length);
            for (float v : a) {
                bytes.putInt(Float.floatToRawIntBits(v));
            }
            sha.update(bytes.array());
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    public static void main(String[] args) throws Exception {
        int threads = Integer.parseInt(args[0]);
        int rounds = Integer.parseInt(args[1]);
        List<Path> files = Arrays.stream(args).skip(2).map(Path::of).toList();
        BagNet model = model();
        List<Call> calls = calls(inputs(), files);
        List<float[]> alone = new ArrayList<>();
        for (Call c : calls) {
            alone.add(c.run(model));
        }
        System.out.println("digest " + digest(alone));

        AtomicInteger made = new AtomicInteger();
        AtomicInteger differing = new AtomicInteger();
        AtomicInteger refusedAsExpected = new AtomicInteger();
        AtomicInteger streamedNow = new AtomicInteger();
        List<String> unexpected = Collections.synchronizedList(new ArrayList<>());
        Tensor tooSmall = BagNetTest.randomImages(4, 1, 20, 20, 3);
        Tensor valid = inputs().getFirst();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            workers.add(Thread.ofPlatform().start(() -> {
                for (int round = 0; round < rounds; round++) {
                    int which = (id * 7 + round) % calls.size();
                    try {
                        if (id % 8 == 5) {
                            Thread.currentThread().interrupt(); // an interrupted caller still gets its answer
                        }
                        if (id % 8 == 3 && round % 2 == 0) {
                            expectRefusal(() -> {
                                if (id % 16 == 3) {
                                    model.classScores(tooSmall);
                                } else {
                                    model.patchLogits(valid, CONFIG.numClasses());
                                }
                            }, refusedAsExpected, unexpected);
                            continue;
                        }
                        if (!model.runsWhole(1, 160, 160)) {
                            streamedNow.incrementAndGet();
                        }
                        float[] answer = calls.get(which).run(model);
                        made.incrementAndGet();
                        if (!Arrays.equals(answer, alone.get(which))) {
                            differing.incrementAndGet();
                            unexpected.add("call " + which + " differs");
                        }
                        if (id % 8 == 5 && !Thread.interrupted()) {
                            unexpected.add("thread " + id + " lost its interrupt");
                        }
                    } catch (BagNetException e) {
                        if (id % 8 == 5 && e.getMessage().contains("interrupted") && Thread.interrupted()) {
                            refusedAsExpected.incrementAndGet(); // reading a file is cut short by an interrupt
                        } else {
                            unexpected.add("thread " + id + ", call " + which + ": " + e);
                        }
                    } catch (Throwable e) {
                        unexpected.add("thread " + id + ", call " + which + ": " + e);
                    }
                }
            }));
        }
        for (Thread w : workers) {
            w.join();
        }
        System.out.printf(Locale.ROOT, "calls %d, differing %d, refused as expected %d, calls that found the heap "
                + "too full for a whole 160x160 pass %d, unexpected %d%n", made.get(), differing.get(),
                refusedAsExpected.get(), streamedNow.get(), unexpected.size());
        unexpected.stream().limit(5).forEach(System.out::println);
        System.exit(differing.get() == 0 && unexpected.isEmpty() ? 0 : 1);
    }

    /** A failing call beside the others (too small an input, a class out of range): refused, and no more. */
    private static void expectRefusal(Runnable badCall, AtomicInteger refused, List<String> unexpected) {
        try {
            badCall.run();
            unexpected.add("a bad call succeeded");
        } catch (BagNetException e) {
            refused.incrementAndGet();
        }
    }
}
