/// One YAML document as a flat array of nodes in document order, built straight from
/// libyaml's events by the composer: the YAML rules already applied (aliases point at their
/// anchors, merge keys are resolved, the second of two duplicate keys is skipped) and every
/// scalar's text copied into one byte array. Swift memory only: nothing in it points into
/// libyaml.
///
/// It is what manifest decoding reads: walking it costs no allocation per node, where a
/// `Node` tree costs several. A `NodeID` is valid for the document it came from; `node(_:)`
/// turns any part of it into a `Node` tree (with the same values, marks and merge rules as
/// `YAML.parse`).
///
/// Layout: a collection's children follow it; each child is one node (a scalar or an alias)
/// or a collection with its own children, so a collection's last descendant is at
/// `end - 1`. A mapping's children alternate key, value.
public struct FlatDocument: Sendable {
    /// The document's root, or nil when it has no content (`---` alone, a file of comments).
    public internal(set) var root: NodeID?
    /// The place of the document's start (its `---`, or its first content).
    public internal(set) var start: Mark

    @usableFromInline var nodes: [Record] = []
    /// Every scalar's text, back to back (quotes and escapes processed; valid UTF-8).
    @usableFromInline var bytes: [UInt8] = []
    /// Explicit tags, fully resolved (`!!str` → `tag:yaml.org,2002:str`).
    @usableFromInline var tags: [String] = []
    /// For each mapping with merge keys: its entries after merging, in `mergedEntries`.
    @usableFromInline var merged: [Int32: Range<Int>] = [:]
    @usableFromInline var mergedEntries: [Entry] = []

    /// An empty document.
    public init(start: Mark = Mark(line: 1, column: 1)) { self.start = start }

    /// A node's storage: 24 bytes.
    @usableFromInline
    struct Record: Sendable {
        @usableFromInline var kind: NodeKind
        @usableFromInline var style: UInt8
        @usableFromInline var flags: UInt8
        @usableFromInline var line: Int32
        @usableFromInline var column: Int32
        /// A scalar: its text's offset in `bytes`; a collection: the index after its last
        /// descendant; an alias: its anchor's node.
        @usableFromInline var a: Int32
        /// A scalar: its text's length; a collection: how many children it has.
        @usableFromInline var b: Int32
        /// Its tag's index in `tags`, or -1.
        @usableFromInline var tag: Int32

        @usableFromInline static let skip: UInt8 = 1  // a key whose entry is not one (a duplicate, a `<<`)
        @usableFromInline static let hasMerges: UInt8 = 2  // a mapping with `<<` keys: see `merged`
    }

    /// A mapping entry: its key and value, and for an entry brought in by a merge key the
    /// place of that `<<` key (the key and value keep the marks of where they were written).
    public struct Entry: Sendable {
        public var key: NodeID
        public var value: NodeID
        public var mergedFrom: Mark?
        @inlinable init(key: NodeID, value: NodeID, mergedFrom: Mark?) {
            self.key = key
            self.value = value
            self.mergedFrom = mergedFrom
        }
    }

    // MARK: Reading nodes

    /// What an alias stands for (the anchored node); any other node itself.
    @inlinable @inline(__always)
    func target(_ n: NodeID) -> Int {
        let i = Int(n.index)
        return nodes[i].kind == .alias ? Int(nodes[i].a) : i
    }

    @inlinable
    public func kind(_ n: NodeID) -> NodeKind { nodes[target(n)].kind }

    @inlinable
    public func isScalar(_ n: NodeID) -> Bool { nodes[target(n)].kind == .scalar }

    /// Where the node was written (an alias: where its anchor's node was written, as in a
    /// `Node` tree, which shares the anchored node).
    @inlinable
    public func mark(_ n: NodeID) -> Mark {
        let r = nodes[target(n)]
        return Mark(line: Int(r.line), column: Int(r.column))
    }

    @inlinable
    public func tag(_ n: NodeID) -> String? {
        let t = nodes[target(n)].tag
        return t < 0 ? nil : tags[Int(t)]
    }

    @inlinable
    public func isTagged(_ n: NodeID) -> Bool { nodes[target(n)].tag >= 0 }

    /// A scalar's style (`.plain` for collections).
    @inlinable
    public func style(_ n: NodeID) -> ScalarStyle {
        let r = nodes[target(n)]
        guard r.kind == .scalar else { return .plain }
        return ScalarStyle(code: r.style)
    }

    /// A collection's style (`.block` for scalars).
    public func collectionStyle(_ n: NodeID) -> CollectionStyle {
        let r = nodes[target(n)]
        return r.kind != .scalar && r.style == 1 ? .flow : .block
    }

