internal import CYAML

/// Builds one `FlatDocument` at a time from libyaml's events, with an explicit stack (no
/// recursion, so nesting depth is bounded by `YAMLLimits.maxDepth`, never by the thread's
/// stack), and hands each finished document to `body`. The document's storage is reused for
/// the next one, so a stream of documents costs no allocation per document once warm.
///
/// Error classes:
/// - stream-fatal (the stream ends there; documents before it were delivered): libyaml's
///   reader, scanner and parser errors, `.tooDeep`, `.aliasBudget`;
/// - document-fatal (that document is not delivered, the next one is parsed):
///   `.unknownAlias`, `.badMerge`; every such error in the document is reported;
/// - non-fatal (the document is delivered): `.duplicateKey` (the first value is kept).
struct Composer {
    let limits: YAMLLimits
    /// Lines before the part of the input being parsed (0 for a whole input): every place is
    /// counted from the whole input's first line.
    var lineOffset = 0
    let body: (FlatDocument) -> Void
    private(set) var errors: [YAMLError] = []

    /// A collection being built.
    struct Frame {
        var index: Int
        var isMapping: Bool
        /// Logical size (nodes, counting alias expansions) and height (collection levels),
        /// which an anchor remembers for the budget and depth checks.
        var count = 1
        var height = 1
        /// Children so far; in a mapping, an even number means the next child is a key.
        var children: Int32 = 0
        var anchor: String?
        /// The last key's index when it is a `<<` merge key (its value is a merge), else -1.
        var pendingMergeKey = -1
        /// Values of `<<` keys and the `<<` key's mark, applied when the mapping ends.
        var merges: [(value: Int, at: Mark)] = []
        /// This mapping's keys live in `keyHashes[keyStart...]` (nested mappings push and pop
        /// theirs above, so one shared array serves the whole stack).
        var keyStart = 0
        /// Beyond `linearKeys` keys, a dictionary from key to its first key node.
        var keyIndex: [KeyID: Int]? = nil
    }

    /// What an anchor names: its node, logical size and height.
    struct Anchored {
        var index: Int
        var count: Int
        var height: Int
    }

    static let linearKeys = 32

    private var document = FlatDocument()
    private var frames: [Frame] = []
    /// Each open mapping's keys as (hash, key node): plain values, scanned linearly; on a
    /// hash match the keys are compared for real. (Two parallel arrays: the scan reads only
    /// the hashes.)
    private var keyHashes: [UInt64] = []
    private var keyNodes: [Int] = []
    private var anchors: [String: Anchored] = [:]
    private var aliasNodes = 0
    private var rootIsImplicitEmpty = false
    private var documentFailed = false
    private var stopped = false

    init(limits: YAMLLimits, body: @escaping (FlatDocument) -> Void) {
        self.limits = limits
        self.body = body
    }

    mutating func fail(_ error: YAMLError) {
        errors.append(error)
        stopped = true
    }

