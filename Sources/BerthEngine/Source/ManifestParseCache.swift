public import BerthCore
public import BerthGit
import Dispatch
import Synchronization

/// Parsed manifest files keyed by git blob id: a blob's parse is a pure function of its
/// bytes, so each blob is parsed at most once per process whatever its path (a moved file
/// reuses its parse, relocated to the new path). Thread-safe (a mutex guards the table).
public final class ManifestParseCache: Sendable {
    private let table = Mutex<[ObjectID: FileManifests]>([:])
    /// How many blobs were parsed (not served from the cache): for tests and benchmarks.
    private let parses = Mutex(0)

    public init() {}

    public var parseCount: Int { parses.withLock { $0 } }

    public func cached(_ id: ObjectID, path: String) -> FileManifests? {
        table.withLock { $0[id] }?.relocated(to: path)
    }

    /// Parses the given (path, blob id, bytes) triples not yet cached, in parallel when there
    /// are many, and stores them.
    public func parse(_ files: [(path: String, id: ObjectID, bytes: [UInt8])]) {
        let missing = files.filter { file in table.withLock { $0[file.id] == nil } }
        guard !missing.isEmpty else { return }
        let results = Mutex<[ObjectID: FileManifests]>([:])
        let work: @Sendable (Int) -> Void = { i in
            let file = missing[i]
            let parsed = ManifestLoader.parse(ManifestFile(path: file.path, bytes: file.bytes))
            results.withLock { $0[file.id] = parsed }
        }
        if missing.count >= 16 {
            DispatchQueue.concurrentPerform(iterations: missing.count, execute: work)
        } else {
            for i in missing.indices { work(i) }
        }
        let parsed = results.withLock { $0 }
        parses.withLock { $0 += parsed.count }
        table.withLock { table in
            for (id, value) in parsed where table[id] == nil { table[id] = value }
        }
    }
}
