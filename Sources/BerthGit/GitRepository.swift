internal import CGit2
import Dispatch
import Synchronization

/// A serial executor backed by one dedicated dispatch queue: every libgit2 call made by a
/// `GitRepository` runs on that queue, so blocking I/O never occupies the cooperative pool
/// and libgit2's thread-local error state stays on the thread that produced it.
final class GitQueueExecutor: SerialExecutor {
    let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async { unowned.runSynchronously(on: executor) }
    }
}

/// One changed step of a path's history: a commit whose tree at the path differs from its
/// first parent's, and the files that differ (paths relative to the repository root).
public struct PathHistoryStep: Sendable, Hashable {
    /// The commit (read it with `commits(_:)` when it is to be shown).
    public var id: ObjectID
    /// The tree at the path in this commit (nil: the path does not exist there).
    public var tree: ObjectID?
    /// The tree at the path in the first parent (nil: no parent, or the path is missing).
    public var parentTree: ObjectID?
    public var changes: [TreeChange]
}

/// A git repository, opened once; all of its libgit2 work runs on its own serial executor
/// (a dedicated dispatch queue). Values that come out are Sendable snapshots.
public actor GitRepository {
    private let executor: GitQueueExecutor
    let repository: Repository
    /// For messages: the path or (scrubbed) URL the caller named.
    public nonisolated let displayName: String

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// Opens a local repository: a work tree (searching upwards from `path` when `discover`),
    /// its .git folder, or a bare repository.
    public init(path: String, discover: Bool = true) throws(GitError) {
        executor = GitQueueExecutor(label: "berth.git")
        repository = try Repository.open(path: path, discover: discover)
        displayName = path
    }

    init(repository: Repository, executor: GitQueueExecutor, displayName: String) {
        self.executor = executor
        self.repository = repository
        self.displayName = displayName
    }

    /// The .git folder (or the bare repository's folder), with a trailing slash.
    public var gitDirectory: String { repository.gitDirectory }
    /// The work tree, nil for a bare repository.
    public var workDirectory: String? { repository.workDirectory }
    public var isEmpty: Bool { repository.isEmpty }

    /// Resolves a revision (branch, remote branch, tag, short/full SHA, HEAD, HEAD~N) to a
    /// commit id. An unknown name fails with `.notFound` and a hint naming the nearest
    /// branches and tags.
    public func resolve(_ spec: String) throws(GitError) -> ObjectID { try repository.resolve(spec) }

    public func commit(_ id: ObjectID) throws(GitError) -> Commit { try repository.commit(id) }

    /// Several commits in one hop onto the executor.
    public func commits(_ ids: [ObjectID]) throws(GitError) -> [ObjectID: Commit] {
        var out: [ObjectID: Commit] = [:]
        for id in ids where out[id] == nil { out[id] = try repository.commit(id) }
        return out
    }

    /// Short names of all branches, remote branches and tags, sorted.
    public func referenceNames() -> [String] { repository.referenceNames() }

    /// The entry at `path` in `commit`'s tree (the root tree for ""); nil when missing.
    public func entry(at path: String, in commit: ObjectID) throws(GitError) -> TreeEntry? {
        let c = try repository.commitHandle(commit)
        return try repository.entry(at: path, inTree: ObjectID(git_commit_tree_id(c.pointer)))
    }

    /// Every blob under the tree `treeID`, recursively, paths prefixed with `prefix`; hidden
    /// folders skipped when `skipHidden`. Sorted by path.
    public func files(under treeID: ObjectID, prefix: String, skipHidden: Bool = true) throws(GitError) -> [TreeEntry] {
        try repository.files(under: treeID, prefix: prefix, skipHidden: skipHidden)
    }

    /// Files that differ between two trees (nil = empty), paths prefixed with `prefix`.
    public func changes(from old: ObjectID?, to new: ObjectID?, prefix: String, skipHidden: Bool = true) throws(GitError) -> [TreeChange] {
        try repository.changes(from: old, to: new, prefix: prefix, skipHidden: skipHidden)
    }

    public func blob(_ id: ObjectID) throws(GitError) -> [UInt8] { try repository.blob(id) }

    /// Several blobs in one hop onto the executor.
    public func blobs(_ ids: [ObjectID]) throws(GitError) -> [ObjectID: [UInt8]] {
        var out: [ObjectID: [UInt8]] = [:]
        out.reserveCapacity(ids.count)
        for id in ids where out[id] == nil { out[id] = try repository.blob(id) }
        return out
    }

    /// Commits reachable from `start`, newest first (topological, then time), at most `limit`.
    public func log(from start: ObjectID, limit: Int = .max) throws(GitError) -> [Commit] {
        var out: [Commit] = []
        guard limit > 0 else { return out }
        try repository.walk(from: start) { handle throws(GitError) in
            out.append(Repository.snapshot(handle))
            return out.count < limit
        }
        return out
    }

    /// Every commit reachable from `start` (newest first) whose tree at `path` differs from
    /// its first parent's, with the changed files. Commits whose committer time is before
    /// `since` (seconds since the epoch) are left out. Tree ids are compared before anything
    /// is read, so commits that touch only other paths cost one tree lookup each.
    public func pathHistory(from start: ObjectID, path: String, since: Int64? = nil, skipHidden: Bool = true, index: PathHistoryIndex? = nil) throws(GitError) -> [PathHistoryStep] {
        let repo = repository
        let clean = Repository.normalise(path)
        var records = index?.load() ?? [:]
        // 1. The commits to consider, newest first; those the index does not know yet.
        var order: [ObjectID] = []
        var misses: [ObjectID] = []
        var known: [ObjectID: Repository.CommitLinks] = [:]
        var chain: [Repository.ChainLink] = []
        if try repo.linearChain(from: start, into: &chain) {
            // No merges: the chain is the walk (and the commit-graph spares reading commits).
            for link in chain {
                if let since, link.time < since { continue }
                order.append(link.id)
                if records[link.id] == nil {
                    misses.append(link.id)
                    known[link.id] = link.links
                }
            }
        } else {
            // The commits above the first merge were read by the attempt: not again.
            var read: [ObjectID: Repository.ChainLink] = [:]
            for link in chain { read[link.id] = link }
            try repo.walkIDs(from: start) { id throws(GitError) in
                let isMiss = records[id] == nil
                if since != nil || isMiss {
                    var hit = read[id].map { (links: $0.links, time: $0.time) }
                    if hit == nil {
                        let (links, time, _) = try repo.linksAndTime(id)
                        hit = (links, time)
                    }
                    let (links, time) = hit!
                    if let since, time < since { return true }
                    if isMiss { known[id] = links }
                }
                order.append(id)
                if isMiss { misses.append(id) }
                return true
            }
        }
        // 2. Compare trees for the unknown commits: reading trees is the cost (libgit2
        // resolves each through its whole delta chain), so large walks split the work in
        // contiguous halves over two threads, each with its own repository handle.
        if misses.count >= 512 {
            let gitDirectory = repo.gitDirectory
            let halves = [Array(misses[..<(misses.count / 2)]), Array(misses[(misses.count / 2)...])]
            let results = Mutex<[Result<[ObjectID: PathHistoryIndex.Record], GitError>]>([])
            let known = known
            DispatchQueue.concurrentPerform(iterations: 2) { i in
                let result: Result<[ObjectID: PathHistoryIndex.Record], GitError>
                do throws(GitError) {
                    let own = try Repository.open(path: gitDirectory, discover: false)
                    result = .success(try own.records(for: halves[i], known: known, path: clean, skipHidden: skipHidden))
                } catch {
                    result = .failure(error)
                }
                results.withLock { $0.append(result) }
            }
            for result in results.withLock({ $0 }) {
                for (id, record) in try result.get() { records[id] = record }
            }
        } else if !misses.isEmpty {
            for (id, record) in try repo.records(for: misses, known: known, path: clean, skipHidden: skipHidden) { records[id] = record }
        }
        if !misses.isEmpty, let index { index.save(records) }
        // 3. The steps that change something, newest first.
        return order.compactMap { id in
            guard let record = records[id], !record.changes.isEmpty else { return nil }
            return PathHistoryStep(id: id, tree: record.tree, parentTree: record.parentTree, changes: record.changes)
        }
    }
}
