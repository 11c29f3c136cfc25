internal import CSQLite
import Dispatch
import Foundation
public import Logging

/// A failed SQLite call, with what Berth was doing and SQLite's own message.
public struct JournalError: Error, Sendable, Hashable, CustomStringConvertible {
    public var operation: String
    public var path: String
    public var code: Int32
    public var message: String
    public var description: String {
        if isDamage {
            return "journal \(path) is damaged: \(operation) failed: \(message) (SQLite code \(code)); "
                + "berth watch moves a damaged journal aside and starts a new one when it opens it: restart berth watch"
        }
        if code & 0xFF == SQLITE_FULL {
            return "journal \(path): \(operation) failed: \(message) (SQLite code \(code)); free space on the disk that holds the state directory "
                + "(berth watch keeps the records it could not write in memory and writes them once it can)"
        }
        return "journal \(path): \(operation) failed: \(message) (SQLite code \(code)); check that the state directory is writable and not shared with another berth watch of the same project"
    }
}

/// The sync journal: an SQLite database in WAL mode, one row per sync in `syncs` and one per
/// plan step in `steps`. Writers are the reconcile loop; readers (`berth journal`, the API,
/// `berth history --applied`) may open the same file at the same time.
///
/// All SQLite calls run on the journal's own serial executor (a dedicated dispatch queue),
/// so blocking disk I/O never occupies the cooperative pool.
///
/// A damaged journal never stops the loop: the writer (`create: true`, what watch opens)
/// checks the file when it opens it, and any call that meets damage later moves it aside
/// (`JournalRecovery`), starts a new journal and tries once more; each such recovery is
/// logged at error level and kept in `recoveries`. Readers only say what is wrong.
public actor Journal {
    private let executor: QueueExecutor
    private var connection: Connection
    /// Whether `syncs.actor` exists (`JournalSchema.addActor`).
    private var hasActor: Bool
    public nonisolated let path: String
    private let create: Bool
    private let logger: Logger
    /// The damage found when the journal was opened (the file was moved aside), else nil.
    public nonisolated let damage: JournalDamage?
    /// Every damage this process found and recovered from, oldest first (`damage` included).
    public private(set) var recoveries: [JournalDamage]

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// Opens (creating, with its folder, when missing and `create` is true) the journal.
    /// With `create`, the folder is made 0700 and the database and its WAL files 0600 (also
    /// when an older Berth left them readable): the journal is its user's alone; and a
    /// damaged file is moved aside for a new one (`damage`).
    public init(
        path: String, create: Bool = true,
        logger: Logger = Logger(label: "berth.journal", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws {
        if create {
            let folder = (path as NSString).deletingLastPathComponent
            if !folder.isEmpty {
                try FileManager.default.createDirectory(
                    atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                try? FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: folder)
            }
            if !FileManager.default.fileExists(atPath: path) {
                // SQLite gives the WAL and shared-memory files the database's mode.
                _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
            }
            for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) {
                try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
            }
        } else if !FileManager.default.fileExists(atPath: path) {
            throw JournalError(
                operation: "open", path: path, code: SQLITE_CANTOPEN,
                message: "no journal here yet; `berth watch` creates it on its first sync (see --state-dir)")
        }
        self.path = path
        self.create = create
        self.logger = logger
        executor = QueueExecutor(label: "berth.journal")
        guard create else {
            (connection, hasImageColumn, hasActor) = try Self.open(path: path, create: false)
            damage = nil
            recoveries = []
            return
        }
        do {
            try JournalRecovery.check(path: path)
            (connection, hasImageColumn, hasActor) = try Self.open(path: path, create: true)
            damage = nil
        } catch let error as JournalError where error.isDamage {
            let damage = try Self.recover(path: path, from: error, logger: logger)
            (connection, hasImageColumn, hasActor) = try Self.open(path: path, create: true)
            self.damage = damage
        }
        recoveries = damage.map { [$0] } ?? []
    }

    /// Moves the damaged journal at `path` aside (every connection to it closed) and says so.
    private static func recover(path: String, from error: JournalError, logger: Logger) throws -> JournalDamage {
        let moved = try JournalRecovery.moveAside(path: path, now: Date())
        let damage = JournalDamage(path: path, movedTo: moved, reason: error.message, at: Timestamp.string(Date()))
        logger.error(
            "journal damaged: moved aside, a new journal started",
            metadata: ["journal.path": "\(path)", "journal.moved_to": "\(moved)", "error": "\(error.message)"])
        return damage
    }

    private var closed = false

    /// Closes the journal: the last connection to close checkpoints the WAL into the file
    /// and removes it (a watch that stops leaves one whole file). Calls after it fail.
    public func close() {
        closed = true
        connection.close()
    }

    /// Runs `body`; when it meets a damaged journal (and this is the writer), moves the file
    /// aside, opens a new one and runs `body` once more on it.
    private func recovering<T>(_ body: () throws -> T) throws -> T {
        guard !closed else {
            throw JournalError(operation: "use", path: path, code: SQLITE_MISUSE, message: "the journal is closed")
        }
        do {
            return try body()
        } catch let error as JournalError where error.isDamage && create {
            connection.close()
            let damage = try Self.recover(path: path, from: error, logger: logger)
            recoveries.append(damage)
            (connection, hasImageColumn, hasActor) = try Self.open(path: path, create: true)
            return try body()
        }
    }

    /// A connection in WAL mode; with `create`, the tables made when missing; whether
    /// `steps` has the `image` column and whether `syncs` has `actor` (added here with `create`).
    private static func open(path: String, create: Bool) throws -> (Connection, hasImageColumn: Bool, hasActor: Bool) {
        let connection = try Connection(path: path, create: create)
        try connection.execute("PRAGMA journal_mode=WAL")
        try connection.execute("PRAGMA synchronous=NORMAL")
        try connection.execute("PRAGMA busy_timeout=5000")
        if create {
            try connection.execute(
                """
                CREATE TABLE IF NOT EXISTS syncs (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  started TEXT NOT NULL, ended TEXT NOT NULL, commit_sha TEXT,
                  trigger TEXT NOT NULL, result TEXT NOT NULL, errors TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS steps (
                  sync_id INTEGER NOT NULL REFERENCES syncs(id), position INTEGER NOT NULL,
                  action TEXT NOT NULL, service TEXT NOT NULL, wave INTEGER NOT NULL, reason TEXT NOT NULL,
                  outcome TEXT NOT NULL, message TEXT NOT NULL, duration_ms INTEGER NOT NULL, revision TEXT,
                  PRIMARY KEY (sync_id, position));
                CREATE INDEX IF NOT EXISTS steps_service ON steps(service, sync_id);
                CREATE INDEX IF NOT EXISTS syncs_started ON syncs(started);
                """)
        }
        // The image column came later: journals written before it get it on their first write.
        var columns: [String] = []
        try connection.query("PRAGMA table_info(steps)", []) { row in columns.append(row.text(1)) }
        if create && !columns.isEmpty && !columns.contains("image") {
            try connection.execute("ALTER TABLE steps ADD COLUMN image TEXT")
            columns.append("image")
        }
        return (connection, columns.contains("image"), JournalSchema.addActor(connection))
    }

    /// Whether `steps` has the `image` column (a journal only ever read by an older Berth may lack it).
    private var hasImageColumn: Bool

    /// Writes `record` (its `id` is ignored) in one transaction and returns its id.
    @discardableResult
    public func append(_ record: JournalRecord) throws -> Int64 {
        try recovering { try appendOnce(record) }
    }

    private func appendOnce(_ record: JournalRecord) throws -> Int64 {
        try connection.execute("BEGIN IMMEDIATE")
        do {
            let errors = String(decoding: try JSONEncoder().encode(record.errors), as: UTF8.self)
            var values: [Value] = [
                .text(record.started), .text(record.ended), record.commit.map(Value.text) ?? .null,
                .text(record.trigger.rawValue), .text(record.result.rawValue), .text(errors),
            ]
            if hasActor { values.append(record.actor.map(Value.text) ?? .null) }
            try connection.run(
                hasActor
                    ? "INSERT INTO syncs (started, ended, commit_sha, trigger, result, errors, actor) VALUES (?, ?, ?, ?, ?, ?, ?)"
                    : "INSERT INTO syncs (started, ended, commit_sha, trigger, result, errors) VALUES (?, ?, ?, ?, ?, ?)",
                values)
            let id = connection.lastInsertRowID
            for (position, step) in record.steps.enumerated() {
                try connection.run(
                    "INSERT INTO steps (sync_id, position, action, service, wave, reason, outcome, message, duration_ms, revision, image) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [.integer(id), .integer(Int64(position)), .text(step.action), .text(step.service),
                     .integer(Int64(step.wave)), .text(step.reason), .text(step.outcome.rawValue),
                     .text(step.message), .integer(Int64(step.durationMs)), step.revision.map(Value.text) ?? .null,
                     step.image.map(Value.text) ?? .null])
            }
            try connection.execute("COMMIT")
            return id
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
    }

    /// Records newest first: those with a step for `service` (when given), that ended with
    /// `result` (when given), started at or after `since` (an RFC 3339 timestamp), at most `limit`.
    public func records(service: String? = nil, result: SyncResult? = nil, since: String? = nil, limit: Int = 50) throws -> [JournalRecord] {
        try recovering { try recordsOnce(service: service, result: result, since: since, limit: limit) }
    }

    private func recordsOnce(service: String?, result: SyncResult?, since: String?, limit: Int) throws -> [JournalRecord] {
        var sql = "SELECT id, started, ended, commit_sha, trigger, result, errors, \(hasActor ? "actor" : "NULL") FROM syncs WHERE 1=1"
        var values: [Value] = []
        if let service {
            sql += " AND id IN (SELECT sync_id FROM steps WHERE service = ?)"
            values.append(.text(service))
        }
        if let result {
            sql += " AND result = ?"
            values.append(.text(result.rawValue))
        }
        if let since {
            sql += " AND started >= ?"
            values.append(.text(since))
        }
        sql += " ORDER BY id DESC LIMIT ?"
        values.append(.integer(Int64(max(0, limit))))
        var records: [JournalRecord] = []
        try connection.query(sql, values) { row in
            let errors = (try? JSONDecoder().decode([String].self, from: Data(row.text(6).utf8))) ?? []
            records.append(JournalRecord(
                id: row.integer(0), started: row.text(1), ended: row.text(2), commit: row.optionalText(3),
                trigger: SyncTrigger(rawValue: row.text(4)) ?? .commit,
                result: SyncResult(rawValue: row.text(5)) ?? .error, errors: errors, actor: row.optionalText(7)))
        }
        for i in records.indices {
            try connection.query(
                "SELECT action, service, wave, reason, outcome, message, duration_ms, revision\(hasImageColumn ? ", image" : "") FROM steps WHERE sync_id = ? ORDER BY position",
                [.integer(records[i].id)]
            ) { row in
                records[i].steps.append(JournalStep(
                    action: row.text(0), service: row.text(1), wave: Int(row.integer(2)), reason: row.text(3),
                    outcome: JournalOutcome(rawValue: row.text(4)) ?? .failed, message: row.text(5),
                    durationMs: Int(row.integer(6)), revision: row.optionalText(7),
                    image: hasImageColumn ? row.optionalText(8) : nil))
            }
        }
        return records
    }

    /// Per service, its newest `update` step that ended `succeeded`, `rolledBack` or
    /// `paused` (what decides whether a rollout is held back), with its sync's commit; sorted
    /// by service. One query over the whole journal, however long ago the update was.
    public func latestUpdates() throws -> [UpdateOutcome] {
        try recovering { try latestUpdatesOnce() }
    }

    private func latestUpdatesOnce() throws -> [UpdateOutcome] {
        var out: [UpdateOutcome] = []
        try connection.query(
            """
            SELECT service, outcome, revision, message, commit_sha, ended FROM (
              SELECT st.service, st.outcome, st.revision, st.message, sy.commit_sha, sy.ended,
                     ROW_NUMBER() OVER (PARTITION BY st.service ORDER BY st.sync_id DESC, st.position DESC) AS n
              FROM steps st JOIN syncs sy ON sy.id = st.sync_id
              WHERE st.action = 'update' AND st.outcome IN ('succeeded', 'rolledBack', 'paused'))
            WHERE n = 1 ORDER BY service
            """, []
        ) { row in
            out.append(UpdateOutcome(
                service: row.text(0), outcome: JournalOutcome(rawValue: row.text(1)) ?? .failed,
                revision: row.optionalText(2), message: row.text(3), commit: row.optionalText(4),
                ended: row.optionalText(5)))
        }
        return out
    }

    /// Per service, its newest step (for the web UI's "last change"): one query over the
    /// whole journal.
    public func lastSteps() throws -> [String: LastStep] {
        var out: [String: LastStep] = [:]
        try connection.query(
            """
            SELECT service, action, outcome, ended FROM (
              SELECT st.service, st.action, st.outcome, sy.ended,
                     ROW_NUMBER() OVER (PARTITION BY st.service ORDER BY st.sync_id DESC, st.position DESC) AS n
              FROM steps st JOIN syncs sy ON sy.id = st.sync_id)
            WHERE n = 1
            """, []
        ) { row in
            out[row.text(0)] = LastStep(
                action: row.text(1), outcome: JournalOutcome(rawValue: row.text(2)) ?? .failed, ended: row.text(3))
        }
        return out
    }

    /// The id of the newest record (0 when there is none): changes whenever a sync is recorded.
    public func lastID() throws -> Int64 {
        var id: Int64 = 0
        try connection.query("SELECT COALESCE(MAX(id), 0) FROM syncs", []) { row in id = row.integer(0) }
        return id
    }

    /// When a sync from `commit` first succeeded (its end), nil when none did.
    public func firstSuccess(commit: String) throws -> String? {
        var ended: String?
        try connection.query(
            "SELECT MIN(ended) FROM syncs WHERE commit_sha = ? AND result = 'succeeded'", [.text(commit)]
        ) { row in ended = row.optionalText(0) }
        return ended
    }

    /// The newest record whose result is `succeeded` and that has a commit.
    public func lastAppliedCommit() throws -> String? {
        try recovering { try lastAppliedCommitOnce() }
    }

    private func lastAppliedCommitOnce() throws -> String? {
        var commit: String?
        try connection.query(
            "SELECT commit_sha FROM syncs WHERE result = 'succeeded' AND commit_sha IS NOT NULL ORDER BY id DESC LIMIT 1", []
        ) { row in commit = row.optionalText(0) }
        return commit
    }

    /// Per commit: the first time a sync from it ended, and its results, for `history --applied`.
    public func commitSummaries() throws -> [String: CommitSummary] {
        try recovering { try commitSummariesOnce() }
    }

    private func commitSummariesOnce() throws -> [String: CommitSummary] {
        var out: [String: CommitSummary] = [:]
        try connection.query(
            "SELECT commit_sha, COALESCE(MIN(CASE WHEN result = 'succeeded' THEN ended END), MIN(ended)), MAX(CASE WHEN result = 'succeeded' THEN 1 ELSE 0 END), GROUP_CONCAT(DISTINCT result) FROM syncs WHERE commit_sha IS NOT NULL GROUP BY commit_sha",
            []
        ) { row in
            guard let commit = row.optionalText(0) else { return }
            let results = row.text(3).split(separator: ",").compactMap { SyncResult(rawValue: String($0)) }
            out[commit] = CommitSummary(
                commit: commit, firstSync: row.text(1), applied: row.integer(2) == 1,
                results: Set(results).sorted { $0.rawValue < $1.rawValue })
        }
        return out
    }
}

/// A service's newest step (`Journal.lastSteps`).
public struct LastStep: Sendable, Hashable {
    public var action: String
    public var outcome: JournalOutcome
    /// When its sync ended, RFC 3339.
    public var ended: String

    public init(action: String, outcome: JournalOutcome, ended: String) {
        self.action = action
        self.outcome = outcome
        self.ended = ended
    }
}

/// The newest decisive `update` step of one service (`Journal.latestUpdates`).
public struct UpdateOutcome: Sendable, Hashable {
    public var service: String
    public var outcome: JournalOutcome
    public var revision: String?
    public var message: String
    public var commit: String?
    /// When its sync ended (RFC 3339 UTC).
    public var ended: String?

    public init(service: String, outcome: JournalOutcome, revision: String?, message: String, commit: String?, ended: String? = nil) {
        self.ended = ended
        self.service = service
        self.outcome = outcome
        self.revision = revision
        self.message = message
        self.commit = commit
    }
}

/// What the journal knows about one commit.
public struct CommitSummary: Sendable, Hashable, Codable {
    public var commit: String
    /// When the first successful sync from this commit ended (else the first sync).
    public var firstSync: String
    /// Whether a sync from it succeeded (a `partial` one, with services held back, does not count).
    public var applied: Bool
    /// Every result its syncs had, sorted.
    public var results: [SyncResult]
}

// MARK: - SQLite

/// A serial executor over one dispatch queue (as BerthGit's): SQLite calls never block the
/// cooperative pool.
final class QueueExecutor: SerialExecutor {
    let queue: DispatchQueue
    init(label: String) { queue = DispatchQueue(label: label) }
    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async { unowned.runSynchronously(on: executor) }
    }
}

