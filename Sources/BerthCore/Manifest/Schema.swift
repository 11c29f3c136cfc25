import BerthYAML

/// The fields of one kind of `berth/v1` object (spec, health, update, …): for each, its name,
/// where it goes in the model (its default is the model's), how its value is read and
/// checked, and whether it is required; then the rules across fields. `FieldReader.object`
/// reads a mapping by it, with every diagnostic (unknown fields with "did you mean", missing
/// required ones, each value's problem at its place). The tables are in `ManifestSchema`.
struct Schema<Model>: Sendable {
    let fields: [Field<Model>]
    /// The field names in table order (for unknown-field messages and suggestions).
    let names: [String]
    /// The fields' readers and their `missing` messages, in table order (read in the hot
    /// loop without copying each `Field`).
    let reads: [@Sendable (inout FieldReader, NodeID, FieldReader.Path, inout Model) -> Bool]
    let missing: [String?]
    /// Each name's UTF-8 bytes and their count (compared before the bytes).
    let utf8: [[UInt8]]
    let lengths: [Int]
    /// Fields of which exactly one must be given (a health check's probes).
    let choice: Choice?
    /// Rules across fields, run after the fields are read: false when one is broken (and
    /// reported). Also given the path of the object.
    let check: (@Sendable (inout FieldReader, inout Model, ObjectFields, FieldReader.Path) -> Bool)?

    struct Choice: Sendable {
        /// Indices of the fields among which to choose, and their bits.
        let fields: [Int]
        let mask: UInt64
        /// What one of them is called ("probe"), and the message when none is given.
        let noun: String
        let none: String
    }

    init(
        _ fields: [Field<Model>], oneOf choice: (names: [String], noun: String, none: String)? = nil,
        check: (@Sendable (inout FieldReader, inout Model, ObjectFields, FieldReader.Path) -> Bool)? = nil
    ) {
        precondition(fields.count <= 63, "a schema holds at most 63 fields")
        self.fields = fields
        names = fields.map(\.name)
        reads = fields.map(\.read)
        missing = fields.map(\.missing)
        utf8 = fields.map(\.utf8)
        lengths = fields.map(\.utf8.count)
        self.check = check
        self.choice = choice.map { c in
            let indices = c.names.map { name in fields.firstIndex { $0.name == name }! }
            return Choice(fields: indices, mask: indices.reduce(0) { $0 | (1 << UInt64($1)) }, noun: c.noun, none: c.none)
        }
    }

    /// The index of the field a key names: bytes compared for ASCII keys; a key with other
    /// characters is compared as a `String` too, so text equal to a name in Unicode's
    /// canonical sense (U+212A KELVIN SIGN is "K") names it as `String` equality says.
    func index(of key: NodeID, in doc: FlatDocument) -> Int? {
        let (match, ascii) = doc.withBytes(key) { b -> (Int?, Bool) in
            for i in lengths.indices where lengths[i] == b.count {
                let name = utf8[i]
                var equal = true
                for k in 0..<name.count where name[k] != b[k] {
                    equal = false
                    break
                }
                if equal { return (i, true) }
            }
            for k in b.indices where b[k] >= 0x80 { return (nil, false) }
            return (nil, true)
        }
        if let match { return match }
        if ascii { return nil }
        return names.firstIndex(of: doc.text(key))
    }

    /// The index of the field called `name` (for rules across fields).
    func index(_ name: String) -> Int { names.firstIndex(of: name)! }
}

/// One field of a schema.
struct Field<Model>: Sendable {
    let name: String
    let utf8: [UInt8]
    /// For a required field: what to add when it is missing ("add the port to probe").
    let missing: String?
    /// Reads the value into the model; false when it had a problem (reported).
    let read: @Sendable (inout FieldReader, NodeID, FieldReader.Path, inout Model) -> Bool

    init(_ name: String, missing: String?, read: @escaping @Sendable (inout FieldReader, NodeID, FieldReader.Path, inout Model) -> Bool) {
        self.name = name
        utf8 = Array(name.utf8)
        self.missing = missing
        self.read = read
    }

    /// An optional field: when present, its value is read by `type` and stored by `set`.
    /// (`set` is a closure, not a key path: writing through a key path costs more than
    /// reading the value, and most of a manifest's fields are read on every load.)
    static func field<T>(_ name: String, _ type: ValueType<T>, _ set: @escaping @Sendable (inout Model, T) -> Void) -> Field {
        Field(name, missing: nil) { r, node, path, model in
            guard let value = type.read(&r, node, path) else { return false }
            set(&model, value)
            return true
        }
    }

    /// A required field: missing, it is an error at its mapping saying "required field is
    /// missing; " and `missing`.
    static func required<T>(
        _ name: String, _ type: ValueType<T>, missing: String, _ set: @escaping @Sendable (inout Model, T) -> Void
    ) -> Field {
        Field(name, missing: missing, read: field(name, type, set).read)
    }
}

/// How a value is read and checked: from a node to a model value, or nil after reporting
/// why not at the node's place.
struct ValueType<T>: Sendable {
    let read: @Sendable (inout FieldReader, NodeID, FieldReader.Path) -> T?

    init(_ read: @escaping @Sendable (inout FieldReader, NodeID, FieldReader.Path) -> T?) { self.read = read }

    func map<U>(_ transform: @escaping @Sendable (T) -> U) -> ValueType<U> {
        ValueType<U> { r, node, path in read(&r, node, path).map(transform) }
    }

    /// An object read by its own schema into a copy of `prototype` (the defaults); nil when
    /// anything in it had a problem.
    static func object(_ schema: Schema<T>, _ prototype: T) -> ValueType<T> where T: Sendable {
        ValueType { r, node, path in
            var model = prototype
            guard let fields = r.object(node, path, schema, into: &model), fields.ok else { return nil }
            return model
        }
    }
}
