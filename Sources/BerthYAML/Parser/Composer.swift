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
    }

    /// How a key is compared with its siblings: scalars by their resolved value (so `1` and
    /// `0x1` clash, `"a"` and `a` clash), collections by structure.
    enum KeyID: Hashable {
        case scalar(ResolvedScalar)
        case node(Node)

        init(_ node: Node) {
            if case .scalar(let s) = node { self = .scalar(s.resolved) } else { self = .node(node) }
        }
    }

    struct Frame {
        var isMapping: Bool
        var tag: String?
        var style: CollectionStyle
        var mark: Mark
        var anchor: String?
        var count = 1
        var height = 1
        var items: [Node] = []
        var entries: [Mapping.Entry] = []
        var pendingKey: Node? = nil
        var pendingIsMerge = false
        var skipValue = false
        /// Values of `<<` keys and the `<<` key's mark, applied when the mapping ends.
        var merges: [(value: Node, at: Mark)] = []
        /// This mapping's keys live in `keys[keyStart...]` (nested mappings push and pop
        /// theirs above, so one shared array serves the whole stack).
        var keyStart = 0
        /// Beyond `linearKeys` keys, a dictionary from key to its first mark.
        var keyIndex: [KeyID: Mark]? = nil
    }

    static let linearKeys = 8

    private var stack: [Frame] = []
    private var keys: [(id: KeyID, mark: Mark)] = []
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
        stack.reserveCapacity(16)
        keys.reserveCapacity(64)
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
            let value = String(decoding: UnsafeBufferPointer(start: data.value, count: data.length), as: UTF8.self)
            let tag = data.tag.map { String(cString: $0) }
            let style: ScalarStyle
            switch data.style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: style = .literal
            case YAML_FOLDED_SCALAR_STYLE: style = .folded
            default: style = .plain
            }
            let built = Built(node: .scalar(Scalar(value: value, tag: tag, style: style, mark: mark)), count: 1, height: 0)
            if let anchor = data.anchor {
                anchors[String(cString: anchor)] = built
            } else if stack.isEmpty, tag == nil, style == .plain, value.isEmpty {
                rootIsImplicitEmpty = true  // `---` with nothing after it
            }
            add(built)
        case YAML_MAPPING_START_EVENT, YAML_SEQUENCE_START_EVENT:
            guard stack.count < limits.maxDepth else {
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
            stack.append(Frame(isMapping: isMapping, tag: tag, style: style, mark: mark, anchor: anchor, keyStart: keys.count))
        case YAML_MAPPING_END_EVENT, YAML_SEQUENCE_END_EVENT:
            var frame = stack.removeLast()
            let node: Node
            if frame.isMapping {
                if !frame.merges.isEmpty { applyMerges(&frame) }
                keys.removeSubrange(frame.keyStart...)
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
            if stack.count + target.height > limits.maxDepth {
                fail(YAMLError(
                    kind: .tooDeep,
                    message: "alias \"*\(name)\" nests collections more than \(limits.maxDepth) levels deep; flatten the document",
                    mark: mark))
                return false
            }
            add(target)  // shares the anchored tree (copy-on-write), no deep copy
        case YAML_DOCUMENT_START_EVENT:
            documentStart = mark
            anchors.removeAll(keepingCapacity: true)
            aliasNodes = 0
            root = nil
            rootIsImplicitEmpty = false
            documentFailed = false
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

    /// Attaches a finished node to the collection being built (or makes it the root).
    private mutating func add(_ built: Built) {
        guard !stack.isEmpty else {
            root = built
            return
        }
        let top = stack.count - 1
        stack[top].count += built.count
        if built.height >= stack[top].height { stack[top].height = built.height + 1 }
        guard stack[top].isMapping else {
            stack[top].items.append(built.node)
            return
        }
        if let key = stack[top].pendingKey {
            if stack[top].skipValue {
                stack[top].skipValue = false
            } else if stack[top].pendingIsMerge {
                stack[top].merges.append((built.node, key.mark))
            } else {
                stack[top].entries.append(Mapping.Entry(key: key, value: built.node))
            }
            stack[top].pendingKey = nil
            return
        }
        // A key: check it against its siblings before its value arrives.
        let key = built.node
        let id = KeyID(key)
        let keyMark = key.mark
        var first: Mark? = nil
        let start = stack[top].keyStart
        if stack[top].keyIndex != nil {
            first = stack[top].keyIndex![id]
            if first == nil { stack[top].keyIndex![id] = keyMark }
        } else {
            for i in start..<keys.count where keys[i].id == id {
                first = keys[i].mark
                break
            }
            if first == nil, keys.count - start >= Composer.linearKeys {
                var index: [KeyID: Mark] = [:]
                index.reserveCapacity(2 * Composer.linearKeys)
                for i in start..<keys.count { index[keys[i].id] = keys[i].mark }
                index[id] = keyMark
                stack[top].keyIndex = index
            }
        }
        if let first {
            errors.append(YAMLError(
                kind: .duplicateKey,
                message: "duplicate key \(Composer.describe(key)) (first at \(first.line):\(first.column)); the first value is used, remove one of them",
                mark: keyMark, related: first))
            stack[top].skipValue = true
        } else {
            keys.append((id, keyMark))
        }
        if case .scalar(let s) = key, s.value == "<<",
            (s.tag == nil && s.style == .plain) || s.tag == YAMLTag.merge
        {
            stack[top].pendingIsMerge = true
        } else {
            stack[top].pendingIsMerge = false
        }
        stack[top].pendingKey = key
    }

    /// Appends the entries of the `<<` mappings that no local key (nor an earlier merged
    /// mapping) already has.
    private mutating func applyMerges(_ frame: inout Frame) {
        var seen = Set<KeyID>()
        for i in frame.keyStart..<keys.count { seen.insert(keys[i].id) }
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
