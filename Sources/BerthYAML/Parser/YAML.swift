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
        withoutActuallyEscaping(body) { body in
            var composer = Composer(limits: limits, body: body)
            EventLoop.run(bytes, composer: &composer)
            return composer.errors
        }
    }
}

public struct ParseResult: Sendable {
    public var documents: [Document]
    public var errors: [YAMLError]
}
