/// The result of one health probe.
public enum ProbeResult: Sendable, Hashable, CustomStringConvertible {
    case pass
    /// Why it failed, for people: `GET http://10.0.0.5:8080/healthz answered HTTP 503`.
    case fail(String)

    public var passed: Bool { self == .pass }
    public var description: String {
        switch self {
        case .pass: "pass"
        case .fail(let why): why
        }
    }
}
