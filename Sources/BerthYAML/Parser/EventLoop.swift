internal import CYAML

/// Runs libyaml's event API over `bytes` and feeds a `Composer`.
///
/// Ownership: the `yaml_parser_t` and the one reused `yaml_event_t` are allocated,
/// initialised and deleted in this one scope; every event that libyaml filled is deleted
/// exactly once, right after the composer copied what it needs (scalar bytes, anchors, tags)
/// into Swift values. The input bytes stay alive (and pinned) for the whole parse.
enum EventLoop {
    /// Parses `bytes[range]`: the whole input, or a part of it that starts at a line start.
    /// Every place is reported in the whole input's lines (`composer.lineOffset` lines down).
    static func run(_ bytes: [UInt8], range: Range<Int>? = nil, composer: inout Composer) {
        let range = range ?? 0..<bytes.count
        guard !range.isEmpty else { return }  // no stream, no documents, no error
        bytes.withUnsafeBufferPointer { whole in
            let input = UnsafeBufferPointer(rebasing: whole[range])
            let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
            defer { parser.deallocate() }
            guard yaml_parser_initialize(parser) == 1 else {
                composer.fail(YAMLError(kind: .parser, message: "libyaml could not allocate a parser (out of memory)", mark: Mark(line: 1, column: 1)))
                return
            }
            defer { yaml_parser_delete(parser) }
            yaml_parser_set_input_string(parser, input.baseAddress, input.count)

            let event = UnsafeMutablePointer<yaml_event_t>.allocate(capacity: 1)
            defer { event.deallocate() }
            while true {
                guard yaml_parser_parse(parser, event) == 1 else {
                    // libyaml zeroes the event before parsing; nothing was filled, nothing to delete.
                    composer.fail(libyamlError(parser.pointee, bytes: input).moved(down: composer.lineOffset))
                    return
                }
                let more = composer.consume(event.pointee)
                yaml_event_delete(event)
                if !more { return }
            }
        }
    }

    /// Turns libyaml's error fields into a `YAMLError` with its place.
    static func libyamlError(_ p: yaml_parser_t, bytes: UnsafeBufferPointer<UInt8>) -> YAMLError {
        let problem = p.problem.map { String(cString: $0) } ?? "unknown problem"
        let context = p.context.map { String(cString: $0) }
        switch p.error {
        case YAML_READER_ERROR:
            // Reader errors carry a byte offset, not a mark: count our way there.
            let offset = Int(p.problem_offset)
            var message = problem
            if p.problem_value != -1 {
                if problem.contains("octet") || problem.contains("UTF-8") {
                    message += " (byte 0x\(hex(UInt32(p.problem_value), width: 2)))"
                } else {
                    message += " (U+\(hex(UInt32(p.problem_value), width: 4)))"
                }
            }
            message += "; the file must be UTF-8 (or UTF-16) text"
            return YAMLError(kind: .reader, message: message, mark: markOfOffset(offset, in: bytes))
        case YAML_SCANNER_ERROR, YAML_PARSER_ERROR:
            let kind: YAMLError.Kind = p.error == YAML_SCANNER_ERROR ? .scanner : .parser
            let related = context != nil ? mark(p.context_mark) : nil
            // In Berth's words with the likely cause, where the lines around say it.
            if let (message, place) = YAMLErrorWording(bytes).explain(
                problem: problem, context: context, mark: mark(p.problem_mark), contextMark: related)
            {
                return YAMLError(kind: kind, message: message, mark: place, related: related)
            }
            let message = context.map { "\(problem) (\($0))" } ?? problem
            return YAMLError(kind: kind, message: message, mark: mark(p.problem_mark), related: related)
        case YAML_MEMORY_ERROR:
            return YAMLError(kind: .parser, message: "libyaml ran out of memory", mark: mark(p.problem_mark))
        default:
            return YAMLError(kind: .parser, message: problem, mark: mark(p.problem_mark))
        }
    }

    @inline(__always)
    static func mark(_ m: yaml_mark_t) -> Mark {
        Mark(line: Int(m.line) + 1, column: Int(m.column) + 1)
    }

    /// The 1-based line and column (in Unicode scalars) of byte `offset`, counting line
    /// breaks as libyaml does (`LineBreaks`) and skipping a UTF-8 BOM.
    static func markOfOffset(_ offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Mark {
        var line = 1
        var column = 1
        var i = 0
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { i = 3 }
        let end = min(offset, bytes.count)
        while i < end {
            let breakLength = LineBreaks.length(at: i, in: bytes, end: end)
            if breakLength > 0 {
                line += 1; column = 1; i += breakLength
            } else {
                if bytes[i] & 0xC0 != 0x80 { column += 1 }
                i += 1
            }
        }
        // `column` was advanced past the last lead byte seen; a continuation byte at
        // `offset` belongs to the character that started before it.
        return Mark(line: line, column: column)
    }

    private static func hex(_ v: UInt32, width: Int) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}
