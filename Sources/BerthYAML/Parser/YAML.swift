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
    public static func parseDocuments(
        _ bytes: [UInt8], limits: YAMLLimits = .default, _ body: (Document) -> Void
    ) -> [YAMLError] {
        fatalError("BerthYAML parser not implemented yet")
    }
}

public struct ParseResult: Sendable {
    public var documents: [Document]
    public var errors: [YAMLError]
}
