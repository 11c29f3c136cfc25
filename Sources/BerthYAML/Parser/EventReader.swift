internal import CYAML

/// One libyaml event as a fast decoder sees it. `bytes` points into libyaml's own copy of
/// the scalar, which stays valid until the document ends (the reader keeps every event of
/// the current document), so a decoder may hold it across `next()` calls of one document.
public struct YAMLEvent {
    public enum Kind: UInt8, Sendable {
        case scalar, sequenceStart, sequenceEnd, mappingStart, mappingEnd, alias, documentEnd
        /// No event: libyaml reported an error, or the document already ended.
        case none
    }

    public var kind: Kind
    /// A scalar's style (`.plain` for other events).
    public var style: ScalarStyle
    /// True when the event carries an explicit tag or an anchor.
    public var isDecorated: Bool
    public var mark: Mark
    /// A scalar's text (quotes and escapes processed; valid UTF-8); empty for other events.
    public var bytes: UnsafeBufferPointer<UInt8>

    /// A plain, untagged, unanchored scalar.
    @inlinable public var isPlainScalar: Bool { kind == .scalar && style == .plain && !isDecorated }
    /// A scalar of any style without tag or anchor.
    @inlinable public var isBareScalar: Bool { kind == .scalar && !isDecorated }
}

/// Pulls the events of one document for a fast decoder (see `YAML.parseDocuments(_:limits:fast:tree:)`).
///
/// Every event handed out is also kept, undeleted, until the document is settled: when the
/// decoder gives up, the node-tree path replays exactly these events, so what it reports
/// cannot differ from a parse that never tried the fast path.
public struct YAMLEventReader {
    let parser: UnsafeMutablePointer<yaml_parser_t>
    /// The current document's events so far, `count` of them, all undeleted.
    var events: UnsafeMutablePointer<yaml_event_t>
    var capacity: Int
    var count = 0
    /// libyaml failed on the last `next()`.
    var failed = false
    /// The last event handed out was the document's end.
    var ended = false

    /// The place of the document's start (its `---`, or its first content).
    public private(set) var documentStart = Mark(line: 1, column: 1)

    init(parser: UnsafeMutablePointer<yaml_parser_t>) {
        self.parser = parser
        capacity = 256
        events = .allocate(capacity: capacity)
    }

    /// The next event of the document; `.none` after its end or on a libyaml error (the
    /// error is reported by the tree path the driver falls back to).
    public mutating func next() -> YAMLEvent {
        guard !failed, !ended else { return YAMLEvent(kind: .none, style: .plain, isDecorated: false, mark: Mark(line: 0, column: 0), bytes: .init(start: nil, count: 0)) }
        if count == capacity { grow() }
        let slot = events + count
        guard yaml_parser_parse(parser, slot) == 1 else {
            failed = true  // libyaml zeroed the event: nothing to keep or delete
            return YAMLEvent(kind: .none, style: .plain, isDecorated: false, mark: Mark(line: 0, column: 0), bytes: .init(start: nil, count: 0))
        }
        count += 1
        let e = slot.pointee
        let mark = EventLoop.mark(e.start_mark)
        switch e.type {
        case YAML_SCALAR_EVENT:
            let data = e.data.scalar
            let style: ScalarStyle
            switch data.style {
            case YAML_PLAIN_SCALAR_STYLE: style = .plain
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: style = .literal
            case YAML_FOLDED_SCALAR_STYLE: style = .folded
            default: style = .plain
            }
            return YAMLEvent(
                kind: .scalar, style: style, isDecorated: data.tag != nil || data.anchor != nil, mark: mark,
                bytes: UnsafeBufferPointer(start: data.value, count: data.length))
        case YAML_MAPPING_START_EVENT:
            let data = e.data.mapping_start
            return YAMLEvent(kind: .mappingStart, style: .plain, isDecorated: data.tag != nil || data.anchor != nil, mark: mark, bytes: .init(start: nil, count: 0))
        case YAML_SEQUENCE_START_EVENT:
            let data = e.data.sequence_start
            return YAMLEvent(kind: .sequenceStart, style: .plain, isDecorated: data.tag != nil || data.anchor != nil, mark: mark, bytes: .init(start: nil, count: 0))
        case YAML_MAPPING_END_EVENT:
            return YAMLEvent(kind: .mappingEnd, style: .plain, isDecorated: false, mark: mark, bytes: .init(start: nil, count: 0))
        case YAML_SEQUENCE_END_EVENT:
            return YAMLEvent(kind: .sequenceEnd, style: .plain, isDecorated: false, mark: mark, bytes: .init(start: nil, count: 0))
        case YAML_ALIAS_EVENT:
            return YAMLEvent(kind: .alias, style: .plain, isDecorated: true, mark: mark, bytes: .init(start: nil, count: 0))
        case YAML_DOCUMENT_END_EVENT:
            ended = true
            return YAMLEvent(kind: .documentEnd, style: .plain, isDecorated: false, mark: mark, bytes: .init(start: nil, count: 0))
        default:
            // STREAM-START/END and DOCUMENT-START never occur inside a document.
            return YAMLEvent(kind: .none, style: .plain, isDecorated: false, mark: mark, bytes: .init(start: nil, count: 0))
        }
    }

