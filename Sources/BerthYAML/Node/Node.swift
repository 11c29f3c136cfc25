/// A composed YAML node. Marks are carried on every node but ignored by `==` and hashing,
/// so two documents that differ only in layout compare equal.
public enum Node: Sendable, Hashable {
    case scalar(Scalar)
    case sequence(Sequence)
    case mapping(Mapping)

    public var mark: Mark {
        switch self {
        case .scalar(let s): s.mark
        case .sequence(let s): s.mark
        case .mapping(let m): m.mark
        }
    }

    /// The explicit tag, fully resolved (`!!str` → `tag:yaml.org,2002:str`), or nil.
    public var tag: String? {
        switch self {
        case .scalar(let s): s.tag
        case .sequence(let s): s.tag
        case .mapping(let m): m.tag
        }
    }

    /// A short noun for error messages: "a string", "a mapping", "a list", "null".
    public var kindDescription: String {
        switch self {
        case .scalar(let s):
            switch s.resolved {
            case .null: "null"
            case .bool: "a boolean"
            case .int: "an integer"
            case .float: "a number"
            case .string: "a string"
            }
        case .sequence: "a list"
        case .mapping: "a mapping"
        }
    }
}

public enum ScalarStyle: String, Sendable, Hashable, Codable {
    case plain, singleQuoted, doubleQuoted, literal, folded
}

public enum CollectionStyle: String, Sendable, Hashable, Codable {
    case block, flow
}

/// A scalar as YAML 1.2's core schema reads it (or as its explicit tag says).
public enum ResolvedScalar: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
}

public struct Scalar: Sendable {
    /// The scalar's text exactly as libyaml delivered it (quotes and escapes processed).
    public var value: String
    public var tag: String?
    public var style: ScalarStyle
    public var mark: Mark

    public init(value: String, tag: String? = nil, style: ScalarStyle = .plain, mark: Mark) {
        self.value = value
        self.tag = tag
        self.style = style
        self.mark = mark
    }
}

extension Scalar: Hashable {
    public static func == (a: Scalar, b: Scalar) -> Bool {
        a.resolved == b.resolved && a.tag == b.tag
    }
    public func hash(into h: inout Hasher) {
        h.combine(resolved)
        h.combine(tag)
    }
}

public struct Sequence: Sendable {
    public var items: [Node]
    public var tag: String?
    public var style: CollectionStyle
    public var mark: Mark

    public init(items: [Node], tag: String? = nil, style: CollectionStyle = .block, mark: Mark) {
        self.items = items
        self.tag = tag
        self.style = style
        self.mark = mark
    }
}

extension Sequence: Hashable {
    public static func == (a: Sequence, b: Sequence) -> Bool { a.items == b.items && a.tag == b.tag }
    public func hash(into h: inout Hasher) {
        h.combine(items)
        h.combine(tag)
    }
}

/// A mapping in document order. Merge keys (`<<`) are already applied: the `<<` entry is
/// gone, merged entries follow the local ones, local keys win over merged ones, among several
/// merged mappings the earlier one wins (YAML 1.1's merge rule), and `mergedFrom` is
/// non-nil on merged entries.
public struct Mapping: Sendable {
    public struct Entry: Sendable, Hashable {
        public var key: Node
        public var value: Node
        /// For an entry brought in by a merge key: the place of that `<<` key. The entry's
        /// own key and value keep the marks of where they were written (the anchor's place).
        public var mergedFrom: Mark?
        public init(key: Node, value: Node, mergedFrom: Mark? = nil) {
            self.key = key
            self.value = value
            self.mergedFrom = mergedFrom
        }
        public static func == (a: Entry, b: Entry) -> Bool { a.key == b.key && a.value == b.value }
        public func hash(into h: inout Hasher) {
            h.combine(key)
            h.combine(value)
        }
    }

    public var entries: [Entry]
    public var tag: String?
    public var style: CollectionStyle
    public var mark: Mark

    public init(entries: [Entry], tag: String? = nil, style: CollectionStyle = .block, mark: Mark) {
        self.entries = entries
        self.tag = tag
        self.style = style
        self.mark = mark
    }

    /// The value of the first entry whose key is the plain string `key`.
    public subscript(key: String) -> Node? {
        for e in entries {
            if case .scalar(let s) = e.key, s.value == key { return e.value }
        }
        return nil
    }
}

extension Mapping: Hashable {
    public static func == (a: Mapping, b: Mapping) -> Bool { a.entries == b.entries && a.tag == b.tag }
    public func hash(into h: inout Hasher) {
        h.combine(entries)
        h.combine(tag)
    }
}

/// One document of a stream. `root` is nil for an empty document (or a file of comments).
public struct Document: Sendable, Hashable {
    public var root: Node?
    public var start: Mark
    public init(root: Node?, start: Mark) {
        self.root = root
        self.start = start
    }
}
