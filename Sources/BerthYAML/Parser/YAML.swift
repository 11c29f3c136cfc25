/// The entry points of the YAML loader.
public enum YAML {
    /// Parses every document of `bytes`. Non-fatal errors (duplicate keys) leave the document
    /// in the result; a fatal one (a libyaml error, the alias budget, the depth limit) ends
    /// the stream at that point. Errors come in source order.
    public static func parse(_ bytes: [UInt8], limits: YAMLLimits = .default) -> ParseResult {
        var documents: [Document] = []
        let errors = parseDocuments(bytes, limits: limits) { documents.append($0) }
        return ParseResult(documents: documents, errors: errors)
    }

    /// Streams documents one at a time, so a large file never holds more than one tree.
    ///
    /// - Stream-fatal errors end the stream (documents before them were delivered): libyaml's
    ///   `.reader`, `.scanner` and `.parser` errors, `.tooDeep` (deeper than
    ///   `limits.maxDepth`, default 256) and `.aliasBudget` (aliases adding more than
    ///   `limits.maxAliasNodes` nodes, default 100,000, to one document).
    /// - `.unknownAlias` and `.badMerge` drop their document (it is not delivered) and parsing
    ///   goes on with the next one.
    /// - `.duplicateKey` is reported and the document delivered with the first value.
    ///
    /// An empty stream, a file of only comments, or a document with no content (`---`
    /// alone) delivers no document or a document whose `root` is nil, and no error.
    public static func parseDocuments(
        _ bytes: [UInt8], limits: YAMLLimits = .default, _ body: (Document) -> Void
    ) -> [YAMLError] {
        parseFlatDocuments(bytes, limits: limits) { body($0.tree) }
    }

    /// `parseDocuments`, each document handed over as a `FlatDocument` instead of a tree:
    /// the same documents, values, places and errors, without building a tree.
    public static func parseFlatDocuments(
        _ bytes: [UInt8], limits: YAMLLimits = .default, _ body: (FlatDocument) -> Void
    ) -> [YAMLError] {
        parseFlatDocuments(bytes, part: nil, limits: limits, body)
    }

    /// `parseFlatDocuments` of a part of `bytes` (one of `parts(of:)`), its places counted
    /// in the whole input's lines.
    public static func parseFlatDocuments(
        _ bytes: [UInt8], part: Part?, limits: YAMLLimits = .default, _ body: (FlatDocument) -> Void
    ) -> [YAMLError] {
        withoutActuallyEscaping(body) { body in
            var composer = Composer(limits: limits, body: body)
            composer.lineOffset = (part?.firstLine ?? 1) - 1
            EventLoop.run(bytes, range: part?.range, composer: &composer)
            return composer.errors
        }
    }

    /// A run of whole documents of an input: its bytes, and the line it starts on.
    public struct Part: Sendable, Hashable {
        public var range: Range<Int>
        public var firstLine: Int
    }

    /// `bytes` cut into parts of about `size` bytes at document starts, so that each part can
    /// be parsed on its own (`parseFlatDocuments(_:part:_:)`) with the places, documents and
    /// values of parsing the whole. A cut goes before a line `---` (followed by a space, a
    /// tab or the line's end) at the start of a line that no directive line precedes: YAML
    /// forbids such a line inside any scalar or collection, so it starts a document wherever
    /// it stands. Where a cut input does not parse cleanly (an error), parse it whole: errors
    /// near a cut (a flow collection left open) read differently in parts. An input that is
    /// not UTF-8 without a byte-order mark of UTF-16 is one part.
    public static func parts(of bytes: [UInt8], size: Int) -> [Part] {
        guard bytes.count > size, !(bytes.count >= 2 && (bytes[0] == 0xFE || bytes[0] == 0xFF)) else {
            return [Part(range: 0..<bytes.count, firstLine: 1)]
        }
        return bytes.withUnsafeBufferPointer { b in
            var parts: [Part] = []
            var start = 0, startLine = 1
            var line = 1
            var i = 0
            var lineStart = 0, previousLineStart = -1
            while i < b.count {
                // Most bytes break no line: only LF, CR and the first bytes of NEL, LS and PS can.
                let c = b[i]
                guard c == 0x0A || c == 0x0D || c == 0xC2 || c == 0xE2 else {
                    i += 1
                    continue
                }
                let n = LineBreaks.length(at: i, in: b, end: b.count)
                guard n > 0 else {
                    i += 1
                    continue
                }
                i += n
                line += 1
                previousLineStart = lineStart
                lineStart = i
                guard b[i - 1] == 0x0A, i - start >= size, isDocumentStart(b, at: i), b[previousLineStart] != UInt8(ascii: "%") else {
                    continue
                }
                parts.append(Part(range: start..<i, firstLine: startLine))
                start = i
                startLine = line
            }
            parts.append(Part(range: start..<b.count, firstLine: startLine))
            return parts
        }
    }

    /// `---` at `i`, then a space, a tab, a line break or the end.
    private static func isDocumentStart(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
        guard i + 3 <= b.count, b[i] == UInt8(ascii: "-"), b[i + 1] == UInt8(ascii: "-"), b[i + 2] == UInt8(ascii: "-") else {
            return false
        }
        guard i + 3 < b.count else { return true }
        switch b[i + 3] {
        case UInt8(ascii: " "), UInt8(ascii: "\t"), 0x0A, 0x0D: return true
        default: return false
        }
    }
}

public struct ParseResult: Sendable {
    public var documents: [Document]
    public var errors: [YAMLError]
}
