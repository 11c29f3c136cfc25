import BerthNet

/// Where the Docker Engine listens: a unix socket (the default) or a TCP address, as
/// `DOCKER_HOST` spells it (`unix:///var/run/docker.sock`, `tcp://127.0.0.1:2375`).
public enum DockerEndpoint: Sendable, Hashable, CustomStringConvertible {
    case unix(path: String)
    case tcp(host: String, port: Int)

    public static let defaultSocket = DockerEndpoint.unix(path: "/var/run/docker.sock")

    /// Reads `DOCKER_HOST` from `environment`; the default socket when it is unset or empty.
    public static func fromEnvironment(_ environment: [String: String]) throws(DockerError) -> DockerEndpoint {
        guard let host = environment["DOCKER_HOST"], !host.isEmpty else { return .defaultSocket }
        return try DockerEndpoint(parsing: host)
    }

    public init(parsing text: String) throws(DockerError) {
        if text.hasPrefix("unix://") {
            let path = String(text.dropFirst("unix://".count))
            guard path.hasPrefix("/") else {
                throw DockerError(
                    .badEndpoint,
                    "DOCKER_HOST=\(text): a unix socket needs an absolute path, e.g. unix:///var/run/docker.sock")
            }
            self = .unix(path: path)
        } else if text.hasPrefix("tcp://") || text.hasPrefix("http://") {
            var rest = Substring(text.drop { $0 != "/" }.dropFirst(2))
            if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
            let host: Substring
            var port = 2375
            if let colon = rest.lastIndex(of: ":"), !rest.hasSuffix("]") {
                host = rest[..<colon]
                guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else {
                    throw DockerError(.badEndpoint, "DOCKER_HOST=\(text): the port is not a number from 1 to 65535")
                }
                port = p
            } else {
                host = rest
            }
            let bare = host.hasPrefix("[") && host.hasSuffix("]") ? host.dropFirst().dropLast() : host
            guard !bare.isEmpty else {
                throw DockerError(.badEndpoint, "DOCKER_HOST=\(text): no host name, e.g. tcp://127.0.0.1:2375")
            }
            self = .tcp(host: String(bare), port: port)
        } else {
            throw DockerError(
                .badEndpoint,
                "DOCKER_HOST=\(text): Berth speaks unix:// and tcp:// (plain, no TLS), e.g. unix:///var/run/docker.sock")
        }
    }

    /// Where the HTTP client connects.
    var target: HTTPClient.Target {
        switch self {
        case .unix(let path): .unix(path: path)
        case .tcp(let host, let port): .tcp(host: host, port: port)
        }
    }

    /// The engine ignores the Host header over its socket; say who we talk to.
    var hostHeader: String? {
        switch self {
        case .unix: "docker"
        case .tcp: nil
        }
    }

    public var description: String {
        switch self {
        case .unix(let path): "unix://\(path)"
        case .tcp(let host, let port): host.contains(":") ? "tcp://[\(host)]:\(port)" : "tcp://\(host):\(port)"
        }
    }
}
