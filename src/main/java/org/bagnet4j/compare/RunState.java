package org.bagnet4j.compare;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

import org.bagnet4j.BagNetException;

/**
 * A comparison's running sums, summed in image order, and how far it has come: saved as it goes, so that a run
 * stopped half-way continues where it stopped and gives the numbers, to the bit, that one uninterrupted run gives.
 */
final class RunState {
    private static final String MAGIC = "bagnet4j compare state 1";
    private static final int MAX_SKIPPED_LISTED = 1000;
    final Shuffling.Tally[] shuffling;
    final Interactions.Tally[] interactions;
    final Errors.Tally errors;
    final Sensitivity.Tally[] sensitivity;
    final List<String> skipped = new ArrayList<>();
    /** Images skipped, including those past the ones {@link #skipped} lists. */
    int skippedCount;
    final double[] seconds = new double[Comparison.Result.MEASUREMENTS.size()];
    int measured;
    /** The first image not yet summed. */
    int next;

    RunState(Shuffling.Tally[] shuffling, Interactions.Tally[] interactions, Errors.Tally errors,
            Sensitivity.Tally[] sensitivity) {
        this.shuffling = shuffling;
        this.interactions = interactions;
        this.errors = errors;
        this.sensitivity = sensitivity;
    }

    void add(Comparison.ImageResult r) {
        next++;
        if (r.failure() != null) {
            if (skipped.size() < MAX_SKIPPED_LISTED) {
                skipped.add(r.failure());
            }
            skippedCount++;
            return;
        }
        measured++;
        errors.add(r.label(), r.clean());
        for (int m = 0; m < shuffling.length; m++) {
            shuffling[m].add(r.label(), Scores.argmax(r.clean()[m]), r.shuffleTops()[m]);
            interactions[m].add(r.effects()[m]);
        }
        for (int t = 0; t < sensitivity.length; t++) {
            sensitivity[t].add(r.curves()[t]);
        }
        for (int s = 0; s < seconds.length; s++) {
            seconds[s] += r.seconds()[s];
        }
    }

    private void visit(Sums sums) {
        for (Shuffling.Tally t : shuffling) {
            t.visit(sums);
        }
        for (Interactions.Tally t : interactions) {
            t.visit(sums);
        }
        errors.visit(sums);
        for (Sensitivity.Tally t : sensitivity) {
            t.visit(sums);
        }
        sums.doubles(seconds);
    }

    /** Writes the state to {@code file} (through a temporary file, so that a crash leaves the last one whole). */
    void save(Path file, String fingerprint) {
        Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
        CRC32 crc = new CRC32();
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(new CheckedOutputStream(
                Files.newOutputStream(temporary), crc)))) {
            out.writeUTF(MAGIC);
            out.writeUTF(fingerprint);
            out.writeInt(next);
            out.writeInt(measured);
            out.writeInt(skippedCount);
            out.writeInt(skipped.size());
            for (String s : skipped) {
                out.writeUTF(s.length() > 2000 ? s.substring(0, 2000) : s);
            }
            visit(new Writer(out));
            out.flush();
            out.writeLong(crc.getValue()); // the bytes before it, so that a damaged file is never continued
        } catch (IOException | UncheckedIOException e) {
            throw new BagNetException("cannot save the comparison's progress to " + file + ": " + e.getMessage());
        }
        try {
            Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            try {
                Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException again) {
                throw new BagNetException("cannot save the comparison's progress to " + file + ": "
                        + BagNetException.reason(again));
            }
        } catch (IOException e) {
            throw new BagNetException("cannot save the comparison's progress to " + file + ": "
                    + BagNetException.reason(e));
        }
    }

    /**
     * The state {@link #save} wrote for the same comparison ({@code fingerprint}) of {@code images} images, read
     * into a {@code fresh} one; null when there is none, or it is another comparison's, or it is damaged.
     */
    static RunState resume(Supplier<RunState> fresh, Path file, String fingerprint, int images) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        RunState state = fresh.get();
        CRC32 crc = new CRC32();
        // The checksum sees the bytes as they are consumed, not as a buffer reads ahead: it wraps the buffer.
        try (DataInputStream in = new DataInputStream(new CheckedInputStream(new BufferedInputStream(
                Files.newInputStream(file)), crc))) {
            if (!in.readUTF().equals(MAGIC) || !in.readUTF().equals(fingerprint)) {
                return null;
            }
            state.next = in.readInt();
            state.measured = in.readInt();
            state.skippedCount = in.readInt();
            int listed = in.readInt();
            if (state.next < 0 || state.next > images || state.measured < 0 || state.skippedCount < 0
                    || state.measured + state.skippedCount != state.next || listed < 0
                    || listed != Math.min(state.skippedCount, MAX_SKIPPED_LISTED)) {
                return null;
            }
            for (int i = 0; i < listed; i++) {
                state.skipped.add(in.readUTF());
            }
            state.visit(new Reader(in));
            long sum = crc.getValue();
            boolean whole = in.readLong() == sum && in.read() == -1;
            return whole && state.errors.images() == state.measured ? state : null;
        } catch (IOException | UncheckedIOException e) {
            return null;
        }
    }

    private record Writer(DataOutputStream out) implements Sums {
        @Override
        public void longs(long[] values) {
            try {
                for (long v : values) {
                    out.writeLong(v);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void doubles(double[] values) {
            try {
                for (double v : values) {
                    out.writeDouble(v);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Reads into the arrays in place: their lengths come from this run's tallies, never from the file. */
    private record Reader(DataInputStream in) implements Sums {
        @Override
        public void longs(long[] values) {
            try {
                for (int i = 0; i < values.length; i++) {
                    values[i] = in.readLong();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void doubles(double[] values) {
            try {
                for (int i = 0; i < values.length; i++) {
                    values[i] = in.readDouble();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
