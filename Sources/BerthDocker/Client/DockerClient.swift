import BerthNet
import Foundation
public import Logging
import NIOHTTP1

/// A Docker Engine API client: one HTTP/1.1 exchange per call, over the unix socket or TCP,
/// at the API version negotiated once by `connect` (the lower of the engine's and
/// `supportedAPIVersion`). Every error says what Berth was doing and what the engine said.
public struct DockerClient: Sendable {
    /// The newest Engine API this client is written against.
    public static let supportedAPIVersion = APIVersion(1, 41)

    public let endpoint: DockerEndpoint
    /// The version used in every path (`/v1.41/...`).
    public let apiVersion: APIVersion
    /// What the engine reported at `connect`.
    public let engineVersion: Engine.Version
    public var logger: Logger
    /// How long one engine call may take before Berth gives up (a stop adds its grace
    /// period; event streams have no limit).
    public var requestTimeout: Duration = .seconds(60)

    let transport: HTTPClient

    /// Connects to the engine at `endpoint` and negotiates the API version. Throws
    /// `.daemonUnreachable` with advice when nothing answers.
    public static func connect(
        to endpoint: DockerEndpoint, logger: Logger = Logger(label: "berth.docker")
    ) async throws -> DockerClient {
        let transport = HTTPClient(endpoint.target, hostHeader: endpoint.hostHeader)
        let response: HTTPClient.Response
        do {
            response = try await transport.send(.GET, "/version")
        } catch let failure as HTTPClient.ConnectFailure {
            throw unreachable(endpoint, explain(failure))
        } catch {
            throw DockerError(
                .daemonUnreachable,
                "cannot talk to the Docker daemon at \(endpoint): \(error). Is it a Docker Engine?")
        }
        guard response.status == 200 else {
            throw engineError(response, doing: "asking the Docker daemon at \(endpoint) for its version")
        }
        let version: Engine.Version = try decode(response.body, doing: "reading the engine version")
        guard let server = APIVersion(parsing: version.ApiVersion) else {
            throw DockerError(.protocolError, "the Docker daemon at \(endpoint) reports API version \"\(version.ApiVersion)\", which Berth cannot read")
        }
        return DockerClient(
            endpoint: endpoint, apiVersion: min(server, supportedAPIVersion), engineVersion: version, logger: logger,
            transport: transport)
    }

    /// `connect(to:)` at `DOCKER_HOST` (or the default socket).
    public static func connect(
        environment: [String: String]? = nil,
        logger: Logger = Logger(label: "berth.docker")
    ) async throws -> DockerClient {
        let environment = environment ?? ProcessInfo.processInfo.environment
        return try await connect(to: DockerEndpoint.fromEnvironment(environment), logger: logger)
    }

    private init(
        endpoint: DockerEndpoint, apiVersion: APIVersion, engineVersion: Engine.Version, logger: Logger,
        transport: HTTPClient
    ) {
        self.endpoint = endpoint
        self.apiVersion = apiVersion
        self.engineVersion = engineVersion
        self.logger = logger
        self.transport = transport
    }

    /// Why the engine's socket did not answer; a socket we may not open says what to do.
    static func explain(_ failure: HTTPClient.ConnectFailure) -> String {
        failure.errnoCode == 13 ? "permission denied (run as root or join the docker group)" : failure.description
    }

    static func unreachable(_ endpoint: DockerEndpoint, _ reason: String) -> DockerError {
        let advice: String
        switch endpoint {
        case .unix(let path):
            advice =
                "Is dockerd running? Start it with `sudo systemctl start docker` (or `sudo dockerd &`), or set DOCKER_HOST to the engine's address; Berth looked for the socket \(path)."
        case .tcp:
            advice = "Is dockerd running and listening there? Check DOCKER_HOST, or unset it to use /var/run/docker.sock."
        }
        return DockerError(.daemonUnreachable, "cannot connect to the Docker daemon at \(endpoint): \(reason). \(advice)")
    }

    // MARK: - Requests

    func uri(_ path: String, _ query: [(String, String)] = []) -> String {
        var out = "/v\(apiVersion)\(path)"
        if !query.isEmpty {
            out += "?" + query.map { "\(percentEncode($0.0))=\(percentEncode($0.1))" }.joined(separator: "&")
        }
        return out
    }

