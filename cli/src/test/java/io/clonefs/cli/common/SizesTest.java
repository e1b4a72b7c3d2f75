package io.clonefs.cli.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.clonefs.base.ClonefsException;
import org.junit.jupiter.api.Test;

class SizesTest {
    @Test
    void parsesBinarySuffixesInAnyCase() {
        assertEquals(8192, Sizes.parse("8K"));
        assertEquals(65536, Sizes.parse("64k"));
        assertEquals(8192, Sizes.parse("8192"));
        assertEquals(1 << 20, Sizes.parse("1M"));
        assertEquals(1 << 20, Sizes.parse("1MiB"));
        assertEquals(4096, Sizes.parse("4kb"));
        assertEquals(1L << 30, Sizes.parse("1g"));
    }

    @Test
    void refusesGarbage() {
        assertThrows(ClonefsException.InvalidArgument.class, () -> Sizes.parse("8Q"));
        assertThrows(ClonefsException.InvalidArgument.class, () -> Sizes.parse(""));
        assertThrows(ClonefsException.InvalidArgument.class, () -> Sizes.parse("-8K"));
        assertThrows(ClonefsException.InvalidArgument.class, () -> Sizes.parse("99999999999999999999"));
        assertThrows(ClonefsException.InvalidArgument.class, () -> Sizes.parse("9999999999999T"));
    }

    @Test
    void formatsHumanUnits() {
        assertEquals("0 B", Sizes.format(0));
        assertEquals("1023 B", Sizes.format(1023));
        assertEquals("8 KiB", Sizes.format(8192));
        assertEquals("1.5 MiB", Sizes.format(3L << 19));
        assertEquals("120 GiB", Sizes.format(120L << 30));
    }
}
