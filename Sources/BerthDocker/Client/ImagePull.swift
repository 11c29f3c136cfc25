import BerthCore
import BerthNet
import Foundation
import Logging
import NIOHTTP1

extension DockerClient {
    /// What a pull reported at its end.
    public struct PullResult: Sendable, Hashable {
        /// `sha256:…` from the final "Digest: …" status line, when the registry sent one.
        public var digest: String?
        /// The final status ("Image is up to date for …", "Downloaded newer image for …").
        public var status: String?
    }

    /// Pulls `reference` (`POST /images/create`), streaming the engine's JSON progress:
    /// each new status line (per layer: "Pulling fs layer", "Download complete", …) goes to
    /// `progress` as it comes, layers' byte counts left out. With `credential`, it is sent in
    /// the `X-Registry-Auth` header (never logged, never in a message).
    ///
    /// The registry's own message becomes the error ("manifest unknown", "unauthorized: …"):
    /// `.pullFailed`; no registry answering (no network, wrong host) is `.registryUnreachable`
    /// with what to do on an offline machine.
    public func pullImage(
        _ reference: String, credential: RegistryCredential? = nil, timeout: Duration = .seconds(600),
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws -> PullResult {
        let (name, tag) = Self.splitReference(reference)
        var query = [("fromImage", name)]
        if !tag.isEmpty { query.append(("tag", tag)) }
        let target = uri("/images/create", query)
        let doing = "pulling image \(reference)"
        let headers: [(String, String)] = credential.map { [("X-Registry-Auth", $0.header)] } ?? []
        logger.debug("pulling image", metadata: ["docker.image": "\(reference)", "registry.auth": "\(credential == nil ? "none" : "sent")"])
        let transport = self.transport
        let body = try await withTimeout(timeout, doing) { () async throws -> PullResult in
            let streaming: HTTPClient.Streaming
            do {
                streaming = try await transport.stream(.POST, target, headers: headers)
            } catch let failure as HTTPClient.ConnectFailure {
                throw Self.unreachable(self.endpoint, Self.explain(failure))
            }
            guard streaming.status == 200 else {
                var bytes: [UInt8] = []
                for try await chunk in streaming.body { bytes += chunk }
                throw Self.pullError(reference, Self.engineError(.init(status: streaming.status, body: bytes), doing: doing).engineMessage ?? "HTTP \(streaming.status)")
            }
            var result = PullResult()
            var pending: [UInt8] = []
            var lastLine: String? = nil
            for try await chunk in streaming.body {
                pending += chunk
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = Array(pending[..<newline])
                    pending.removeSubrange(...newline)
                    guard !line.isEmpty, let event = try? JSONDecoder().decode(Engine.PullProgress.self, from: Data(line)) else { continue }
                    if let message = event.errorDetail?.message ?? event.error { throw Self.pullError(reference, message) }
                    guard let status = event.status else { continue }
                    if status.hasPrefix("Digest: ") { result.digest = String(status.dropFirst("Digest: ".count)) }
                    if status.hasPrefix("Status: ") { result.status = String(status.dropFirst("Status: ".count)) }
                    // Byte counts change many times a second: only new statuses are said.
                    let text = event.id.map { "\($0): \(status)" } ?? status
                    if event.progressDetail?.current == nil, text != lastLine {
                        lastLine = text
                        progress(text)
                    }
                }
            }
            return result
        }
        return body
    }

    /// A pull's failure: the registry's own words, or "no registry answered".
    static func pullError(_ reference: String, _ message: String) -> DockerError {
        let doing = "pulling image \(reference)"
        let offline = ["dial tcp", "no such host", "connection refused", "i/o timeout", "Client.Timeout", "network is unreachable", "server misbehaving"]
        if offline.contains(where: { message.contains($0) }) {
            return DockerError(
                .registryUnreachable,
                "\(doing): no registry answered (\(message)). Build or load the image on this machine (e.g. samples/build-images.sh, docker load) or check the registry.",
                engineMessage: message)
        }
        return DockerError(.pullFailed, "\(doing): \(message)", engineMessage: message)
    }
}

/// A registry user name and password (or identity token), sent to the engine with a pull.
/// Its description never shows the password.
public struct RegistryCredential: Sendable, Hashable, CustomStringConvertible, CustomReflectable {
    public var username: String
    public var password: String
    public var serverAddress: String
    /// Where it came from ("~/.docker/config.json", "BERTH_REGISTRY_*"), for messages.
    public var origin: String

    public init(username: String, password: String, serverAddress: String, origin: String) {
        self.username = username
        self.password = password
        self.serverAddress = serverAddress
        self.origin = origin
    }

    public var description: String { "\(username) (\(Secrets.mask)) for \(serverAddress) from \(origin)" }
    public var customMirror: Mirror { Mirror(self, children: ["description": description]) }

    /// The `X-Registry-Auth` value: base64url of the engine's AuthConfig JSON.
    var header: String {
        struct AuthConfig: Encodable {
            var username: String
            var password: String
            var serveraddress: String
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = (try? encoder.encode(AuthConfig(username: username, password: password, serveraddress: serverAddress))) ?? Data()
        return json.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    }
}