    /// Sends a request; a non-2xx answer becomes a `DockerError` naming `doing`.
    @discardableResult
    func call(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: [UInt8]? = nil,
        doing: @autoclosure () -> String, accept: Set<Int> = [], timeout: Duration? = nil
    ) async throws -> HTTPClient.Response {
        let target = uri(path, query)
        logger.trace("docker request", metadata: ["docker.method": "\(method)", "docker.uri": "\(target)"])
        let response: HTTPClient.Response
        let transport = self.transport
        do {
            response = try await withTimeout(timeout ?? requestTimeout, doing()) {
                try await transport.send(method, target, body: body)
            }
        } catch let failure as HTTPClient.ConnectFailure {
            throw Self.unreachable(endpoint, Self.explain(failure))
        } catch let error as DockerError {
            throw error
        } catch {
            throw DockerError(.protocolError, "\(doing()): \(error)")
        }
        if (200..<300).contains(response.status) || accept.contains(response.status) { return response }
        throw Self.engineError(response, doing: doing())
    }

    static func engineError(_ response: HTTPClient.Response, doing: String) -> DockerError {
        let engineMessage =
            (try? JSONDecoder().decode(Engine.ErrorBody.self, from: Data(response.body)).message)
            ?? String(decoding: response.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let code: DockerError.Code =
            switch response.status {
            case 304: .notModified
            case 404: .notFound
            case 409: .conflict
            default: .engine
            }
        let said = engineMessage.isEmpty ? "the engine answered HTTP \(response.status)" : engineMessage
        return DockerError(code, "\(doing): \(said)", engineMessage: engineMessage, status: response.status)
    }

    static func decode<T: Decodable>(_ bytes: [UInt8], doing: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch {
            throw DockerError(.protocolError, "\(doing): the engine's answer is not the JSON Berth expects (\(error))")
        }
    }

    static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Array(try! encoder.encode(value))
    }

    private func get<T: Decodable>(_ path: String, query: [(String, String)] = [], doing: String) async throws -> T {
        let response = try await call(.GET, path, query: query, doing: doing)
        return try Self.decode(response.body, doing: doing)
    }

