package io.clonefs.cli.common;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** Printing of results: JSON with {@code --json}, else aligned human text. */
public final class Output {
    private Output() {
    }

    /** Made on first use: {@link #table} neither starts nor links Jackson. */
    private static final class Mapper {
        static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

        static String write(Object value) {
            try {
                return JSON.writeValueAsString(value);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    public static void json(PrintWriter out, Object value) {
        out.println(Mapper.write(value));
        out.flush();
    }

    /** Prints rows as left-aligned columns separated by two spaces. */
    public static void table(PrintWriter out, List<String[]> rows) {
        if (rows.isEmpty()) {
            return;
        }
        int cols = rows.get(0).length;
        int[] w = new int[cols];
        for (String[] r : rows) {
            for (int i = 0; i < cols; i++) {
                w[i] = Math.max(w[i], r[i].length());
            }
        }
        for (String[] r : rows) {
            List<String> cells = new ArrayList<>();
            for (int i = 0; i < cols; i++) {
                cells.add(i == cols - 1 ? r[i] : String.format("%-" + w[i] + "s", r[i]));
            }
            out.println(String.join("  ", cells).stripTrailing());
        }
        out.flush();
    }
}
