package org.bagnet4j.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.api.Test;

class WorkersTest {
    @Test
    void everyIterationRunsExactlyOnceOverManyLoops() {
        Workers workers = new Workers(3);
        for (int count : new int[] {0, 1, 2, 3, 17, 1000}) {
            for (int repeat = 0; repeat < 50; repeat++) {
                AtomicIntegerArray runs = new AtomicIntegerArray(count);
                workers.parallelFor(count, runs::incrementAndGet);
                for (int i = 0; i < count; i++) {
                    assertThat(runs.get(i)).as("iteration %d of %d", i, count).isEqualTo(1);
                }
            }
        }
    }

    @Test
    void helpersTakePart() {
        assertThat(threadsTakingPart(new Workers(2))).hasSize(2);
    }

    @Test
    void helpersThatEndedWhenIdleStartAgain() throws InterruptedException {
        Workers workers = new Workers(2, 1_000_000);
        for (int round = 0; round < 3; round++) {
            assertThat(threadsTakingPart(workers)).as("round %d", round).hasSize(2);
            Thread.sleep(50);
        }
    }

    /** The threads seen running iterations of loops of busy work, until all of them were seen (at most 100 loops). */
    private static Set<Thread> threadsTakingPart(Workers workers) {
        Set<Thread> threads = ConcurrentHashMap.newKeySet();
        for (int repeat = 0; repeat < 100 && threads.size() < workers.threads(); repeat++) {
            workers.parallelFor(64, i -> {
                threads.add(Thread.currentThread());
                long until = System.nanoTime() + 50_000;
                while (System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
            });
        }
        return threads;
    }

    @Test
    void aFailingIterationIsRethrownAndTheWorkersStayUsable() {
        Workers workers = new Workers(2);
        assertThatThrownBy(() -> workers.parallelFor(100, i -> {
            if (i == 37) {
                throw new IllegalArgumentException("iteration 37");
            }
        })).isInstanceOf(IllegalArgumentException.class).hasMessage("iteration 37");
        AtomicIntegerArray runs = new AtomicIntegerArray(10);
        workers.parallelFor(10, runs::incrementAndGet);
        for (int i = 0; i < 10; i++) {
            assertThat(runs.get(i)).isEqualTo(1);
        }
    }

    @Test
    void nestedAndConcurrentLoopsRunOnTheirCallersThread() throws InterruptedException {
        Workers workers = new Workers(2);
        AtomicIntegerArray runs = new AtomicIntegerArray(8 * 8);
        workers.parallelFor(8, outer -> workers.parallelFor(8, inner -> runs.incrementAndGet(outer * 8 + inner)));
        for (int i = 0; i < runs.length(); i++) {
            assertThat(runs.get(i)).isEqualTo(1);
        }
        AtomicIntegerArray shared = new AtomicIntegerArray(4 * 500);
        Thread[] callers = new Thread[4];
        for (int c = 0; c < callers.length; c++) {
            int caller = c;
            callers[c] = new Thread(() -> {
                for (int repeat = 0; repeat < 20; repeat++) {
                    boolean first = repeat == 0;
                    workers.parallelFor(500, i -> {
                        if (first) {
                            shared.incrementAndGet(caller * 500 + i);
                        }
                    });
                }
            });
            callers[c].start();
        }
        for (Thread caller : callers) {
            caller.join();
        }
        for (int i = 0; i < shared.length(); i++) {
            assertThat(shared.get(i)).isEqualTo(1);
        }
    }
}
