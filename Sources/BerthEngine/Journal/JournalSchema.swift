internal import CSQLite

/// Columns added to the journal after its first release, added in place to an older file
/// when it is opened (SQLite's `ALTER TABLE … ADD COLUMN` rewrites nothing).
enum JournalSchema {
    /// `syncs.actor`: who ran a sync by hand (`user@host`). Whether the column is there
    /// afterwards: a journal SQLite opened read-only (another user's file) keeps its old
    /// shape, and is then read without actors.
    static func addActor(_ connection: Connection) -> Bool {
        var columns: [String] = []
        try? connection.query("PRAGMA table_info(syncs)", []) { row in columns.append(row.text(1)) }
        if columns.contains("actor") { return true }
        guard !columns.isEmpty else { return false }
        return (try? connection.execute("ALTER TABLE syncs ADD COLUMN actor TEXT")) != nil
    }
}