    /// Handles one event; false when the stream is over (its end, or a fatal error).
    mutating func consume(_ event: yaml_event_t) -> Bool {
        var mark = EventLoop.mark(event.start_mark)
        mark.line += lineOffset
        switch event.type {
        case YAML_SCALAR_EVENT:
            let data = event.data.scalar
            let style: UInt8
            switch data.style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = 1
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = 2
            case YAML_LITERAL_SCALAR_STYLE: style = 3
            case YAML_FOLDED_SCALAR_STYLE: style = 4
            default: style = 0
            }
            let index = document.nodes.count
            let offset = document.bytes.count
            guard offset <= Int(Int32.max) - data.length else { return tooLarge(mark) }
            document.bytes.append(contentsOf: UnsafeBufferPointer(start: data.value, count: data.length))
            let tag = data.tag.map { storeTag($0) } ?? -1
            document.nodes.append(FlatDocument.Record(
                kind: .scalar, style: style, flags: 0, line: Int32(clamping: mark.line), column: Int32(clamping: mark.column),
                a: Int32(offset), b: Int32(data.length), tag: tag))
            if let anchor = data.anchor {
                anchors[String(cString: anchor)] = Anchored(index: index, count: 1, height: 0)
            } else if frames.isEmpty, tag < 0, style == 0, data.length == 0 {
                rootIsImplicitEmpty = true  // `---` with nothing after it
            }
            added(index, count: 1, height: 0)
        case YAML_MAPPING_START_EVENT, YAML_SEQUENCE_START_EVENT:
            guard frames.count < limits.maxDepth else {
                fail(YAMLError(
                    kind: .tooDeep,
                    message: "collections nested more than \(limits.maxDepth) levels deep; flatten the document",
                    mark: mark))
                return false
            }
            let isMapping = event.type == YAML_MAPPING_START_EVENT
            let tag: UnsafeMutablePointer<yaml_char_t>?
            let anchor: UnsafeMutablePointer<yaml_char_t>?
            let flow: Bool
            if isMapping {
                let data = event.data.mapping_start
                (tag, anchor, flow) = (data.tag, data.anchor, data.style == YAML_FLOW_MAPPING_STYLE)
            } else {
                let data = event.data.sequence_start
                (tag, anchor, flow) = (data.tag, data.anchor, data.style == YAML_FLOW_SEQUENCE_STYLE)
            }
            let index = document.nodes.count
            document.nodes.append(FlatDocument.Record(
                kind: isMapping ? .mapping : .sequence, style: flow ? 1 : 0, flags: 0,
                line: Int32(clamping: mark.line), column: Int32(clamping: mark.column), a: 0, b: 0,
                tag: tag.map { storeTag($0) } ?? -1))
            frames.append(Frame(
                index: index, isMapping: isMapping, anchor: anchor.map { String(cString: $0) }, keyStart: keyHashes.count))
        case YAML_MAPPING_END_EVENT, YAML_SEQUENCE_END_EVENT:
            var frame = frames.removeLast()
            guard document.nodes.count <= Int(Int32.max) else { return tooLarge(mark) }
            document.nodes[frame.index].a = Int32(document.nodes.count)
            document.nodes[frame.index].b = frame.children
            if frame.isMapping {
                if !frame.merges.isEmpty { applyMerges(&frame) }
                keyHashes.removeSubrange(frame.keyStart...)
                keyNodes.removeSubrange(frame.keyStart...)
            }
            if let anchor = frame.anchor {
                anchors[anchor] = Anchored(index: frame.index, count: frame.count, height: frame.height)
            }
            added(frame.index, count: frame.count, height: frame.height)
        case YAML_ALIAS_EVENT:
            let name = String(cString: event.data.alias.anchor)
            let index = document.nodes.count
            guard let target = anchors[name] else {
                errors.append(YAMLError(
                    kind: .unknownAlias,
                    message: "unknown alias \"*\(name)\": no anchor \"&\(name)\" before it in this document",
                    mark: mark))
                documentFailed = true
                // An empty scalar stands in for it; the document is not delivered.
                document.nodes.append(FlatDocument.Record(
                    kind: .scalar, style: 0, flags: 0, line: Int32(clamping: mark.line),
                    column: Int32(clamping: mark.column), a: Int32(document.bytes.count), b: 0, tag: -1))
                added(index, count: 1, height: 0)
                return true
            }
            aliasNodes += target.count
            if aliasNodes > limits.maxAliasNodes {
                fail(YAMLError(
                    kind: .aliasBudget,
                    message: "aliases expand to more than \(limits.maxAliasNodes) nodes in this document (a \"billion laughs\" document?); use fewer or smaller aliases",
                    mark: mark))
                return false
            }
            if frames.count + target.height > limits.maxDepth {
                fail(YAMLError(
                    kind: .tooDeep,
                    message: "alias \"*\(name)\" nests collections more than \(limits.maxDepth) levels deep; flatten the document",
                    mark: mark))
                return false
            }
            document.nodes.append(FlatDocument.Record(
                kind: .alias, style: 0, flags: 0, line: Int32(clamping: mark.line), column: Int32(clamping: mark.column),
                a: Int32(target.index), b: 0, tag: -1))
            added(index, count: target.count, height: target.height)
        case YAML_DOCUMENT_START_EVENT:
            if frames.capacity == 0 {
                frames.reserveCapacity(16)
                keyHashes.reserveCapacity(64)
                keyNodes.reserveCapacity(64)
            }
            document.start = mark
            document.root = nil
            document.nodes.removeAll(keepingCapacity: true)
            document.bytes.removeAll(keepingCapacity: true)
            if !document.tags.isEmpty { document.tags.removeAll(keepingCapacity: true) }
            if !document.merged.isEmpty {
                document.merged.removeAll(keepingCapacity: true)
                document.mergedEntries.removeAll(keepingCapacity: true)
            }
            anchors.removeAll(keepingCapacity: true)
            aliasNodes = 0
            rootIsImplicitEmpty = false
            documentFailed = false
            frames.removeAll(keepingCapacity: true)
        case YAML_DOCUMENT_END_EVENT:
            if !documentFailed {
                if rootIsImplicitEmpty { document.root = nil }
                body(document)
            }
            document.root = nil
        case YAML_STREAM_END_EVENT:
            return false
        default:
            break  // STREAM-START, NO-EVENT
        }
        return !stopped
    }

    private mutating func tooLarge(_ mark: Mark) -> Bool {
        fail(YAMLError(kind: .parser, message: "the document is larger than 2 GiB; split it into several documents", mark: mark))
        return false
    }

    private mutating func storeTag(_ tag: UnsafeMutablePointer<yaml_char_t>) -> Int32 {
        document.tags.append(String(cString: tag))
        return Int32(document.tags.count - 1)
    }

    /// Attaches a finished node (`index`) to the collection being built, or makes it the root.
    @inline(__always)
    private mutating func added(_ index: Int, count: Int, height: Int) {
        guard !frames.isEmpty else {
            document.root = NodeID(index)
            return
        }
        let last = frames.count - 1
        frames[last].count += count
        if height >= frames[last].height { frames[last].height = height + 1 }
        let position = frames[last].children
        frames[last].children = position + 1
        guard frames[last].isMapping else { return }
        if position & 1 == 0 {
            addKey(index, frame: last)
        } else if frames[last].pendingMergeKey >= 0 {
            let key = frames[last].pendingMergeKey
            frames[last].pendingMergeKey = -1
            frames[last].merges.append((index, document.mark(NodeID(key))))
        }
    }

    /// A key: checked against its siblings before its value arrives.
    private mutating func addKey(_ key: Int, frame f: Int) {
        var first: Int? = nil
        if frames[f].keyIndex != nil {
            let id = keyID(key)
            first = frames[f].keyIndex![id]
            if first == nil { frames[f].keyIndex![id] = key }
        } else {
            let hash = keyHash(key)
            let start = frames[f].keyStart
            let found = keyHashes.withUnsafeBufferPointer { hashes -> Int in
                var i = start
                while i < hashes.count {
                    if hashes[i] == hash { return i }
                    i += 1
                }
                return -1
            }
            if found >= 0 { first = earlierKey(key, hash: hash, from: found) }
            if first == nil {
                if keyHashes.count - start >= Composer.linearKeys {
                    startKeyIndex(key, frame: f)
                } else {
                    keyHashes.append(hash)
                    keyNodes.append(key)
                }
            }
        }
        if let first {
            duplicate(key, first: first)
            document.nodes[key].flags |= FlatDocument.Record.skip
        } else if isMergeKey(key) {
            document.nodes[key].flags |= FlatDocument.Record.skip
            frames[f].pendingMergeKey = key
        }
    }

    /// The first earlier key equal to `key`, looking from `keyHashes[from]` on (the first
    /// index with an equal hash).
    @inline(never)
    private func earlierKey(_ key: Int, hash: UInt64, from: Int) -> Int? {
        let id = keyID(key)
        for i in from..<keyHashes.count where keyHashes[i] == hash {
            if keyID(keyNodes[i]) == id { return keyNodes[i] }
        }
        return nil
    }

    @inline(never)
    private mutating func startKeyIndex(_ key: Int, frame f: Int) {
        var index: [KeyID: Int] = [:]
        index.reserveCapacity(2 * Composer.linearKeys + 2)
        for k in keyNodes[frames[f].keyStart...] where index[keyID(k)] == nil { index[keyID(k)] = k }
        index[keyID(key)] = key
        frames[f].keyIndex = index
    }

    @inline(never)
    private mutating func duplicate(_ key: Int, first: Int) {
        let keyMark = document.mark(NodeID(key)), firstMark = document.mark(NodeID(first))
        errors.append(YAMLError(
            kind: .duplicateKey,
            message: "duplicate key \(describe(key)) (first at \(firstMark.line):\(firstMark.column)); the first value is used, remove one of them",
            mark: keyMark, related: firstMark))
    }

    /// A plain `<<`, or one tagged `!!merge`.
    private func isMergeKey(_ key: Int) -> Bool {
        let n = NodeID(key)
        guard document.byteCount(n) == 2, document.withBytes(n, { $0[0] == UInt8(ascii: "<") && $0[1] == UInt8(ascii: "<") }) else {
            return false
        }
        return document.isPlainScalar(n) || document.tag(n) == YAMLTag.merge
    }

    /// The mapping's entries after its merge keys: the local ones, then those of each `<<`
    /// mapping (in order) that no local key nor an earlier merged mapping has.
    private mutating func applyMerges(_ frame: inout Frame) {
        let mapping = NodeID(frame.index)
        var entries: [FlatDocument.Entry] = []
        // The keys so far (hash, node), and "<<" itself (a `<<` key of a merged mapping
        // never comes in).
        var seen: [(hash: UInt64, key: Int)] = []
        document.forEachLocalEntry(mapping) { e in
            seen.append((keyHash(Int(e.key.index)), Int(e.key.index)))
            entries.append(e)
        }
        func isNew(_ key: Int) -> Bool {
            if isMergeText(key), keyID(key) == KeyID.scalar(.string("<<")) { return false }
            let hash = keyHash(key)
            for s in seen where s.hash == hash && sameKey(s.key, key) { return false }
            seen.append((hash, key))
            return true
        }
        for merge in frame.merges {
            var sources: [NodeID] = []
            var bad: [(NodeID, inList: Bool)] = []
            let value = NodeID(merge.value)
            switch document.kind(value) {
            case .mapping:
                sources = [value]
            case .sequence:
                document.forEachItem(value) { item in
                    if document.kind(item) == .mapping { sources.append(item) } else { bad.append((item, true)) }
                }
            default:
                bad.append((value, false))
            }
            for (node, inList) in bad { badMerge(node, at: merge.at, inList: inList) }
            for source in sources {
                document.forEachEntry(source) { e in
                    if isNew(Int(e.key.index)) {
                        entries.append(FlatDocument.Entry(key: e.key, value: e.value, mergedFrom: merge.at))
                    }
                }
            }
        }
        let start = document.mergedEntries.count
        document.mergedEntries += entries
        document.merged[Int32(frame.index)] = start..<document.mergedEntries.count
        document.nodes[frame.index].flags |= FlatDocument.Record.hasMerges
    }

    /// A scalar whose text is `<<`.
    private func isMergeText(_ key: Int) -> Bool {
        let n = NodeID(key)
        return document.isScalar(n) && document.byteCount(n) == 2
            && document.withBytes(n) { $0[0] == UInt8(ascii: "<") && $0[1] == UInt8(ascii: "<") }
    }

    /// Two keys are the same key (as `KeyID` says): compared by their bytes when both are
    /// untagged scalars that can only be strings, else by `KeyID`.
    private func sameKey(_ a: Int, _ b: Int) -> Bool {
        let (x, y) = (NodeID(a), NodeID(b))
        if isOnlyString(x), isOnlyString(y) {
            return document.byteCount(x) == document.byteCount(y)
                && document.withBytes(x) { bx in document.withBytes(y) { by in
                    for i in bx.indices where bx[i] != by[i] { return false }
                    return true
                } }
        }
        return keyID(a) == keyID(b)
    }

    /// An untagged scalar that resolves to a string whatever it holds besides its first byte
    /// (quoted, or plain with a first byte that starts no other type).
    private func isOnlyString(_ n: NodeID) -> Bool {
        guard document.isScalar(n), !document.isTagged(n) else { return false }
        if !document.isPlainScalar(n) { return true }
        return document.withBytes(n) { b in b.count > 0 && (Composer.startsOnlyStrings(b[0]) || (b.count > 5 && Composer.isLetter(b[0]))) }
    }

    private mutating func badMerge(_ value: NodeID, at: Mark, inList: Bool) {
        let what = inList
            ? "a list of mappings, found a list holding \(document.kindDescription(value))"
            : "a mapping or a list of mappings, found \(document.kindDescription(value))"
        errors.append(YAMLError(kind: .badMerge, message: "merge key \"<<\" expects \(what)", mark: document.mark(value), related: at))
        documentFailed = true
    }

    private func describe(_ key: Int) -> String {
        switch document.kind(NodeID(key)) {
        case .sequence: "(a list)"
        case .mapping: "(a mapping)"
        default: "\"\(document.text(NodeID(key)))\""
        }
    }

    // MARK: Comparing keys

    /// How a key is compared with its siblings: scalars by their resolved value (so `1` and
    /// `0x1` clash, `"a"` and `a` clash), collections by structure.
    enum KeyID: Hashable {
        case scalar(ResolvedScalar)
        case node(Node)
    }

    private func keyID(_ key: Int) -> KeyID {
        let n = NodeID(key)
        guard document.isScalar(n) else { return .node(document.node(n)) }
        return .scalar(document.resolved(n))
    }

    /// A cheap hash, compared before the keys themselves: for string keys the FNV-1a of the
    /// scalar's bytes, for other scalars their value, 0 for collections; equal keys always
    /// hash equal.
    private func keyHash(_ key: Int) -> UInt64 {
        let n = NodeID(key)
        guard document.isScalar(n) else { return 0 }
        let text = document.withBytes(n) { b -> (hash: UInt64, stringOnly: Bool) in
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for i in b.indices { h = (h ^ UInt64(b[i])) &* 0x100_0000_01b3 }
            // Most keys are strings whose first byte can start no other type (the resolver's
            // own fast path); longer than `false`, a plain key starting with a letter is a string too.
            let stringOnly = b.count > 0 && (Composer.startsOnlyStrings(b[0]) || (b.count > 5 && Composer.isLetter(b[0])))
            return (h, stringOnly)
        }
        if !document.isTagged(n), !document.isPlainScalar(n) || text.stringOnly { return text.hash }
        switch document.resolved(n) {
        case .string: return text.hash
        case .int(let i): return UInt64(bitPattern: Int64(i))
        case .bool(let b): return b ? 1 : 2
        default: return 0
        }
    }

    /// True when a plain scalar starting with `b` resolves to a string (see
    /// `CoreSchema.resolvePlain`).
    @inline(__always)
    static func startsOnlyStrings(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "~"), UInt8(ascii: "t"), UInt8(ascii: "T"),
            UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"),
            UInt8(ascii: "+"), UInt8(ascii: "."):
            false
        default:
            true
        }
    }

    @inline(__always)
    static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z") }
}

extension FlatDocument {
    /// A mapping's own entries, before its merge keys are applied.
    func forEachLocalEntry(_ n: NodeID, _ body: (Entry) -> Void) {
        let m = target(n)
        var i = m + 1
        let end = Int(nodes[m].a)
        while i < end {
            let value = next(after: i)
            if nodes[i].flags & Record.skip == 0 { body(Entry(key: NodeID(i), value: NodeID(value), mergedFrom: nil)) }
            i = next(after: value)
        }
    }
}
