internal import CYAML

/// One libyaml event as a fast decoder sees it. `bytes` points into libyaml's own copy of
/// the scalar, which is valid only until the next `YAMLEventReader.next()`.
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
/// libyaml's event is deleted at the next `next()`, as in a plain event loop. When the
/// decoder gives up, the node-tree composer must see the document's events from its start:
/// - until the first surprise of a stream, nothing is kept; the driver parses the input
///   again with a second parser up to that document's start (libyaml is deterministic)
///   and goes on with that parser, so ordinary streams pay nothing for the fallback;
/// - after it, every event handed out is also kept (a copy, its strings in one arena) and
///   replayed from there, so a stream with many surprises is parsed at most twice.
/// Either way the composer sees exactly the events it would have seen without a fast path.
public struct YAMLEventReader {
    /// Where a kept event's strings start in the arena (-1: none).
    struct Strings {
        var value = -1
        var tag = -1
        var anchor = -1
    }

    var parser: UnsafeMutablePointer<yaml_parser_t>
    /// Whether events are kept for a replay (see above).
    var keeping = false
    /// The event last parsed; libyaml's to delete while `live`.
    let event: UnsafeMutablePointer<yaml_event_t>
    var live = false
    /// The current document's events so far, `count` of them (its DOCUMENT-START included);
    /// while `keeping`, copies of them (string pointers cleared) in `kept`.
    var kept: UnsafeMutablePointer<yaml_event_t>
    var strings: UnsafeMutablePointer<Strings>
    var capacity: Int
    var count = 0
    var arena: UnsafeMutablePointer<UInt8>
    var arenaCapacity: Int
    var arenaCount = 0
    /// libyaml failed on the last `next()`.
    var failed = false
    /// The last event handed out was the document's end.
    var ended = false

    /// The place of the document's start (its `---`, or its first content).
    public private(set) var documentStart = Mark(line: 1, column: 1)

    init(parser: UnsafeMutablePointer<yaml_parser_t>) {
        self.parser = parser
        event = .allocate(capacity: 1)
        // The buffers for kept events are allocated when keeping starts (most streams never
        // keep anything, and a small file should not pay for them).
        capacity = 0
        kept = .allocate(capacity: 0)
        strings = .allocate(capacity: 0)
        arenaCapacity = 0
        arena = .allocate(capacity: 0)
    }

    static var noEvent: YAMLEvent { YAMLEvent(kind: .none, style: .plain, isDecorated: false, mark: Mark(line: 0, column: 0), bytes: .init(start: nil, count: 0)) }