enum Value {
    case null, integer(Int64), text(String)
}

struct Row {
    let statement: OpaquePointer
    func text(_ i: Int32) -> String { optionalText(i) ?? "" }
    func optionalText(_ i: Int32) -> String? {
        guard sqlite3_column_type(statement, i) != SQLITE_NULL, let p = sqlite3_column_text(statement, i) else { return nil }
        return String(cString: p)
    }
    func integer(_ i: Int32) -> Int64 { sqlite3_column_int64(statement, i) }
}

/// The one owner of an `sqlite3*` handle; closed in `deinit`. Used only on the journal's queue.
final class Connection {
    let handle: OpaquePointer
    let path: String

    init(path: String, create: Bool) throws {
        var db: OpaquePointer?
        let flags = (create ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let db { sqlite3_close_v2(db) }
            throw JournalError(operation: "open", path: path, code: rc, message: message)
        }
        handle = db
        self.path = path
    }

    private var isOpen = true

    /// Closes the handle now (before the file is moved: see `JournalRecovery.moveAside`).
    func close() {
        guard isOpen else { return }
        isOpen = false
        sqlite3_close_v2(handle)
    }

    deinit { close() }

    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    private func check(_ rc: Int32, _ operation: String) throws {
        guard rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW else {
            throw JournalError(operation: operation, path: path, code: rc, message: String(cString: sqlite3_errmsg(handle)))
        }
    }

