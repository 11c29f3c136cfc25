internal import CGit2

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tree object's bytes, read straight from the object database (not parsed into a
/// `git_tree`): `MODE SP NAME NUL ID(20)` entries, sorted git's way. A history walk compares
/// two such buffers entry by entry and mostly finds identical bytes, so skipping libgit2's
/// tree parser (and a call into C per entry) is most of what is left after the inflate.
final class RawTree {
    private let object: OpaquePointer
    let bytes: UnsafeRawBufferPointer

    init(_ object: OpaquePointer) {
        self.object = object
        let size = git_odb_object_size(object)
        bytes = UnsafeRawBufferPointer(start: git_odb_object_data(object), count: size)
    }
    deinit { git_odb_object_free(object) }

    /// One entry: byte ranges into `bytes`.
    struct Entry {
        var start: Int
        var nameStart: Int
        var nameEnd: Int
        /// Offset of the 20-byte id; the entry ends 20 bytes later.
        var idStart: Int
        var mode: UInt32
        var end: Int { idStart + 20 }
        var isTree: Bool { mode & 0o170000 == 0o040000 }
        var isCommit: Bool { mode & 0o170000 == 0o160000 }
        var kind: TreeEntry.Kind { isTree ? .tree : isCommit ? .submodule : .blob }
    }

    /// The entry starting at `offset`; nil at the end (or on malformed bytes).
    func entry(at offset: Int) -> Entry? {
        let count = bytes.count
        guard offset < count, let base = bytes.baseAddress else { return nil }
        var i = offset
        var mode: UInt32 = 0
        while i < count {
            let c = base.load(fromByteOffset: i, as: UInt8.self)
            if c == 0x20 { break }
            mode = mode << 3 | UInt32(c &- 0x30)
            i += 1
        }
        let nameStart = i + 1
        guard nameStart < count, let nul = memchr(base + nameStart, 0, count - nameStart) else { return nil }
        let nameEnd = base.distance(to: UnsafeRawPointer(nul))
        guard nameEnd + 21 <= count else { return nil }
        return Entry(start: offset, nameStart: nameStart, nameEnd: nameEnd, idStart: nameEnd + 1, mode: mode)
    }

    func name(_ e: Entry) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[e.nameStart..<e.nameEnd]), as: UTF8.self)
    }

    func id(_ e: Entry) -> ObjectID { ObjectID(raw: bytes.baseAddress! + e.idStart) }

    func nameEquals(_ e: Entry, _ name: [UInt8]) -> Bool {
        guard e.nameEnd - e.nameStart == name.count else { return false }
        return name.withUnsafeBytes { memcmp(bytes.baseAddress! + e.nameStart, $0.baseAddress!, name.count) == 0 }
    }

    /// git's tree order (`git_tree_entry_cmp`): names compared bytewise, a folder's name as if
    /// it ended in "/".
    static func order(_ a: RawTree, _ x: Entry, _ b: RawTree, _ y: Entry) -> Int32 {
        let lx = x.nameEnd - x.nameStart, ly = y.nameEnd - y.nameStart
        let n = min(lx, ly)
        let pa = a.bytes.baseAddress! + x.nameStart, pb = b.bytes.baseAddress! + y.nameStart
        let c = memcmp(pa, pb, n)
        if c != 0 { return c }
        let ca: UInt8 = lx > n ? pa.load(fromByteOffset: n, as: UInt8.self) : (x.isTree ? 0x2F : 0)
        let cb: UInt8 = ly > n ? pb.load(fromByteOffset: n, as: UInt8.self) : (y.isTree ? 0x2F : 0)
        return ca < cb ? -1 : ca > cb ? 1 : 0
    }

    /// Offset just past the entry starting at `offset` (nil at the end or on malformed bytes).
    func entryEnd(at offset: Int) -> Int? {
        let count = bytes.count
        guard offset < count, let base = bytes.baseAddress, let nul = memchr(base + offset, 0, count - offset) else { return nil }
        let end = base.distance(to: UnsafeRawPointer(nul)) + 21
        return end <= count ? end : nil
    }

    /// From offsets `x` in `a` and `y` in `b`, skips the entries that are byte-identical on
    /// both sides (found with a wide compare, not entry by entry); nil when the rest of both
    /// trees is identical.
    static func skipIdentical(_ a: RawTree, _ x: Int, _ b: RawTree, _ y: Int) -> (Int, Int)? {
        let na = a.bytes.count - x, nb = b.bytes.count - y
        let pa = a.bytes.baseAddress! + x, pb = b.bytes.baseAddress! + y
        let n = min(na, nb)
        var i = 0
        while i + 2048 <= n && memcmp(pa + i, pb + i, 2048) == 0 { i += 2048 }
        while i + 256 <= n && memcmp(pa + i, pb + i, 256) == 0 { i += 256 }
        while i + 8 <= n && pa.loadUnaligned(fromByteOffset: i, as: UInt64.self) == pb.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
            i += 8
        }
        while i < n && pa.load(fromByteOffset: i, as: UInt8.self) == pb.load(fromByteOffset: i, as: UInt8.self) { i += 1 }
        if i == na && i == nb { return nil }
        // The first i bytes are the same on both sides, so are their entry boundaries.
        var offset = x
        while let end = a.entryEnd(at: offset), end - x <= i { offset = end }
        return (offset, y + (offset - x))
    }

    /// Whether two entries are byte-identical (same mode, name and id).
    static func same(_ a: RawTree, _ x: Entry, _ b: RawTree, _ y: Entry) -> Bool {
        let n = x.end - x.start
        guard y.end - y.start == n else { return false }
        return memcmp(a.bytes.baseAddress! + x.start, b.bytes.baseAddress! + y.start, n) == 0
    }
}