    /// A plain scalar without a tag: the ones the core schema resolves by their text.
    @inlinable
    public func isPlainScalar(_ n: NodeID) -> Bool {
        let r = nodes[target(n)]
        return r.kind == .scalar && r.style == 0 && r.tag < 0
    }

    /// A scalar's text (empty for collections).
    public func text(_ n: NodeID) -> String {
        withBytes(n) { span in span.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) } }
    }

    /// A scalar's text as UTF-8 bytes, valid inside `body` (empty for collections).
    @inlinable
    public func withBytes<R, E: Error>(_ n: NodeID, _ body: (Span<UInt8>) throws(E) -> R) throws(E) -> R {
        let r = nodes[target(n)]
        let count = r.kind == .scalar ? Int(r.b) : 0
        let start = Int(r.a)
        return try body(bytes.span.extracting(start..<(start + count)))
    }

    /// A scalar's text length in bytes (0 for collections).
    @inlinable
    public func byteCount(_ n: NodeID) -> Int {
        let r = nodes[target(n)]
        return r.kind == .scalar ? Int(r.b) : 0
    }

    /// True when the node is a scalar whose text is exactly `utf8`.
    @inlinable
    public func textEquals(_ n: NodeID, _ utf8: [UInt8]) -> Bool {
        let r = nodes[target(n)]
        guard r.kind == .scalar, Int(r.b) == utf8.count else { return false }
        let start = Int(r.a)
        for k in 0..<utf8.count where bytes[start + k] != utf8[k] { return false }
        return true
    }

    /// The scalar as a `Scalar` value (for messages and the resolver's rules).
    public func scalar(_ n: NodeID) -> Scalar {
        Scalar(value: text(n), tag: tag(n), style: style(n), mark: mark(n))
    }

    // MARK: Collections

    /// The index after node `i` and its descendants.
    @inlinable @inline(__always)
    func next(after i: Int) -> Int {
        let r = nodes[i]
        return r.kind == .sequence || r.kind == .mapping ? Int(r.a) : i + 1
    }

    /// Calls `body` with each item of a sequence, in order (nothing for other nodes).
    @inlinable
    public func forEachItem<E: Error>(_ n: NodeID, _ body: (NodeID) throws(E) -> Void) throws(E) {
        let s = target(n)
        guard nodes[s].kind == .sequence else { return }
        var i = s + 1
        let end = Int(nodes[s].a)
        while i < end {
            try body(NodeID(i))
            i = next(after: i)
        }
    }

    /// A position among a collection's items or entries (see `nextItem`, `nextEntry`).
    public struct Cursor: Sendable {
        @usableFromInline var position: Int
        @usableFromInline var end: Int
        /// Walking a merged mapping's entries in `mergedEntries`.
        @usableFromInline var merged: Bool
        @inlinable init(position: Int, end: Int, merged: Bool) {
            self.position = position
            self.end = end
            self.merged = merged
        }
    }

    /// A cursor on the first item of a sequence (at the end at once for other nodes).
    @inlinable
    public func items(_ n: NodeID) -> Cursor {
        let s = target(n)
        guard nodes[s].kind == .sequence else { return Cursor(position: 0, end: 0, merged: false) }
        return Cursor(position: s + 1, end: Int(nodes[s].a), merged: false)
    }

    /// The item at the cursor, which moves on; nil at the end.
    @inlinable
    public func nextItem(_ c: inout Cursor) -> NodeID? {
        guard c.position < c.end else { return nil }
        let item = c.position
        c.position = next(after: item)
        return NodeID(item)
    }

    /// A cursor on the first entry of a mapping (at the end at once for other nodes).
    @inlinable
    public func entries(_ n: NodeID) -> Cursor {
        let m = target(n)
        let r = nodes[m]
        guard r.kind == .mapping else { return Cursor(position: 0, end: 0, merged: false) }
        if r.flags & Record.hasMerges != 0 {
            let range = merged[Int32(m)]!
            return Cursor(position: range.lowerBound, end: range.upperBound, merged: true)
        }
        return Cursor(position: m + 1, end: Int(r.a), merged: false)
    }

    /// The entry at the cursor, which moves on; nil at the end. Entries are those of
    /// `forEachEntry`, in its order.
    @inlinable
    public func nextEntry(_ c: inout Cursor) -> Entry? {
        if c.merged {
            guard c.position < c.end else { return nil }
            c.position += 1
            return mergedEntries[c.position - 1]
        }
        while c.position < c.end {
            let key = c.position
            let value = next(after: key)
            c.position = next(after: value)
            if nodes[key].flags & Record.skip == 0 { return Entry(key: NodeID(key), value: NodeID(value), mergedFrom: nil) }
        }
        return nil
    }

    /// How many items a sequence has, or entries a mapping has (0 for scalars).
    public func count(_ n: NodeID) -> Int {
        let m = target(n)
        switch nodes[m].kind {
        case .sequence:
            return Int(nodes[m].b)
        case .mapping:
            var count = 0
            forEachEntry(n) { _ in count += 1 }
            return count
        default:
            return 0
        }
    }

    /// Calls `body` with each entry of a mapping, as a `Node` tree's mapping has them: in
    /// document order, without the second of two equal keys, merge keys applied (merged
    /// entries after the local ones, local keys winning). Nothing for other nodes.
    @inlinable
    public func forEachEntry<E: Error>(_ n: NodeID, _ body: (Entry) throws(E) -> Void) throws(E) {
        let m = target(n)
        let r = nodes[m]
        guard r.kind == .mapping else { return }
        if r.flags & Record.hasMerges != 0 {
            for e in mergedEntries[merged[Int32(m)]!] { try body(e) }
            return
        }
        var i = m + 1
        let end = Int(r.a)
        while i < end {
            let value = next(after: i)
            if nodes[i].flags & Record.skip == 0 { try body(Entry(key: NodeID(i), value: NodeID(value), mergedFrom: nil)) }
            i = next(after: value)
        }
    }

    /// The value of the first entry whose key is the scalar text `key`, as `Mapping`'s
    /// subscript finds it.
    public func value(_ n: NodeID, forKey key: String) -> NodeID? {
        let utf8 = Array(key.utf8)
        var found: NodeID?
        forEachEntry(n) { e in
            if found == nil, isScalar(e.key), textEquals(e.key, utf8) || text(e.key) == key { found = e.value }
        }
        return found
    }

    // MARK: Resolution (YAML 1.2 core schema, or the explicit tag)

    /// The scalar's value as the core schema (or its tag) reads it; `.null` for collections.
    public func resolved(_ n: NodeID) -> ResolvedScalar {
        guard isScalar(n) else { return .null }
        if isPlainScalar(n) { return CoreSchema.resolvePlain(text(n)) }
        if !isTagged(n) { return .string(text(n)) }
        return scalar(n).resolved
    }

    /// `resolved(n) == .null`, from the bytes.
    @inlinable
    public func resolvesToNull(_ n: NodeID) -> Bool {
        guard isScalar(n) else { return false }
        if isPlainScalar(n) { return withBytes(n) { CoreSchema.isNull(utf8: $0) } }
        if !isTagged(n) { return false }
        return resolvesToNullSlowly(n)
    }

    @usableFromInline
    func resolvesToNullSlowly(_ n: NodeID) -> Bool { scalar(n).resolvesToNull }

    /// The integer `resolved(n)` holds, or nil; from the bytes for untagged scalars.
    @inlinable
    public func resolvedInt(_ n: NodeID) -> Int? {
        guard isScalar(n) else { return nil }
        if isPlainScalar(n) { return withBytes(n) { CoreSchema.plainInt(utf8: $0) } }
        if !isTagged(n) { return nil }
        return resolvedIntSlowly(n)
    }

    @usableFromInline
    func resolvedIntSlowly(_ n: NodeID) -> Int? { scalar(n).resolvedInt }

    /// True for `yes/no/on/off` and the like, plain and untagged (see `Scalar.isYAML11Boolean`).
    public func isYAML11Boolean(_ n: NodeID) -> Bool {
        isPlainScalar(n) && CoreSchema.yaml11Booleans.contains(text(n))
    }

    /// A short noun for messages: "a string", "a mapping", "a list", "null", …
    public func kindDescription(_ n: NodeID) -> String {
        switch kind(n) {
        case .sequence: "a list"
        case .mapping: "a mapping"
        default: Node.scalar(scalar(n)).kindDescription
        }
    }
}

/// A node of a `FlatDocument`: its index there.
public struct NodeID: Hashable, Sendable {
    public let index: Int32
    @inlinable init(_ index: Int) { self.index = Int32(truncatingIfNeeded: index) }
    /// No node (a placeholder in tables of nodes).
    @inlinable public static var none: NodeID { NodeID(-1) }
}

public enum NodeKind: UInt8, Sendable {
    case scalar, sequence, mapping
    /// Only inside a `FlatDocument`'s storage: readers see the anchored node instead.
    case alias
}

extension ScalarStyle {
    /// The style stored as a number in a `FlatDocument` (0 is plain).
    @inlinable
    init(code: UInt8) {
        switch code {
        case 1: self = .singleQuoted
        case 2: self = .doubleQuoted
        case 3: self = .literal
        case 4: self = .folded
        default: self = .plain
        }
    }
}
