public import BerthCore
public import BerthGit
import Foundation
import Synchronization

/// Parsed manifest files keyed by git blob id: a blob's parse is a pure function of its
/// bytes, so each blob is parsed at most once while it stays cached, whatever its path (a
/// moved file reuses its parse, relocated to the new path). Thread-safe (a mutex guards the
/// table).
///
/// Bounded: `berth watch` loads commit after commit for as long as it runs, and every
/// changed manifest brings a new blob. Beyond `capacity` parses (or the size of the last
/// load, when that is larger) the least recently used ones are dropped, down to three
/// quarters of the bound, so a load never loses what it just read, the blobs of the
/// current and recent commits stay (history compares each commit with the one before), and
/// the table stays the size of a few commits' manifests.
public final class ManifestParseCache: Sendable {
    private struct Entry {
        var manifests: FileManifests
        var lastUse: UInt64
    }

    private struct State {
        var table: [ObjectID: Entry] = [:]
        /// Counts uses, so entries can be ordered by their last one.
        var clock: UInt64 = 0
        /// How many blobs were parsed (not served from the cache).
        var parses = 0
    }

    private let state = Mutex(State())
    /// How many parses are kept at least before the least recently used are dropped.
    public let capacity: Int

    public init(capacity: Int = 4096) {
        self.capacity = max(1, capacity)
    }

    /// How many blobs were parsed (not served from the cache): for tests and benchmarks.
    public var parseCount: Int { state.withLock { $0.parses } }

    /// How many parses are cached now.
    public var count: Int { state.withLock { $0.table.count } }

    public func cached(_ id: ObjectID, path: String) -> FileManifests? {
        state.withLock { s -> FileManifests? in
            guard var entry = s.table[id] else { return nil }
            s.clock += 1
            entry.lastUse = s.clock
            s.table[id] = entry
            return entry.manifests
        }?.relocated(to: path)
    }

    /// Parses the given (path, blob id, bytes) triples not yet cached, on every core when
    /// there are many, and stores them; returns each file's parse (at its path), so a caller
    /// never depends on a parse staying cached while other loads trim the cache.
    @discardableResult
    public func parse(_ files: [(path: String, id: ObjectID, bytes: [UInt8])]) -> [FileManifests] {
        var known = state.withLock { s in files.map { s.table[$0.id]?.manifests } }
        let missing = files.indices.filter { known[$0] == nil }
        if !missing.isEmpty {
            let parsed = ManifestLoader.parse(
                missing.map { ManifestFile(path: files[$0].path, bytes: files[$0].bytes) },
                on: missing.count >= 16 ? ThreadedWork.everyCore : ThreadedWork(workers: 1))
            state.withLock { s in
                s.parses += parsed.count
                for (i, manifests) in zip(missing, parsed) where s.table[files[i].id] == nil {
                    s.clock += 1
                    s.table[files[i].id] = Entry(manifests: manifests, lastUse: s.clock)
                }
            }
            for (i, manifests) in zip(missing, parsed) { known[i] = manifests }
        }
        return zip(files, known).map { $1!.relocated(to: $0.path) }
    }

    /// Drops the least recently used parses while more than `max(capacity, keep)` are
    /// cached (`keep`: how many the load that just finished used).
    public func trim(keeping keep: Int = 0) {
        state.withLock { s in
            let bound = max(capacity, keep)
            guard s.table.count > bound else { return }
            let target = max(keep, bound * 3 / 4)
            let byAge = s.table.map { (id: $0.key, lastUse: $0.value.lastUse) }.sorted { $0.lastUse < $1.lastUse }
            for old in byAge.prefix(s.table.count - target) { s.table[old.id] = nil }
        }
    }
}