    /// The next event of the document; `.none` after its end or on a libyaml error (the
    /// error is reported by the tree path the driver falls back to). Its `bytes` are valid
    /// until the next call.
    public mutating func next() -> YAMLEvent {
        release()
        guard !failed, !ended else { return Self.noEvent }
        guard yaml_parser_parse(parser, event) == 1 else {
            failed = true  // libyaml zeroed the event: nothing to keep or delete
            return Self.noEvent
        }
        live = true
        if keeping { keep() } else { count += 1 }
        let mark = EventLoop.mark(event.pointee.start_mark)
        switch event.pointee.type {
        case YAML_SCALAR_EVENT:
            let data = event.pointee.data.scalar
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
            let data = event.pointee.data.mapping_start
            return YAMLEvent(kind: .mappingStart, style: .plain, isDecorated: data.tag != nil || data.anchor != nil, mark: mark, bytes: .init(start: nil, count: 0))
        case YAML_SEQUENCE_START_EVENT:
            let data = event.pointee.data.sequence_start
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

    /// Deletes libyaml's current event, if any.
    @inline(__always)
    mutating func release() {
        if live {
            yaml_event_delete(event)
            live = false
        }
    }

    /// Copies `event` into `kept`, its strings into the arena.
    mutating func keep() {
        if count == capacity { grow() }
        var copy = event.pointee
        var s = Strings()
        switch copy.type {
        case YAML_SCALAR_EVENT:
            s.value = store(copy.data.scalar.value, count: copy.data.scalar.length)
            s.tag = store(copy.data.scalar.tag)
            s.anchor = store(copy.data.scalar.anchor)
            copy.data.scalar.value = nil
            copy.data.scalar.tag = nil
            copy.data.scalar.anchor = nil
        case YAML_MAPPING_START_EVENT:
            s.tag = store(copy.data.mapping_start.tag)
            s.anchor = store(copy.data.mapping_start.anchor)
            copy.data.mapping_start.tag = nil
            copy.data.mapping_start.anchor = nil
        case YAML_SEQUENCE_START_EVENT:
            s.tag = store(copy.data.sequence_start.tag)
            s.anchor = store(copy.data.sequence_start.anchor)
            copy.data.sequence_start.tag = nil
            copy.data.sequence_start.anchor = nil
        case YAML_ALIAS_EVENT:
            s.anchor = store(copy.data.alias.anchor)
            copy.data.alias.anchor = nil
        case YAML_DOCUMENT_START_EVENT:
            // The composer reads only the place of a document start.
            copy.data.document_start.version_directive = nil
            copy.data.document_start.tag_directives.start = nil
            copy.data.document_start.tag_directives.end = nil
        default:
            break
        }
        kept[count] = copy
        strings[count] = s
        count += 1
    }

    /// The kept event `i`, its string pointers into the arena (valid until `reset`).
    func replayed(_ i: Int) -> yaml_event_t {
        var e = kept[i]
        let s = strings[i]
        func at(_ offset: Int) -> UnsafeMutablePointer<UInt8>? { offset < 0 ? nil : arena + offset }
        switch e.type {
        case YAML_SCALAR_EVENT:
            // libyaml never hands out a null value, not even for an empty scalar.
            e.data.scalar.value = at(s.value)
            e.data.scalar.tag = at(s.tag)
            e.data.scalar.anchor = at(s.anchor)
        case YAML_MAPPING_START_EVENT:
            e.data.mapping_start.tag = at(s.tag)
            e.data.mapping_start.anchor = at(s.anchor)
        case YAML_SEQUENCE_START_EVENT:
            e.data.sequence_start.tag = at(s.tag)
            e.data.sequence_start.anchor = at(s.anchor)
        case YAML_ALIAS_EVENT:
            e.data.alias.anchor = at(s.anchor)
        default:
            break
        }
        return e
    }

    /// Copies `count` bytes and a NUL into the arena; the offset, or -1 for nil.
    private mutating func store(_ p: UnsafeMutablePointer<UInt8>?, count n: Int) -> Int {
        guard let p else { return -1 }
        if arenaCount + n + 1 > arenaCapacity { growArena(n + 1) }
        let offset = arenaCount
        (arena + offset).update(from: p, count: n)
        arena[offset + n] = 0
        arenaCount += n + 1
        return offset
    }

    private mutating func store(_ p: UnsafeMutablePointer<UInt8>?) -> Int {
        guard let p else { return -1 }
        var n = 0
        while p[n] != 0 { n += 1 }
        return store(p, count: n)
    }

    private mutating func grow() {
        let size = max(256, capacity * 2)
        let bigger = UnsafeMutablePointer<yaml_event_t>.allocate(capacity: size)
        bigger.moveInitialize(from: kept, count: count)
        kept.deallocate()
        kept = bigger
        let biggerStrings = UnsafeMutablePointer<Strings>.allocate(capacity: size)
        biggerStrings.moveInitialize(from: strings, count: count)
        strings.deallocate()
        strings = biggerStrings
        capacity = size
    }

    private mutating func growArena(_ needed: Int) {
        var size = max(16_384, arenaCapacity * 2)
        while arenaCount + needed > size { size *= 2 }
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: size)
        bigger.update(from: arena, count: arenaCount)
        arena.deallocate()
        arena = bigger
        arenaCapacity = size
    }

    /// Starts a document whose DOCUMENT-START event is `event` (live).
    mutating func begin() {
        count = 0
        arenaCount = 0
        if keeping { keep() } else { count = 1 }
        documentStart = EventLoop.mark(event.pointee.start_mark)
        release()
        failed = false
        ended = false
    }

    /// Forgets the document's events.
    mutating func reset() {
        release()
        count = 0
        arenaCount = 0
    }

    func free() {
        event.deallocate()
        kept.deallocate()
        strings.deallocate()
        arena.deallocate()
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

/// Owns one libyaml parser reading a buffer.
final class LibYAMLParser {
    let handle: UnsafeMutablePointer<yaml_parser_t>

    init?(_ input: UnsafeBufferPointer<UInt8>) {
        handle = .allocate(capacity: 1)
        guard yaml_parser_initialize(handle) == 1 else {
            handle.deallocate()
            return nil
        }
        yaml_parser_set_input_string(handle, input.baseAddress, input.count)
    }

    deinit {
        yaml_parser_delete(handle)
        handle.deallocate()
    }
}

extension EventLoop {
    static func run(_ bytes: [UInt8], composer: inout Composer, fast: (inout YAMLEventReader) -> Bool) {
        guard !bytes.isEmpty else { return }
        bytes.withUnsafeBufferPointer { input in
            guard var parser = LibYAMLParser(input) else {
                composer.fail(YAMLError(kind: .parser, message: "libyaml could not allocate a parser (out of memory)", mark: Mark(line: 1, column: 1)))
                return
            }
            var reader = YAMLEventReader(parser: parser.handle)
            defer {
                reader.reset()
                reader.free()
            }
            var documents = 0  // DOCUMENT-START events so far
            while true {
                let event = reader.event
                guard yaml_parser_parse(parser.handle, event) == 1 else {
                    composer.fail(libyamlError(parser.handle.pointee, bytes: input))
                    return
                }
                guard event.pointee.type == YAML_DOCUMENT_START_EVENT else {
                    let more = composer.consume(event.pointee)
                    yaml_event_delete(event)
                    if !more { return }
                    continue
                }
                documents += 1
                reader.live = true
                reader.begin()
                let accepted = fast(&reader)
                reader.release()
                if accepted, reader.ended, !reader.failed {
                    reader.reset()
                    continue
                }
                // The fast decoder gave up: the composer sees the document from its start.
                if reader.keeping {
                    let error = reader.failed ? libyamlError(parser.handle.pointee, bytes: input) : nil
                    var more = true
                    for i in 0..<reader.count where more {
                        more = composer.consume(reader.replayed(i))
                    }
                    reader.reset()
                    if !more { return }  // a fatal error in the replay: the stream ends there
                    if let error {
                        composer.fail(error)
                        return
                    }
                } else {
                    // Parse again up to this document's start; the loop goes on with the new
                    // parser, whose next events are the rest of the document.
                    reader.reset()
                    guard let again = LibYAMLParser(input) else {
                        composer.fail(YAMLError(kind: .parser, message: "libyaml could not allocate a parser (out of memory)", mark: Mark(line: 1, column: 1)))
                        return
                    }
                    parser = again
                    reader.parser = again.handle
                    reader.keeping = true
                    if !replay(again, document: documents, input: input, composer: &composer) { return }
                }
            }
        }
    }

    /// Runs the fresh `parser` up to the `document`-th DOCUMENT-START and feeds that event
    /// to the composer; false when the stream ends there.
    private static func replay(
        _ parser: LibYAMLParser, document: Int, input: UnsafeBufferPointer<UInt8>, composer: inout Composer
    ) -> Bool {
        let event = UnsafeMutablePointer<yaml_event_t>.allocate(capacity: 1)
        defer { event.deallocate() }
        var starts = 0
        while true {
            guard yaml_parser_parse(parser.handle, event) == 1 else {
                // Not expected (the first parser got further over the same bytes); report it
                // as the tree path would.
                composer.fail(libyamlError(parser.handle.pointee, bytes: input))
                return false
            }
            let isStart = event.pointee.type == YAML_DOCUMENT_START_EVENT
            if isStart { starts += 1 }
            if isStart, starts == document {
                let more = composer.consume(event.pointee)
                yaml_event_delete(event)
                return more
            }
            yaml_event_delete(event)
        }
    }
}
