package io.clonefs.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.clonefs.api.Api;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class SpaceHistoryTest {
    @Test
    void keepsTheNewestDaysSamplesAndAddsOneTakenNow() {
        AtomicLong used = new AtomicLong();
        SpaceHistory h = new SpaceHistory(() -> new Api.Space(4096, used.get(), 1000 - used.get(), 0, 0, 0, used.get() / 2));
        assertEquals(List.of(0L), h.history().samples().stream().map(Api.SpaceSample::usedBytes).toList());
        for (int i = 1; i <= SpaceHistory.CAPACITY + 5; i++) {
            used.set(i);
            h.sample();
        }
        used.set(9999);
        List<Api.SpaceSample> s = h.history().samples();
        assertEquals(SpaceHistory.CAPACITY + 1, s.size());
        assertEquals(6, s.get(0).usedBytes(), "the oldest five went");
        assertEquals(SpaceHistory.CAPACITY + 5, s.get(SpaceHistory.CAPACITY - 1).usedBytes());
        assertEquals(9999, s.get(SpaceHistory.CAPACITY).usedBytes(), "the last one is taken at the request");
        assertEquals(4999, s.get(SpaceHistory.CAPACITY).reclaimBacklog());
        assertEquals(1000 - 9999, s.get(SpaceHistory.CAPACITY).freeBytes());
    }
}
