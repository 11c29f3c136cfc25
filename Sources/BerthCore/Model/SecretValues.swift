/// Decrypted secrets for one instance, by secret name: handed to the runtime at create
/// time and nowhere else. Never printed: its description, debug description and mirror
/// show the names only, and it is not `Codable`, so it cannot end up in JSON, a label or
/// the journal by accident.
public struct SecretValues: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private var values: [String: [UInt8]]

    public init(_ values: [String: [UInt8]] = [:]) { self.values = values }

    public static let none = SecretValues()

    public subscript(name: String) -> [UInt8]? { values[name] }

    public var names: [String] { values.keys.sorted() }
    public var isEmpty: Bool { values.isEmpty }

    /// Every value, for masking output by value (`Secrets.masking`).
    public var allValues: [[UInt8]] { names.map { values[$0]! } }

    public var description: String { "secrets(\(names.joined(separator: ", ")))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["names": names]) }

    public func hash(into h: inout Hasher) { h.combine(names) }
}
