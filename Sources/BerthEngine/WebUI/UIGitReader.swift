public import BerthGit
import Foundation

/// What the web UI reads from git beside the loop: the applied commit's message, a
/// service's desired-state history and the diff between two commits. Reads only: a remote
/// is read from the mirror `berth watch` fetches into, never fetched by a page view.
public protocol UIGitReader: Sendable {
    /// Message, author and date of `commit` (a full hex id).
    func commitInfo(_ commit: String) async throws -> CommitInfo
    /// `berth history SERVICE --limit N` from `head` (a full hex id).
    func history(service: String, head: String, limit: Int) async throws -> [HistoryEntry]
    /// `berth diff FROM TO`.
    func diff(from: String, to: String) async throws -> RevisionDiff
}

/// `UIGitReader` over a repository that `open` gives afresh for each read (cheap for a
/// local folder, and new commits are seen), with the manifest folder `path` (nil: as the
/// commands choose). Answers are kept per commit (they never change), the newest 64.
public final class GitUIReader: UIGitReader {
    let open: @Sendable () throws -> GitRepository
    let path: String?
    let historyIndexRoot: String?
    let parseCache = ManifestParseCache()
    private let memo = Memo()

    public init(path: String?, historyIndexRoot: String?, open: @escaping @Sendable () throws -> GitRepository) {
        self.open = open
        self.path = path
        self.historyIndexRoot = historyIndexRoot
    }

    private func source() throws -> GitDesiredStateSource {
        GitDesiredStateSource(repository: try open(), cache: parseCache, historyIndexRoot: historyIndexRoot)
    }

    private static func id(_ hex: String) throws -> ObjectID {
        guard let id = ObjectID(hex: hex) else { throw DesiredStateSourceError("not a commit id: \(hex)") }
        return id
    }

    public func commitInfo(_ commit: String) async throws -> CommitInfo {
        if case .commit(let info)? = await memo.get("commit " + commit) { return info }
        let c = try await source().repository.commit(try Self.id(commit))
        let info = CommitInfo(
            id: c.id.hex, subject: UIFormat.subject(c.message), author: c.author.name,
            date: Date(timeIntervalSince1970: TimeInterval(c.author.time)))
        await memo.set("commit " + commit, .commit(info))
        return info
    }

    public func history(service: String, head: String, limit: Int) async throws -> [HistoryEntry] {
        let key = "history \(head) \(limit) \(service)"
        if case .history(let entries)? = await memo.get(key) { return entries }
        let src = try source()
        let start = try Self.id(head)
        let folder = try await src.manifestsPath(at: start, requested: path, revision: head)
        let entries = try await src.history(from: start, path: folder, service: service, limit: limit)
        await memo.set(key, .history(entries))
        return entries
    }

    public func diff(from: String, to: String) async throws -> RevisionDiff {
        let key = "diff \(from) \(to)"
        if case .diff(let d)? = await memo.get(key) { return d }
        let src = try source()
        let toID = try Self.id(to)
        let folder = try await src.manifestsPath(at: toID, requested: path, revision: to)
        let d = try await src.diff(from: try Self.id(from), to: toID, path: folder)
        await memo.set(key, .diff(d))
        return d
    }

    enum Answer: Sendable {
        case commit(CommitInfo)
        case history([HistoryEntry])
        case diff(RevisionDiff)
    }

    /// The newest `capacity` answers by key.
    actor Memo {
        let capacity = 64
        var answers: [String: Answer] = [:]
        var order: [String] = []

        func get(_ key: String) -> Answer? { answers[key] }

        func set(_ key: String, _ answer: Answer) {
            if answers[key] == nil { order.append(key) }
            answers[key] = answer
            while order.count > capacity { answers[order.removeFirst()] = nil }
        }
    }
}