    static func labelFilters(_ labels: [String: String], extra: [String: [String]] = [:]) -> String {
        var filters = extra
        if !labels.isEmpty { filters["label"] = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } }
        return String(decoding: encode(filters), as: UTF8.self)
    }

    // MARK: - System

    /// `GET /_ping`: true when the engine answers.
    public func ping() async throws -> Bool {
        let response = try await call(.GET, "/_ping", doing: "pinging the Docker daemon")
        return String(decoding: response.body, as: UTF8.self) == "OK"
    }

    // MARK: - Containers

    /// Containers carrying all of `labels`, running or not.
    public func listContainers(labels: [String: String]) async throws -> [Engine.ContainerSummary] {
        try await get(
            "/containers/json", query: [("all", "true"), ("filters", Self.labelFilters(labels))],
            doing: "listing containers labelled \(labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))")
    }

    public func inspectContainer(_ id: String) async throws -> Engine.ContainerDetails {
        try await get("/containers/\(id)/json", doing: "inspecting container \(id)")
    }

    /// Creates a container named `name`; returns its id.
    public func createContainer(name: String, _ config: Engine.ContainerCreate) async throws -> String {
        let response = try await call(
            .POST, "/containers/create", query: [("name", name)], body: Self.encode(config),
            doing: "creating container \(name)")
        let created: Engine.IDResponse = try Self.decode(response.body, doing: "creating container \(name)")
        return created.Id
    }

    public func startContainer(_ id: String) async throws {
        try await call(.POST, "/containers/\(id)/start", doing: "starting container \(id)", accept: [304])
    }

    /// SIGTERM (or the image's stop signal), then SIGKILL after `timeoutSeconds`.
    public func stopContainer(_ id: String, timeoutSeconds: Int) async throws {
        try await call(
            .POST, "/containers/\(id)/stop", query: [("t", "\(timeoutSeconds)")], doing: "stopping container \(id)",
            accept: [304], timeout: requestTimeout + .seconds(timeoutSeconds))
    }

    public func killContainer(_ id: String, signal: String = "SIGKILL") async throws {
        try await call(
            .POST, "/containers/\(id)/kill", query: [("signal", signal)], doing: "killing container \(id)")
    }

    /// Removes a container, running or not, with its anonymous volumes.
    public func removeContainer(_ id: String, force: Bool = true) async throws {
        try await call(
            .DELETE, "/containers/\(id)", query: [("force", force ? "true" : "false"), ("v", "true")],
            doing: "removing container \(id)")
    }

    // MARK: - Exec

    public struct ExecResult: Sendable, Hashable {
        public var exitCode: Int
        public var stdout: String
        public var stderr: String
        public init(exitCode: Int, stdout: String, stderr: String) {
            self.exitCode = exitCode
            self.stdout = stdout
            self.stderr = stderr
        }
    }

    /// Runs `command` inside a running container and waits for it to end.
    public func exec(_ id: String, _ command: [String]) async throws -> ExecResult {
        let doing = "running \(command.joined(separator: " ")) in container \(id)"
        let created = try await call(
            .POST, "/containers/\(id)/exec",
            body: Self.encode(Engine.ExecCreate(Cmd: command, AttachStdout: true, AttachStderr: true)), doing: doing)
        let exec: Engine.IDResponse = try Self.decode(created.body, doing: doing)
        // Not detached: the engine hijacks the connection, writes the multiplexed output
        // and closes it when the command ends.
        let output = try await call(
            .POST, "/exec/\(exec.Id)/start", body: Self.encode(Engine.ExecStart(Detach: false, Tty: false)),
            doing: doing)
        let (stdout, stderr) = Self.demultiplex(output.body)
        var inspected: Engine.ExecInspect = try await get("/exec/\(exec.Id)/json", doing: doing)
        var polls = 0
        while inspected.Running, polls < 100 {
            try await Task.sleep(for: .milliseconds(10))
            inspected = try await get("/exec/\(exec.Id)/json", doing: doing)
            polls += 1
        }
        return ExecResult(
            exitCode: inspected.ExitCode ?? -1, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Splits Docker's attach stream: frames of [stream, 0, 0, 0, size (4 bytes, big endian)].
    static func demultiplex(_ bytes: [UInt8]) -> (stdout: [UInt8], stderr: [UInt8]) {
        var stdout: [UInt8] = [], stderr: [UInt8] = []
        var i = 0
        while i + 8 <= bytes.count {
            let kind = bytes[i]
            let size = Int(bytes[i + 4]) << 24 | Int(bytes[i + 5]) << 16 | Int(bytes[i + 6]) << 8 | Int(bytes[i + 7])
            let end = min(bytes.count, i + 8 + size)
            if kind == 2 { stderr += bytes[(i + 8)..<end] } else { stdout += bytes[(i + 8)..<end] }
            i = end
        }
        return (stdout, stderr)
    }

    // MARK: - Networks

    public func inspectNetwork(_ name: String) async throws -> Engine.Network {
        try await get("/networks/\(name)", doing: "inspecting network \(name)")
    }

    /// Creates a bridge network; returns its id.
    public func createNetwork(name: String, labels: [String: String]) async throws -> String {
        let response = try await call(
            .POST, "/networks/create",
            body: Self.encode(Engine.NetworkCreate(Name: name, Driver: "bridge", CheckDuplicate: true, Labels: labels)),
            doing: "creating network \(name)")
        let created: Engine.IDResponse = try Self.decode(response.body, doing: "creating network \(name)")
        return created.Id
    }

    public func removeNetwork(_ name: String) async throws {
        try await call(.DELETE, "/networks/\(name)", doing: "removing network \(name)")
    }

    public func connectNetwork(_ network: String, container: String, aliases: [String]) async throws {
        try await call(
            .POST, "/networks/\(network)/connect",
            body: Self.encode(
                Engine.NetworkConnect(Container: container, EndpointConfig: .init(Aliases: aliases))),
            doing: "connecting container \(container) to network \(network)")
    }

    /// Networks carrying all of `labels`.
    public func listNetworks(labels: [String: String]) async throws -> [Engine.Network] {
        try await get(
            "/networks", query: [("filters", Self.labelFilters(labels))], doing: "listing networks")
    }

    // MARK: - Images

    public func inspectImage(_ reference: String) async throws -> Engine.Image {
        try await get("/images/\(reference)/json", doing: "inspecting image \(reference)")
    }

    /// `shop/booking:1.0` → (`shop/booking`, `1.0`); no tag → `latest`; digests stay whole.
    static func splitReference(_ reference: String) -> (name: String, tag: String) {
        if reference.contains("@") { return (reference, "") }
        if let colon = reference.lastIndex(of: ":"), !reference[colon...].contains("/") {
            return (String(reference[..<colon]), String(reference[reference.index(after: colon)...]))
        }
        return (reference, "latest")
    }

    // MARK: - Events

    /// Container events for the containers carrying all of `labels`, decoded, as they
    /// happen. The connection closes when the consuming task is cancelled or stops
    /// iterating.
    /// With `since` (seconds since 1970), the engine first replays what happened from then
    /// on, so nothing is missed between asking and the connection being up.
    public func events(labels: [String: String], since: Double? = nil) async throws -> AsyncThrowingStream<
        Engine.Event, any Error
    > {
        let doing = "following engine events"
        var query = [("filters", Self.labelFilters(labels, extra: ["type": ["container"]]))]
        if let since {
            let whole = Int64(since.rounded(.down))
            let nanos = Int64(((since - Double(whole)) * 1e9).rounded(.down))
            let padded = String(repeating: "0", count: 9 - String(nanos).count) + String(nanos)
            query.append(("since", "\(whole).\(padded)"))
        }
        let streaming = try await openStream(uri("/events", query), doing: doing)
        let (stream, continuation) = AsyncThrowingStream<Engine.Event, any Error>.makeStream()
        let reader = Task {
            var pending: [UInt8] = []
            do {
                for try await chunk in streaming.body {
                    pending += chunk
                    while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                        let line = Array(pending[..<newline])
                        pending.removeSubrange(...newline)
                        if line.isEmpty { continue }
                        continuation.yield(try Self.decode(line, doing: doing))
                    }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in reader.cancel() }
        return stream
    }

    /// A streamed GET (events, followed logs): the response once its status is 200; the
    /// engine's error otherwise.
    func openStream(_ target: String, doing: String) async throws -> HTTPClient.Streaming {
        let streaming: HTTPClient.Streaming
        do {
            streaming = try await transport.stream(.GET, target)
        } catch let failure as HTTPClient.ConnectFailure {
            throw Self.unreachable(endpoint, Self.explain(failure))
        }
        guard streaming.status == 200 else {
            var body: [UInt8] = []
            for try await chunk in streaming.body { body += chunk }
            throw Self.engineError(.init(status: streaming.status, body: body), doing: doing)
        }
        return streaming
    }
}

/// An Engine API version, `major.minor`, ordered.
public struct APIVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public init(_ major: Int, _ minor: Int) {
        self.major = major
        self.minor = minor
    }
    public init?(parsing text: String) {
        let parts = text.split(separator: ".")
        guard parts.count == 2, let major = Int(parts[0]), let minor = Int(parts[1]) else { return nil }
        self.init(major, minor)
    }
    public static func < (a: APIVersion, b: APIVersion) -> Bool { (a.major, a.minor) < (b.major, b.minor) }
    public var description: String { "\(major).\(minor)" }
}

/// RFC 3986 unreserved characters pass; everything else is %XX.
func percentEncode(_ text: String) -> String {
    var out = ""
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
            UInt8(ascii: "~"):
            out.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            let hex = Array("0123456789ABCDEF".utf8)
            out += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 15)]], as: UTF8.self)
        }
    }
    return out
}

/// Runs `body`, throwing `DockerError.timedOut` (with `what`) if it takes longer than `limit`.
func withTimeout<T: Sendable>(
    _ limit: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await BerthNet.withTimeout(limit, DockerError(.timedOut, "\(what): no answer within \(limit.formattedMillis)"), body)
}