    func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &error)
        if rc != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(error)
            throw JournalError(operation: sql.split(separator: " ").prefix(2).joined(separator: " "), path: path, code: rc, message: message)
        }
    }

    private func prepare(_ sql: String, _ values: [Value]) throws -> OpaquePointer {
        var statement: OpaquePointer?
        try check(sqlite3_prepare_v2(handle, sql, -1, &statement, nil), "prepare")
        guard let statement else { throw JournalError(operation: "prepare", path: path, code: SQLITE_ERROR, message: "empty statement") }
        for (i, value) in values.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch value {
            case .null: rc = sqlite3_bind_null(statement, index)
            case .integer(let v): rc = sqlite3_bind_int64(statement, index, v)
            case .text(let v): rc = sqlite3_bind_text(statement, index, v, -1, berth_sqlite_transient())
            }
            if rc != SQLITE_OK {
                sqlite3_finalize(statement)
                try check(rc, "bind")
            }
        }
        return statement
    }

    func run(_ sql: String, _ values: [Value]) throws {
        let statement = try prepare(sql, values)
        defer { sqlite3_finalize(statement) }
        try check(sqlite3_step(statement), "write")
    }

    func query(_ sql: String, _ values: [Value], _ row: (Row) throws -> Void) throws {
        let statement = try prepare(sql, values)
        defer { sqlite3_finalize(statement) }
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { return }
            try check(rc, "read")
            try row(Row(statement: statement))
        }
    }
}
