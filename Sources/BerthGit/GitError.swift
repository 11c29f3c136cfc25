/// A failed git operation: what Berth tried, on what, libgit2's own words, and what to do.
/// Credentials never appear in any field (URLs are scrubbed before they are stored).
public struct GitError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure; extensible (new codes may be added, so switch with `default`).
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Value: String, Sendable, Hashable {
            case generic, notFound, exists, ambiguous, auth, network, invalidSpec, locked,
                unbornBranch, certificate, peel, invalid, owner
        }
        let value: Value
        public static let generic = Code(value: .generic)
        public static let notFound = Code(value: .notFound)
        public static let exists = Code(value: .exists)
        public static let ambiguous = Code(value: .ambiguous)
        public static let auth = Code(value: .auth)
        public static let network = Code(value: .network)
        public static let invalidSpec = Code(value: .invalidSpec)
        public static let locked = Code(value: .locked)
        /// The repository (or HEAD's branch) has no commits yet.
        public static let unbornBranch = Code(value: .unbornBranch)
        public static let certificate = Code(value: .certificate)
        public static let peel = Code(value: .peel)
        public static let invalid = Code(value: .invalid)
        public static let owner = Code(value: .owner)
        public var description: String { value.rawValue }
    }

    public var code: Code
    /// libgit2's message (scrubbed), empty when Berth raised the error itself.
    public var libgit2Message: String
    /// What Berth was doing: "resolve revision", "fetch", "open repository".
    public var operation: String
    /// What it was done to: a path, a revision, a (scrubbed) URL.
    public var subject: String
    /// A sentence for the operator: what to check or do next.
    public var hint: String
    /// libgit2's error class (`git_error_t`), 0 when Berth raised the error itself.
    var libgit2Class: Int32 = 0

    public init(code: Code, libgit2Message: String = "", operation: String, subject: String, hint: String = "") {
        self.code = code
        self.libgit2Message = libgit2Message
        self.operation = operation
        self.subject = subject
        self.hint = hint
    }

    /// `cannot OPERATION SUBJECT: LIBGIT2 MESSAGE (HINT)`, one line.
    public var description: String {
        var text = "cannot \(operation) \(subject)"
        if !libgit2Message.isEmpty { text += ": \(libgit2Message)" }
        if !hint.isEmpty { text += "; \(hint)" }
        return text
    }
}
