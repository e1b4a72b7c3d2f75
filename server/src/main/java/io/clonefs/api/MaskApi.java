package io.clonefs.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * The bodies of {@code POST /v1/pg/mask}: what to mask, and the report. Shared by the daemon and
 * its clients ({@code MaskReports} in the CLI renders the report).
 */
public final class MaskApi {
    private MaskApi() {
    }

    /**
     * A masked copy of {@code source} to make as the server {@code into}.
     *
     * @param source    the server to branch (not touched but for the branch's CHECKPOINT)
     * @param rules     the rules file's text: {@code [schema.]table.column = SQL expression} lines,
     *                  then optionally a {@code [sql]} line and free SQL
     * @param rulesName how the rules are named in errors and the report (the file's name)
     * @param into      the new server's name; must not exist
     * @param database  the database the rules apply to (default postgres)
     * @param verify    search the masked snapshot's files for sampled original values (default true)
     * @param samples   original values sampled per column for the search (default 1000, 1..100000)
     * @param rewrite   rewrite the tables the mask changed (default true; false only to show what
     *                  {@code verify} catches: the old row versions stay in the files)
     * @param keepWal   keep the WAL written before the mask (default false; true only to show what
     *                  {@code verify} catches: the WAL holds the original rows)
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record MaskRequest(String source, String rules, String rulesName, String into, String database,
                              Boolean verify, Integer samples, Boolean rewrite, Boolean keepWal) {
    }

    /** One masked table: its rules' columns, the rows the UPDATE changed, its size before and after. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Table(String name, List<String> columns, long rowsUpdated, boolean rewritten, Long bytesBefore,
                        Long bytesAfter) {
    }

    /** A column whose original values were not searched for, and why. */
    public record Unsearched(String column, String reason) {
    }

    /** An original value found in the masked snapshot (the value itself is never reported). */
    public record Hit(String column, String file, long offset) {
    }

    /**
     * What {@code verify} did.
     *
     * @param values       distinct original values searched for
     * @param columns      the columns they were sampled from
     * @param keptByRules  sampled values left out because the masked data holds them too (a rule
     *                     kept or reused them: they are not secret)
     * @param unsearched   columns not searched, with the reason (binary types, no value long enough)
     * @param files        files of the snapshot read
     * @param bytes        bytes read
     * @param hits         the first hits (at most 20); {@code hitCount} counts them all
     */
    public record Verify(int values, List<String> columns, int keptByRules, List<Unsearched> unsearched, long files,
                         long bytes, long millis, long hitCount, List<Hit> hits) {
    }

    /** Where the time went, in milliseconds. */
    public record Timings(long branch, long sample, long mask, long rewrite, long stop, long snapshot, long verify,
                          long total) {
    }

    /**
     * The report.
     *
     * @param verdict     {@code masked}: the snapshot is marked masked; {@code failed}: original
     *                    values were found and nothing was kept
     * @param snapshot    the masked snapshot ({@code into@masked-TIME}); null when failed
     * @param statements  free SQL statements run
     * @param rewritten   every relation rewritten, the masked tables and those the free SQL changed,
     *                    and the statistics catalogs
     * @param walRemoved  bytes of WAL removed (segments written before and during the mask)
     * @param logsEmptied server logs emptied (the branch's, and log files inside its data directory)
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Report(String source, String into, String database, String rules, String verdict, String snapshot,
                         String uri, List<Table> tables, int statements, List<String> rewritten, long walRemoved,
                         List<String> logsEmptied, Verify verify, Timings millis) {
    }
}
