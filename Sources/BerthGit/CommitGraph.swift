internal import CGit2

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// git's commit-graph file (`objects/info/commit-graph`, format version 1, SHA-1), read
/// directly: for every commit it holds the root tree id, the parents and the committer
/// time, so a history walk needs to inflate no commit that the file covers. libgit2 1.5
/// does not use the file for its revwalk here (it reads every commit), hence this reader.
///
/// Only the single-file form is read; a split graph (`commit-graphs/commit-graph-chain`),
/// a missing file or one that does not look exactly like the format (signature, version,
/// hash, chunk table, sizes) is no graph at all, and callers read commits with libgit2.
/// A commit-graph entry can be trusted for the commit it names: commits are immutable and
/// named by their hash. Commits newer than the file are simply not in it.
final class CommitGraph {
    private let base: UnsafeRawPointer
    private let length: Int
    /// Offsets of the chunks in the mapped file.
    private let fanout: Int, lookup: Int, data: Int
    private let edges: Int?, edgeCount: Int
    let count: Int

    /// Position of a commit in the file (its index in the sorted id table).
    typealias Position = UInt32

    struct Entry {
        var tree: ObjectID
        /// Positions of the parents, in order.
        var parents: [Position]
        /// Committer time, seconds since the epoch.
        var time: Int64
    }

    /// The graph of the repository whose object folder is `objectsDirectory`; nil when there
    /// is none or it is not a well-formed single-file version 1 SHA-1 graph.
    init?(objectsDirectory: String) {
        let path = objectsDirectory.hasSuffix("/") ? objectsDirectory + "info/commit-graph" : objectsDirectory + "/info/commit-graph"
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_size >= 8 + 12 + 20 else { return nil }
        let size = Int(st.st_size)
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else { return nil }
        let start = UnsafeRawPointer(mapped)
        func u8(_ o: Int) -> UInt8 { start.load(fromByteOffset: o, as: UInt8.self) }
        func be32(_ o: Int) -> UInt32 { UInt32(bigEndian: start.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }
        func be64(_ o: Int) -> UInt64 { UInt64(bigEndian: start.loadUnaligned(fromByteOffset: o, as: UInt64.self)) }
        // Header: "CGPH", version 1, hash version 1 (SHA-1), chunk count, base graph count 0.
        let chunks = Int(u8(6))
        guard be32(0) == 0x4347_5048, u8(4) == 1, u8(5) == 1, u8(7) == 0, 8 + (chunks + 1) * 12 <= size - 20 else {
            munmap(mapped, size)
            return nil
        }
        var found: [UInt32: (start: Int, end: Int)] = [:]
        for i in 0..<chunks {
            let entry = 8 + i * 12
            let start = be64(entry + 4), end = be64(entry + 16)
            guard start <= end, end <= UInt64(size - 20) else {
                munmap(mapped, size)
                return nil
            }
            found[be32(entry)] = (Int(start), Int(end))
        }
        guard let f = found[0x4F49_4446], let l = found[0x4F49_444C], let d = found[0x4344_4154],
            f.end - f.start == 256 * 4
        else {
            munmap(mapped, size)
            return nil
        }
        let n = Int(be32(f.start + 255 * 4))
        guard l.end - l.start == n * 20, d.end - d.start == n * 36 else {
            munmap(mapped, size)
            return nil
        }
        base = start
        length = size
        fanout = f.start
        lookup = l.start
        data = d.start
        count = n
        if let e = found[0x4544_4745] {
            edges = e.start
            edgeCount = (e.end - e.start) / 4
        } else {
            edges = nil
            edgeCount = 0
        }
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), length) }

    private func be32(_ o: Int) -> UInt32 { UInt32(bigEndian: base.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }

    func id(at position: Position) -> ObjectID { ObjectID(raw: base + lookup + Int(position) * 20) }

    /// The position of `id`, nil when the file does not cover it.
    func position(of id: ObjectID) -> Position? {
        var key = id.oid
        return withUnsafeBytes(of: &key) { raw -> Position? in
            let first = Int(raw[0])
            var low = first == 0 ? 0 : Int(be32(fanout + (first - 1) * 4))
            var high = Int(be32(fanout + first * 4))
            guard low <= high, high <= count else { return nil }
            while low < high {
                let mid = (low + high) / 2
                let c = memcmp(base + lookup + mid * 20, raw.baseAddress!, 20)
                if c == 0 { return Position(mid) }
                if c < 0 { low = mid + 1 } else { high = mid }
            }
            return nil
        }
    }

    /// The entry at `position`; nil when the file is inconsistent there (a parent position
    /// out of range), so that the caller falls back to reading the commit.
    func entry(at position: Position) -> Entry? {
        let o = data + Int(position) * 36
        let tree = ObjectID(raw: base + o)
        let p1 = be32(o + 20), p2 = be32(o + 24)
        let high = be32(o + 28), low = be32(o + 32)
        let time = Int64(UInt64(high & 3) << 32 | UInt64(low))
        let none: UInt32 = 0x7000_0000
        var parents: [Position] = []
        if p1 != none {
            guard Int(p1) < count else { return nil }
            parents.append(p1)
        }
        if p2 != none {
            if p2 & 0x8000_0000 == 0 {
                guard Int(p2) < count else { return nil }
                parents.append(p2)
            } else {
                // An octopus merge: the rest of the parents are in the extra-edge list,
                // the last one marked with the high bit.
                guard let edges else { return nil }
                var i = Int(p2 & 0x7FFF_FFFF)
                while true {
                    guard i < edgeCount else { return nil }
                    let v = be32(edges + i * 4)
                    let parent = v & 0x7FFF_FFFF
                    guard Int(parent) < count else { return nil }
                    parents.append(parent)
                    if v & 0x8000_0000 != 0 { break }
                    i += 1
                }
            }
        }
        return Entry(tree: tree, parents: parents, time: time)
    }
}

extension Repository {
    /// The folder of the object database (the common one for a linked work tree).
    var objectsDirectory: String? {
        var buffer = git_buf()
        defer { git_buf_dispose(&buffer) }
        guard git_repository_item_path(&buffer, pointer, GIT_REPOSITORY_ITEM_OBJECTS) == 0, let p = buffer.ptr else {
            git_error_clear()
            return nil
        }
        return String(cString: p)
    }
}