extension ObjectID {
    /// From 20 raw bytes.
    init(raw: UnsafeRawPointer) {
        var a: UInt64 = 0, b: UInt64 = 0, c: UInt32 = 0
        for i in 0..<8 { a = a << 8 | UInt64(raw.load(fromByteOffset: i, as: UInt8.self)) }
        for i in 8..<16 { b = b << 8 | UInt64(raw.load(fromByteOffset: i, as: UInt8.self)) }
        for i in 16..<20 { c = c << 8 | UInt32(raw.load(fromByteOffset: i, as: UInt8.self)) }
        self.init(a: a, b: b, c: c)
    }
}

extension Repository {
    /// The object database handle (opened on first use).
    func objectDatabase() throws(GitError) -> OpaquePointer {
        if let odb = odbHandle { return odb.pointer }
        var pointer: OpaquePointer?
        try check(git_repository_odb(&pointer, self.pointer), "open object database of", displayName)
        odbHandle = ObjectDatabaseHandle(pointer!)
        return pointer!
    }

    /// The raw bytes of tree `id`; the last few are kept (a walk reads each tree as a commit's
    /// and again as its child's parent tree).
    func rawTree(_ id: ObjectID) throws(GitError) -> RawTree {
        if let hit = recentRawTrees.first(where: { $0.0 == id }) { return hit.1 }
        let odb = try objectDatabase()
        var oid = id.oid
        var pointer: OpaquePointer?
        try check(git_odb_read(&pointer, odb, &oid), "read tree", id.hex)
        guard git_odb_object_type(pointer!) == GIT_OBJECT_TREE else {
            git_odb_object_free(pointer!)
            throw GitError(code: .invalid, operation: "read tree", subject: id.hex, hint: "the object is not a tree")
        }
        let tree = RawTree(pointer!)
        if recentRawTrees.count >= 4 { recentRawTrees.removeFirst() }
        recentRawTrees.append((id, tree))
        return tree
    }

