/// A problem found while reading YAML, with its place.
public struct YAMLError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, Hashable {
            case reader, scanner, parser, duplicateKey, unknownAlias, aliasBudget, tooDeep,
                badMerge, badTag
        }
        private let value: Value
        public static let reader = Kind(value: .reader)  // invalid UTF-8, control characters
        public static let scanner = Kind(value: .scanner)  // tabs, unterminated quotes, …
        public static let parser = Kind(value: .parser)  // bad structure
        public static let duplicateKey = Kind(value: .duplicateKey)
        public static let unknownAlias = Kind(value: .unknownAlias)
        public static let aliasBudget = Kind(value: .aliasBudget)  // "billion laughs"
        public static let tooDeep = Kind(value: .tooDeep)  // nesting over the limit
        public static let badMerge = Kind(value: .badMerge)  // `<<` of something not a mapping
        public static let badTag = Kind(value: .badTag)  // a tag that does not fit its value
        public var description: String { value.rawValue }
    }

    public var kind: Kind
    public var message: String
    public var mark: Mark
    /// A second place the message refers to (the first of two duplicate keys, …).
    public var related: Mark?

    public init(kind: Kind, message: String, mark: Mark, related: Mark? = nil) {
        self.kind = kind
        self.message = message
        self.mark = mark
        self.related = related
    }

    public var description: String { "\(mark.line):\(mark.column): \(message)" }

    /// The error with its places `lines` lines further down.
    func moved(down lines: Int) -> YAMLError {
        guard lines != 0 else { return self }
        var e = self
        e.mark.line += lines
        e.related?.line += lines
        return e
    }
}

/// Bounds that keep hostile input from exhausting the stack or memory.
public struct YAMLLimits: Sendable, Hashable {
    /// Deepest nesting of collections allowed; deeper is a `.tooDeep` error.
    public var maxDepth: Int
    /// Most nodes that alias expansion may add to one document; more is `.aliasBudget`.
    public var maxAliasNodes: Int

    public init(maxDepth: Int = 256, maxAliasNodes: Int = 100_000) {
        self.maxDepth = maxDepth
        self.maxAliasNodes = maxAliasNodes
    }

    public static let `default` = YAMLLimits()
}
