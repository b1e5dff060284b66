package org.bagnet4j.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;

import org.bagnet4j.BagNetException;
import org.bagnet4j.ReferenceFixtures;
import org.bagnet4j.RequiresReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutants of real checkpoints in both formats (bit flips, bytes set to extremes, 4- and 8-byte fields set to huge
 * or negative values, truncations, spliced repeats): each reads, or fails with one BagNetException line; never
 * another exception, an OutOfMemoryError or a hang (3 minutes for all). Deterministic seeds.
 */
@RequiresReference
class CheckpointMutationTest {
    private static final int MUTANTS = 1500;

    @TempDir
    Path dir;

    @Test
    void mutantsReadOrFailInOneLine() {
        assertTimeoutPreemptively(Duration.ofMinutes(3), this::mutateAll);
    }

    private void mutateAll() throws IOException {
        for (String source : new String[] {"zip-state_dict.pth", "legacy-state_dict.pth", "legacy-views.pth"}) {
            byte[] original = Files.readAllBytes(ReferenceFixtures.checkpoints().resolve(source));
            Random random = new Random(source.hashCode());
            Path mutant = dir.resolve("mutant.pth");
            int refused = 0;
            for (int i = 0; i < MUTANTS; i++) {
                byte[] bytes = mutate(original, random);
                Files.write(mutant, bytes);
                try {
                    TorchCheckpoint.read(mutant);
                } catch (BagNetException e) {
                    assertThat(e.getMessage()).as(source + " mutant " + i).doesNotContain("\n")
                            .startsWith("mutant.pth: ");
                    refused++;
                } catch (RuntimeException | Error e) {
                    Files.write(dir.resolve("failing.pth"), bytes);
                    fail(source + " mutant " + i + " threw " + e, e);
                }
            }
            assertThat(refused).as(source + ": mutants refused").isGreaterThan(MUTANTS / 10);
        }
    }

    private static byte[] mutate(byte[] original, Random random) {
        byte[] b = original.clone();
        int at = random.nextInt(b.length);
        switch (random.nextInt(6)) {
            case 0 -> b[at] ^= (byte) (1 << random.nextInt(8));
            case 1 -> b[at] = (byte) (random.nextBoolean() ? 0xff : 0x00);
            case 2 -> {
                if (at + 4 <= b.length) {
                    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(at, random.nextBoolean()
                            ? Integer.MAX_VALUE : -1 - random.nextInt(1000));
                }
            }
            case 3 -> {
                if (at + 8 <= b.length) {
                    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(at, random.nextBoolean()
                            ? Long.MAX_VALUE >> random.nextInt(40) : -1);
                }
            }
            case 4 -> b = Arrays.copyOf(b, at);
            default -> {
                int length = Math.min(b.length - at, 1 + random.nextInt(64));
                byte[] longer = Arrays.copyOf(b, b.length + length);
                System.arraycopy(b, at, longer, at + length, b.length - at);
                b = longer;
            }
        }
        return b;
    }
}