    /// The id of the folder at `path` (already normalised; "" is the root) under root tree
    /// `root`; nil when missing or not a folder.
    func rawSubtree(at components: [[UInt8]], root: ObjectID) throws(GitError) -> ObjectID? {
        var current = root
        for component in components {
            let tree = try rawTree(current)
            var offset = 0
            var found: ObjectID? = nil
            while let e = tree.entry(at: offset) {
                if tree.nameEquals(e, component) {
                    if e.isTree { found = tree.id(e) }
                    break
                }
                offset = e.end
            }
            guard let found else { return nil }
            current = found
        }
        return current
    }

    /// Like `changes(from:to:prefix:skipHidden:)`, comparing raw tree bytes.
    func rawChanges(from old: ObjectID?, to new: ObjectID?, prefix: String, skipHidden: Bool) throws(GitError) -> [TreeChange] {
        var out: [TreeChange] = []
        try rawCompare(old, new, prefix: prefix, skipHidden: skipHidden, into: &out)
        return out
    }

    private func rawCompare(_ old: ObjectID?, _ new: ObjectID?, prefix: String, skipHidden: Bool, into out: inout [TreeChange]) throws(GitError) {
        if old == new { return }
        guard let old, let new else {
            // A folder added or removed as a whole: rare, take the general path.
            out += try changes(from: old, to: new, prefix: prefix, skipHidden: skipHidden)
            return
        }
        let a = try rawTree(old), b = try rawTree(new)
        func full(_ t: RawTree, _ e: RawTree.Entry) -> (name: String, path: String) {
            let name = t.name(e)
            return (name, prefix.isEmpty ? name : prefix + "/" + name)
        }
        func side(_ t: RawTree, _ e: RawTree.Entry, old isOld: Bool) throws(GitError) {
            let (name, path) = full(t, e)
            let id = t.id(e)
            switch e.kind {
            case .tree:
                if skipHidden && name.hasPrefix(".") { return }
                try rawCompare(isOld ? id : nil, isOld ? nil : id, prefix: path, skipHidden: skipHidden, into: &out)
            case .blob:
                out.append(TreeChange(path: path, old: isOld ? id : nil, new: isOld ? nil : id))
            case .submodule: return
            }
        }
        guard let (startA, startB) = RawTree.skipIdentical(a, 0, b, 0) else { return }
        var ea = a.entry(at: startA), eb = b.entry(at: startB)
        /// After a difference: skip what is identical from the current positions on.
        func resync() -> Bool {
            let x = ea?.start ?? a.bytes.count, y = eb?.start ?? b.bytes.count
            guard let (nextA, nextB) = RawTree.skipIdentical(a, x, b, y) else { return false }
            if nextA != x { ea = a.entry(at: nextA) }
            if nextB != y { eb = b.entry(at: nextB) }
            return true
        }
        while ea != nil || eb != nil {
            guard let x = ea else {
                try side(b, eb!, old: false)
                eb = b.entry(at: eb!.end)
                continue
            }
            guard let y = eb else {
                try side(a, x, old: true)
                ea = a.entry(at: x.end)
                continue
            }
            if RawTree.same(a, x, b, y) {
                ea = a.entry(at: x.end)
                eb = b.entry(at: y.end)
                continue
            }
            let order = RawTree.order(a, x, b, y)
            if order < 0 {
                try side(a, x, old: true)
                ea = a.entry(at: x.end)
            } else if order > 0 {
                try side(b, y, old: false)
                eb = b.entry(at: y.end)
            } else {
                ea = a.entry(at: x.end)
                eb = b.entry(at: y.end)
                let idA = a.id(x), idB = b.id(y)
                if idA == idB && x.kind == y.kind {
                    // Same object, mode changed only: not a content change.
                } else if x.isTree && y.isTree {
                    let (name, path) = full(a, x)
                    if !(skipHidden && name.hasPrefix(".")) {
                        try rawCompare(idA, idB, prefix: path, skipHidden: skipHidden, into: &out)
                    }
                } else if x.kind == .blob && y.kind == .blob {
                    out.append(TreeChange(path: full(a, x).path, old: idA, new: idB))
                } else {
                    try side(a, x, old: true)
                    try side(b, y, old: false)
                }
            }
            if !resync() { return }
        }
    }
}
