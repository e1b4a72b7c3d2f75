package io.clonefs.compare;

/** The ways of copying a PostgreSQL database that the comparison measures, in table order. */
public enum Method {
    CLONEFS_BRANCH("clonefs branch", "no: snapshot of the running source (crash-consistent; the branch replays WAL)",
            "yes: one command, `clonefs pg branch SOURCE NEW`"),
    CLONEFS_CLONE("clonefs clone (filesystem only)", "no: the running source is snapshotted in an instant",
            "yes: one command, `clonefs clone SOURCE NEW`"),
    DUMP_RESTORE("pg_dump | pg_restore", "no: pg_dump reads an MVCC snapshot while the source runs (DDL waits)",
            "yes: `pg_dump -Fc`, `createdb`, `pg_restore -j 2`"),
    TEMPLATE("CREATE DATABASE … TEMPLATE", "yes: no other session may be connected to the source database during the copy",
            "yes: one SQL statement (fails if anyone is connected to the source)"),
    BASEBACKUP("pg_basebackup + start", "no: online physical backup (forces a checkpoint on the source)",
            "yes: `pg_basebackup -X stream`, then `pg_ctl start` on another port");

    private final String title;
    private final String downtime;
    private final String scriptable;

    Method(String title, String downtime, String scriptable) {
        this.title = title;
        this.downtime = downtime;
        this.scriptable = scriptable;
    }

    /** The name in charts and on the terminal. */
    public String title() {
        return title;
    }

    /** The name in a Markdown table cell ({@code |} escaped). */
    public String markdownTitle() {
        return title.replace("|", "\\|");
    }

    public String downtime() {
        return downtime;
    }

    public String scriptable() {
        return scriptable;
    }

    /** True for the methods that copy every byte (their simultaneous copies may be extrapolated at large sizes). */
    public boolean fullCopy() {
        return this == DUMP_RESTORE || this == TEMPLATE || this == BASEBACKUP;
    }

    /** True when the method yields a running database on which pgbench can be measured. */
    public boolean hasServer() {
        return this != CLONEFS_CLONE;
    }
}
