public import Foundation

/// Where pulls find registry credentials, looked up by the registry host of an image:
///
/// 1. Berth's own environment: `BERTH_REGISTRY_HOST` (e.g. `registry.example.com` or
///    `127.0.0.1:5000`) with `BERTH_REGISTRY_USERNAME` and `BERTH_REGISTRY_PASSWORD`,
///    used for that host only.
/// 2. The Docker config, `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`: an
///    `auths` entry for the host (keys as `docker login` writes them: `host`,
///    `https://host`, `https://host/v1/`; Docker Hub as `https://index.docker.io/v1/`),
///    with a base64 `auth` ("user:password") or `username` and `password`.
///
/// Credential helpers (`credsStore`, `credHelpers`) are not run: when the config names one
/// for the host, `note` says so, and a failed pull repeats it.
public struct RegistryCredentials: Sendable {
    public var environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    public struct Lookup: Sendable, Hashable {
        public var credential: RegistryCredential?
        /// Why none was found although one may be configured (a credential helper).
        public var note: String?
    }

    /// The registry host of an image reference: its first component when it holds a '.' or
    /// a ':' or is `localhost`; else Docker Hub (`docker.io`).
    public static func registryHost(of image: String) -> String {
        guard let slash = image.firstIndex(of: "/") else { return "docker.io" }
        let first = image[..<slash]
        if first.contains(".") || first.contains(":") || first == "localhost" { return String(first) }
        return "docker.io"
    }

    public func lookup(image: String) -> Lookup {
        let host = Self.registryHost(of: image)
        if let wanted = environment["BERTH_REGISTRY_HOST"], !wanted.isEmpty, wanted == host,
            let user = environment["BERTH_REGISTRY_USERNAME"], let password = environment["BERTH_REGISTRY_PASSWORD"]
        {
            return Lookup(credential: RegistryCredential(username: user, password: password, serverAddress: host, origin: "BERTH_REGISTRY_*"))
        }
        let path = configPath
        guard let data = FileManager.default.contents(atPath: path),
            let config = try? JSONDecoder().decode(DockerConfigFile.self, from: data)
        else { return Lookup() }
        let keys = host == "docker.io"
            ? ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "https://index.docker.io/v1"]
            : [host, "https://\(host)", "http://\(host)", "https://\(host)/v1/", "https://\(host)/v2/"]
        for key in keys {
            guard let entry = config.auths?[key] else { continue }
            if let auth = entry.auth, let decoded = Data(base64Encoded: auth).map({ String(decoding: $0, as: UTF8.self) }),
                let colon = decoded.firstIndex(of: ":")
            {
                return Lookup(credential: RegistryCredential(
                    username: String(decoded[..<colon]), password: String(decoded[decoded.index(after: colon)...]),
                    serverAddress: host, origin: path))
            }
            if let user = entry.username, let password = entry.password {
                return Lookup(credential: RegistryCredential(username: user, password: password, serverAddress: host, origin: path))
            }
            if let token = entry.identitytoken {
                return Lookup(credential: RegistryCredential(username: "<token>", password: token, serverAddress: host, origin: path))
            }
        }
        if let helper = keys.lazy.compactMap({ config.credHelpers?[$0] }).first ?? config.credsStore {
            return Lookup(note: "\(path) names the credential helper docker-credential-\(helper) for \(host), which Berth does not run; add an auths entry (docker login with no credsStore) or set BERTH_REGISTRY_HOST, BERTH_REGISTRY_USERNAME and BERTH_REGISTRY_PASSWORD")
        }
        return Lookup()
    }

    /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
    public var configPath: String {
        if let dir = environment["DOCKER_CONFIG"], !dir.isEmpty { return (dir as NSString).appendingPathComponent("config.json") }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".docker/config.json")
    }

    struct DockerConfigFile: Decodable {
        struct Entry: Decodable {
            var auth: String?
            var username: String?
            var password: String?
            var identitytoken: String?
        }
        var auths: [String: Entry]?
        var credsStore: String?
        var credHelpers: [String: String]?
    }
}
