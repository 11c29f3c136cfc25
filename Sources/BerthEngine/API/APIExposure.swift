/// Who can read `berth watch`'s API, from its listen address (issue 18: `--listen 0.0.0.0`
/// with no token served status, plans and the journal to anyone, and said only
/// `api.writes=disabled`).
///
/// - On loopback, reads are open (only local users reach them) and writes need the token.
/// - On any other address, reads need the token as writes do (`/healthz` stays open for
///   load balancers), unless `--public-read` opens them on purpose; with no token and no
///   `--public-read`, watch refuses to start.
public enum APIExposure: Sendable, Hashable {
    case loopback
    /// Not loopback; every read but `/healthz` needs the token.
    case tokenReads
    /// Not loopback, reads open by `--public-read`.
    case publicReads

    public init(host: String, publicRead: Bool) {
        if Self.isLoopback(host) {
            self = .loopback
        } else {
            self = publicRead ? .publicReads : .tokenReads
        }
    }

    public var readsNeedToken: Bool { self == .tokenReads }

    /// `127.0.0.0/8`, `::1` (also written out), `localhost`.
    public static func isLoopback(_ host: String) -> Bool {
        let h = host.lowercased()
        if h == "localhost" || h == "::1" || h == "0:0:0:0:0:0:0:1" { return true }
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { p in UInt8(p).map { String($0) == p } ?? false }
    }

    /// Why `berth watch` will not start, or nil.
    public static func refusal(listen: String, host: String, publicRead: Bool, tokenSet: Bool) -> String? {
        guard !isLoopback(host), !publicRead, !tokenSet else { return nil }
        return "--listen \(listen) would serve status, plans and the journal to anyone who can reach it, "
            + "and no BERTH_API_TOKEN is set: set BERTH_API_TOKEN (reads then need it too), "
            + "pass --public-read to serve reads to everyone on purpose, or listen on 127.0.0.1"
    }

    /// The `api.reads` log value.
    public var readsDescription: String {
        switch self {
        case .loopback: "open on loopback"
        case .tokenReads: "token"
        case .publicReads: "public"
        }
    }
}