    private mutating func grow() {
        let bigger = UnsafeMutablePointer<yaml_event_t>.allocate(capacity: capacity * 2)
        bigger.moveInitialize(from: events, count: count)
        events.deallocate()
        events = bigger
        capacity *= 2
    }

    /// Starts a document with its (already parsed) DOCUMENT-START event in `events[0]`.
    mutating func begin() {
        documentStart = EventLoop.mark(events[0].start_mark)
        failed = false
        ended = false
    }

    /// Deletes the kept events.
    mutating func discard() {
        for i in 0..<count { yaml_event_delete(events + i) }
        count = 0
    }

    func free() {
        events.deallocate()
    }
}

extension YAML {
    /// Parses every document of `bytes` like `parseDocuments(_:limits:_:)`, trying `fast`
    /// on each document first.
    ///
    /// `fast` is called right after a document starts, pulls that document's events with
    /// `reader.next()`, and returns true once it has decoded the whole document and read
    /// its `.documentEnd`. When it returns false instead (its first surprise), the events
    /// it saw are replayed into the node-tree composer, which takes the document from
    /// there and hands it to `tree`. Errors, their places and the documents `tree` receives
    /// are therefore exactly those of `parseDocuments(_:limits:_:)` minus the documents
    /// `fast` accepted; a document that `fast` accepts must be one the composer would
    /// deliver without any error (no duplicate keys, aliases or merges).
    public static func parseDocuments(
        _ bytes: [UInt8], limits: YAMLLimits = .default,
        fast: (inout YAMLEventReader) -> Bool,
        tree: (Document) -> Void
    ) -> [YAMLError] {
        withoutActuallyEscaping(tree) { tree in
            var composer = Composer(limits: limits, body: tree)
            EventLoop.run(bytes, composer: &composer, fast: fast)
            return composer.errors
        }
    }
}

extension EventLoop {
    static func run(_ bytes: [UInt8], composer: inout Composer, fast: (inout YAMLEventReader) -> Bool) {
        guard !bytes.isEmpty else { return }
        bytes.withUnsafeBufferPointer { input in
            let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
            defer { parser.deallocate() }
            guard yaml_parser_initialize(parser) == 1 else {
                composer.fail(YAMLError(kind: .parser, message: "libyaml could not allocate a parser (out of memory)", mark: Mark(line: 1, column: 1)))
                return
            }
            defer { yaml_parser_delete(parser) }
            yaml_parser_set_input_string(parser, input.baseAddress, input.count)

            var reader = YAMLEventReader(parser: parser)
            defer {
                reader.discard()
                reader.free()
            }
            while true {
                let slot = reader.events
                guard yaml_parser_parse(parser, slot) == 1 else {
                    composer.fail(libyamlError(parser.pointee, bytes: input))
                    return
                }
                guard slot.pointee.type == YAML_DOCUMENT_START_EVENT else {
                    let more = composer.consume(slot.pointee)
                    yaml_event_delete(slot)
                    if !more { return }
                    continue
                }
                reader.count = 1
                reader.begin()
                if fast(&reader), reader.ended, !reader.failed {
                    reader.discard()
                    continue
                }
                // The fast decoder gave up: the composer sees the document from its start.
                var more = true
                for i in 0..<reader.count where more {
                    more = composer.consume(reader.events[i])
                }
                let failed = reader.failed
                reader.discard()
                if !more { return }  // a fatal error in the replay: the stream ends there
                if failed {
                    composer.fail(libyamlError(parser.pointee, bytes: input))
                    return
                }
            }
        }
    }
}
