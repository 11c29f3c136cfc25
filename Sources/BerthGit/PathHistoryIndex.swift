import Foundation

/// A persistent record, per commit, of how the tree at one path differs from the first
/// parent's: the tree ids on both sides and the changed files. Commits are immutable, so a
/// record never goes stale; a later walk over the same commits reads no trees at all
/// (reading trees dominates a history walk: libgit2 resolves each one through its full
/// delta chain). The file is rewritten atomically; a missing or unreadable file is an empty
/// index, never an error.
public struct PathHistoryIndex: Sendable {
    public let file: String

    struct Record: Sendable {
        var tree: ObjectID?
        var parentTree: ObjectID?
        var changes: [TreeChange]
    }

    public init(file: String) { self.file = file }

    /// The index file for `path` in the repository at `gitDirectory`, under `root`.
    public static func location(root: String, gitDirectory: String, path: String) -> PathHistoryIndex {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in (gitDirectory + "\u{0}" + path).utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return PathHistoryIndex(file: root + "/" + String(repeating: "0", count: 16 - hex.count) + hex + ".history")
    }

    private static let magic = Array("BERTHPH1".utf8)

    func load() -> [ObjectID: Record] {
        guard let data = FileManager.default.contents(atPath: file) else { return [:] }
        let bytes = [UInt8](data)
        var reader = Reader(bytes: bytes)
        guard bytes.count >= 12, Array(bytes[0..<8]) == Self.magic else { return [:] }
        reader.offset = 8
        guard let count = reader.u32() else { return [:] }
        var records: [ObjectID: Record] = [:]
        records.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let commit = reader.id(), let tree = reader.optionalID(), let parent = reader.optionalID(),
                let n = reader.u32()
            else { return [:] }
            var changes: [TreeChange] = []
            for _ in 0..<n {
                guard let path = reader.string(), let old = reader.optionalID(), let new = reader.optionalID() else { return [:] }
                changes.append(TreeChange(path: path, old: old, new: new))
            }
            records[commit] = Record(tree: tree, parentTree: parent, changes: changes)
        }
        return records
    }

    func save(_ records: [ObjectID: Record]) {
        var out = Self.magic
        out.reserveCapacity(records.count * 80)
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { out.append(contentsOf: $0) } }
        func id(_ v: ObjectID) { v.append(to: &out) }
        func optional(_ v: ObjectID?) {
            if let v {
                out.append(1)
                id(v)
            } else {
                out.append(0)
            }
        }
        u32(records.count)
        for (commit, record) in records {
            id(commit)
            optional(record.tree)
            optional(record.parentTree)
            u32(record.changes.count)
            for change in record.changes {
                u32(change.path.utf8.count)
                out.append(contentsOf: change.path.utf8)
                optional(change.old)
                optional(change.new)
            }
        }
        let url = URL(fileURLWithPath: file)
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? Data(out).write(to: url, options: .atomic)
    }

    private struct Reader {
        let bytes: [UInt8]
        var offset = 0
        mutating func u32() -> UInt32? {
            guard offset + 4 <= bytes.count else { return nil }
            var v: UInt32 = 0
            for i in 0..<4 { v |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
            offset += 4
            return v
        }
        mutating func id() -> ObjectID? {
            guard offset + 20 <= bytes.count else { return nil }
            defer { offset += 20 }
            return bytes.withUnsafeBytes { ObjectID(raw: $0.baseAddress! + offset) }
        }
        mutating func optionalID() -> ObjectID?? {
            guard offset < bytes.count else { return nil }
            let flag = bytes[offset]
            offset += 1
            if flag == 0 { return .some(nil) }
            guard let v = id() else { return nil }
            return .some(v)
        }
        mutating func string() -> String? {
            guard let n = u32(), offset + Int(n) <= bytes.count else { return nil }
            defer { offset += Int(n) }
            return String(decoding: bytes[offset..<offset + Int(n)], as: UTF8.self)
        }
    }
}
