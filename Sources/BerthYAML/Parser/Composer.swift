internal import CYAML

/// Builds node trees from libyaml events with an explicit stack (no recursion, so nesting
/// depth is bounded by `YAMLLimits.maxDepth`, never by the thread's stack).
///
/// Error classes:
/// - stream-fatal (the stream ends there; documents before it were delivered): libyaml's
///   reader, scanner and parser errors, `.tooDeep`, `.aliasBudget`;
/// - document-fatal (that document is not delivered, the next one is parsed):
///   `.unknownAlias`, `.badMerge`; every such error in the document is reported;
/// - non-fatal (the document is delivered): `.duplicateKey` (the first value is kept).
struct Composer {
    let limits: YAMLLimits
    let body: (Document) -> Void
    private(set) var errors: [YAMLError] = []

    /// A node just finished, with its logical size (nodes, counting alias expansions) and
    /// height (collection levels), which anchors remember for the budget and depth checks.
    struct Built {
        var node: Node
        var count: Int
        var height: Int
        /// For a scalar in key position: `KeyID.quickHash`, computed from libyaml's bytes;
        /// 0 when unknown (aliases), and then computed from the node.
        var keyHash: UInt64 = 0
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

    @inline(__always)
    static func fnv1a(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    /// How a key is compared with its siblings: scalars by their resolved value (so `1` and
    /// `0x1` clash, `"a"` and `a` clash), collections by structure.
    enum KeyID: Hashable {
        case scalar(ResolvedScalar)
        case node(Node)

        /// A cheap hash, compared before the keys themselves in the linear scan: for string
        /// keys the FNV-1a of the scalar's bytes (`textHash`, taken from libyaml's buffer),
        /// for other scalars their value; equal keys always hash equal.
        func quickHash(textHash: UInt64) -> UInt64 {
            switch self {
            case .scalar(.string(let s)):
                if textHash != 0 { textHash } else {  // an alias used as a key: hash the text
                    s.utf8.reduce(0xcbf2_9ce4_8422_2325 as UInt64) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
                }
            case .scalar(.int(let i)): UInt64(bitPattern: Int64(i))
            case .scalar(.bool(let b)): b ? 1 : 2
            default: 0
            }
        }

        init(_ node: Node) {
            guard case .scalar(let s) = node else {
                self = .node(node)
                return
            }
            // Fast path for the common untagged key; same answer as `s.resolved`.
            if s.tag == nil {
                self = .scalar(s.style == .plain ? CoreSchema.resolvePlain(s.value) : .string(s.value))
            } else {
                self = .scalar(s.resolved)
            }
        }
    }

    struct Frame {
        enum Kind { case document, sequence, mapping }
        var kind: Kind
        var tag: String?
        var style: CollectionStyle
        var mark: Mark
        var anchor: String?
        var count = 1
        var height = 1
        var items: [Node] = []
        var entries: [Mapping.Entry] = []
        var pendingKey: Node? = nil
        /// `pendingKey != nil`, readable without copying the key.
        var hasKey = false
        var pendingIsMerge = false
        var skipValue = false
        /// Values of `<<` keys and the `<<` key's mark, applied when the mapping ends.
        var merges: [(value: Node, at: Mark)] = []
        /// This mapping's keys live in `keys[keyStart...]` (nested mappings push and pop
        /// theirs above, so one shared array serves the whole stack).
        var keyStart = 0
        /// Beyond `linearKeys` keys, a dictionary from key to its first mark.
        var keyIndex: [KeyID: Mark]? = nil

        /// The key (already given its value) written at `mark`.
        func key(at mark: Mark) -> Node? {
            for e in entries where e.key.mark == mark { return e.key }
            for m in merges where m.at == mark { return Composer.mergeKey }
            return nil
        }

        /// Every key so far (the `<<` ones included) with its first mark.
        func keyIDs() -> [KeyID: Mark] {
            if let keyIndex { return keyIndex }
            var index: [KeyID: Mark] = [:]
            index.reserveCapacity(2 * entries.count + 2)
            for e in entries where index[KeyID(e.key)] == nil { index[KeyID(e.key)] = e.key.mark }
            for m in merges where index[KeyID(Composer.mergeKey)] == nil { index[KeyID(Composer.mergeKey)] = m.at }
            return index
        }
    }

    static let mergeKey = Node.scalar(Scalar(value: "<<", mark: Mark(line: 0, column: 0)))

    static let linearKeys = 32

    /// The collection being built (or the document, at the bottom), kept out of `parents`
    /// so the hot path mutates it in place.
    private var current = Frame(kind: .document, style: .block, mark: Mark(line: 1, column: 1))
    private var parents: [Frame] = []
    /// Collections open right now (`parents.count` minus the document frame, plus current).
    private var depth = 0
    /// Each open mapping's keys as (hash, mark): plain values, no reference counting. On a
    /// hash match the earlier key node is found by its mark and compared for real.
    /// (Two parallel arrays: the scan reads only the hashes.)
    private var keyHashes: [UInt64] = []
    private var keyMarks: [Mark] = []
    private var anchors: [String: Built] = [:]
    private var aliasNodes = 0
    private var documentStart = Mark(line: 1, column: 1)
    private var root: Built? = nil
    private var rootIsImplicitEmpty = false
    private var documentFailed = false
    private var stopped = false

    init(limits: YAMLLimits, body: @escaping (Document) -> Void) {
        self.limits = limits
        self.body = body
    }

    mutating func fail(_ error: YAMLError) {
        errors.append(error)
        stopped = true
    }

    /// Handles one event; false when the stream is over (its end, or a fatal error).
    mutating func consume(_ event: yaml_event_t) -> Bool {
        let mark = EventLoop.mark(event.start_mark)
        switch event.type {
        case YAML_SCALAR_EVENT:
            let data = event.data.scalar
            let text = UnsafeBufferPointer(start: data.value, count: data.length)
            let value = String(decoding: text, as: UTF8.self)
            let tag = data.tag.map { String(cString: $0) }
            let style: ScalarStyle
            switch data.style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: style = .literal
            case YAML_FOLDED_SCALAR_STYLE: style = .folded
            default: style = .plain
            }
            let node = Node.scalar(Scalar(value: value, tag: tag, style: style, mark: mark))
            var keyHash: UInt64 = 0
            if current.kind == .mapping, !current.hasKey {
                // Most keys are untagged strings whose first byte can start no other type
                // (the resolver's own fast path): hash their bytes without resolving.
                // Longer than `false`, a plain key starting with a letter is a string too.
                if tag == nil,
                    style != .plain
                        || (text.count > 0 && (Composer.startsOnlyStrings(text[0]) || (text.count > 5 && Composer.isLetter(text[0]))))
                {
                    keyHash = Composer.fnv1a(text)
                } else {
                    keyHash = KeyID(node).quickHash(textHash: Composer.fnv1a(text))
                }
            }
            if let anchor = data.anchor {
                anchors[String(cString: anchor)] = Built(node: node, count: 1, height: 0, keyHash: keyHash)
            } else if depth == 0, tag == nil, style == .plain, value.isEmpty {
                rootIsImplicitEmpty = true  // `---` with nothing after it
            }
            addScalar(node, keyHash: keyHash)
        case YAML_MAPPING_START_EVENT, YAML_SEQUENCE_START_EVENT:
            guard depth < limits.maxDepth else {
                fail(YAMLError(
                    kind: .tooDeep,
                    message: "collections nested more than \(limits.maxDepth) levels deep; flatten the document",
                    mark: mark))
                return false
            }
            let isMapping = event.type == YAML_MAPPING_START_EVENT
            let tag: String?
            let anchor: String?
            let style: CollectionStyle
            if isMapping {
                let data = event.data.mapping_start
                tag = data.tag.map { String(cString: $0) }
                anchor = data.anchor.map { String(cString: $0) }
                style = data.style == YAML_FLOW_MAPPING_STYLE ? .flow : .block
            } else {
                let data = event.data.sequence_start
                tag = data.tag.map { String(cString: $0) }
                anchor = data.anchor.map { String(cString: $0) }
                style = data.style == YAML_FLOW_SEQUENCE_STYLE ? .flow : .block
            }
            var frame = Frame(kind: isMapping ? .mapping : .sequence, tag: tag, style: style, mark: mark, anchor: anchor, keyStart: keyHashes.count)
            if isMapping {
                frame.entries.reserveCapacity(8)
            } else {
                frame.items.reserveCapacity(4)
            }
            swap(&current, &frame)
            parents.append(frame)  // moves the parent down, no copy of its arrays
            depth += 1
        case YAML_MAPPING_END_EVENT, YAML_SEQUENCE_END_EVENT:
            var frame = parents.removeLast()
            swap(&current, &frame)
            depth -= 1
            let node: Node
            if frame.kind == .mapping {
                if !frame.merges.isEmpty { applyMerges(&frame) }
                keyHashes.removeSubrange(frame.keyStart...)
                keyMarks.removeSubrange(frame.keyStart...)
                node = .mapping(Mapping(entries: frame.entries, tag: frame.tag, style: frame.style, mark: frame.mark))
            } else {
                node = .sequence(Sequence(items: frame.items, tag: frame.tag, style: frame.style, mark: frame.mark))
            }
            let built = Built(node: node, count: frame.count, height: frame.height)
            if let anchor = frame.anchor { anchors[anchor] = built }
            add(built)
        case YAML_ALIAS_EVENT:
            let name = String(cString: event.data.alias.anchor)
            guard let target = anchors[name] else {
                errors.append(YAMLError(
                    kind: .unknownAlias,
                    message: "unknown alias \"*\(name)\": no anchor \"&\(name)\" before it in this document",
                    mark: mark))
                documentFailed = true
                add(Built(node: .scalar(Scalar(value: "", mark: mark)), count: 1, height: 0))
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
            if depth + target.height > limits.maxDepth {
                fail(YAMLError(
                    kind: .tooDeep,
                    message: "alias \"*\(name)\" nests collections more than \(limits.maxDepth) levels deep; flatten the document",
                    mark: mark))
                return false
            }
            add(target)  // shares the anchored tree (copy-on-write), no deep copy
        case YAML_DOCUMENT_START_EVENT:
            if parents.capacity == 0 {
                // Reserved at the first document, not in `init`: a stream whose documents
                // all take a fast path never needs them.
                parents.reserveCapacity(16)
                keyHashes.reserveCapacity(64)
                keyMarks.reserveCapacity(64)
            }
            documentStart = mark
            anchors.removeAll(keepingCapacity: true)
            aliasNodes = 0
            root = nil
            rootIsImplicitEmpty = false
            documentFailed = false
            current = Frame(kind: .document, style: .block, mark: mark)
            parents.removeAll(keepingCapacity: true)
            depth = 0
        case YAML_DOCUMENT_END_EVENT:
            if !documentFailed {
                let node = rootIsImplicitEmpty ? nil : root?.node
                body(Document(root: node, start: documentStart))
            }
            root = nil
        case YAML_STREAM_END_EVENT:
            return false
        default:
            break  // STREAM-START, NO-EVENT
        }
        return !stopped
    }

    /// `add` for a scalar (count 1, height 0), which moves the node instead of copying a
    /// `Built` around it.
    private mutating func addScalar(_ node: __owned Node, keyHash: UInt64) {
        switch current.kind {
        case .document:
            root = Built(node: node, count: 1, height: 0, keyHash: keyHash)
            return
        case .sequence:
            current.count += 1
            current.items.append(node)
            return
        case .mapping:
            current.count += 1
        }
        if current.hasKey, let key = current.pendingKey.take() {
            current.hasKey = false
            if current.skipValue {
                current.skipValue = false
            } else if current.pendingIsMerge {
                current.merges.append((node, key.mark))
            } else {
                current.entries.append(Mapping.Entry(key: key, value: node))
            }
            return
        }
        addKey(node, keyHash: keyHash)
    }

    /// Attaches a finished node to the collection being built (or makes it the root).
    private mutating func add(_ built: __owned Built) {
        switch current.kind {
        case .document:
            root = built
            return
        case .sequence:
            current.count += built.count
            if built.height >= current.height { current.height = built.height + 1 }
            current.items.append(built.node)
            return
        case .mapping:
            current.count += built.count
            if built.height >= current.height { current.height = built.height + 1 }
        }
        if current.hasKey, let key = current.pendingKey.take() {
            current.hasKey = false
            if current.skipValue {
                current.skipValue = false
            } else if current.pendingIsMerge {
                current.merges.append((built.node, key.mark))
            } else {
                current.entries.append(Mapping.Entry(key: key, value: built.node))
            }
            return
        }
        addKey(built.node, keyHash: built.keyHash)
    }

    /// A key: checked against its siblings before its value arrives.
    private mutating func addKey(_ key: __owned Node, keyHash: UInt64) {
        var first: Mark? = nil
        if current.keyIndex != nil {
            first = indexedKey(key)
        } else {
            let hash = keyHash != 0 ? keyHash : KeyID(key).quickHash(textHash: 0)
            let start = current.keyStart
            let found = keyHashes.withUnsafeBufferPointer { hashes -> Int in
                var i = start
                while i < hashes.count {
                    if hashes[i] == hash { return i }
                    i += 1
                }
                return -1
            }
            if found >= 0 {
                first = earlierKey(key, hash: hash, from: found)
            }
            if first == nil {
                if keyHashes.count - start >= Composer.linearKeys {
                    startKeyIndex(key)
                } else {
                    keyHashes.append(hash)
                    keyMarks.append(key.mark)
                }
            }
        }
        if let first { duplicate(key, first: first) }
        current.pendingIsMerge = Composer.isMergeKey(key)
        current.pendingKey = key
        current.hasKey = true
    }

    /// The first earlier key equal to `key`, looking from `keyHashes[from]` on (the first
    /// index with an equal hash).
    @inline(never)
    private func earlierKey(_ key: Node, hash: UInt64, from: Int) -> Mark? {
        let id = KeyID(key)
        for i in from..<keyHashes.count where keyHashes[i] == hash {
            if let earlier = current.key(at: keyMarks[i]), KeyID(earlier) == id { return keyMarks[i] }
        }
        return nil
    }

    /// A big mapping's key, looked up in (and added to) its dictionary.
    @inline(never)
    private mutating func indexedKey(_ key: Node) -> Mark? {
        let id = KeyID(key)
        let first = current.keyIndex![id]
        if first == nil { current.keyIndex![id] = key.mark }
        return first
    }

    @inline(never)
    private mutating func startKeyIndex(_ key: Node) {
        var index = current.keyIDs()
        index[KeyID(key)] = key.mark
        current.keyIndex = index
    }

    @inline(never)
    private mutating func duplicate(_ key: Node, first: Mark) {
        let keyMark = key.mark
        errors.append(YAMLError(
            kind: .duplicateKey,
            message: "duplicate key \(Composer.describe(key)) (first at \(first.line):\(first.column)); the first value is used, remove one of them",
            mark: keyMark, related: first))
        current.skipValue = true
    }

    @inline(__always)
    static func isMergeKey(_ key: Node) -> Bool {
        guard case .scalar(let s) = key, s.value.utf8.count == 2, s.value == "<<" else { return false }
        return (s.tag == nil && s.style == .plain) || s.tag == YAMLTag.merge
    }

    /// Appends the entries of the `<<` mappings that no local key (nor an earlier merged
    /// mapping) already has.
    private mutating func applyMerges(_ frame: inout Frame) {
        var seen = Set(frame.keyIDs().keys)
        for merge in frame.merges {
            var sources: [Mapping] = []
            switch merge.value {
            case .mapping(let m):
                sources = [m]
            case .sequence(let list):
                for item in list.items {
                    if case .mapping(let m) = item {
                        sources.append(m)
                    } else {
                        badMerge(item, at: merge.at, inList: true)
                    }
                }
            case .scalar:
                badMerge(merge.value, at: merge.at, inList: false)
            }
            for source in sources {
                for entry in source.entries where seen.insert(KeyID(entry.key)).inserted {
                    frame.entries.append(Mapping.Entry(key: entry.key, value: entry.value, mergedFrom: merge.at))
                }
            }
        }
    }

    private mutating func badMerge(_ value: Node, at: Mark, inList: Bool) {
        let what = inList ? "a list of mappings, found a list holding \(value.kindDescription)" : "a mapping or a list of mappings, found \(value.kindDescription)"
        errors.append(YAMLError(
            kind: .badMerge,
            message: "merge key \"<<\" expects \(what)",
            mark: value.mark, related: at))
        documentFailed = true
    }

    static func describe(_ key: Node) -> String {
        switch key {
        case .scalar(let s): "\"\(s.value)\""
        case .sequence: "(a list)"
        case .mapping: "(a mapping)"
        }
    }
}
