import BerthCore
import Foundation
import NIOHTTP1
import NIOCore
import NIOPosix

/// The result of one health probe.
public enum ProbeResult: Sendable, Hashable, CustomStringConvertible {
    case pass
    case fail(String)

    public var passed: Bool { self == .pass }
    public var description: String {
        switch self {
        case .pass: "pass"
        case .fail(let why): why
        }
    }
}

/// Berth's own probes (Docker's HEALTHCHECK is not used): http and tcp against the
/// container's address on the project bridge, exec through the Docker exec API.
struct Prober: Sendable {
    var client: DockerClient

    func probe(containerID: String, address: String?, check: HealthCheck) async -> ProbeResult {
        let limit = Duration.milliseconds(max(1, check.timeout.milliseconds))
        switch check.probe {
        case .http(let path, let port):
            guard let address else { return .fail("the container has no address on the project network") }
            let url = "http://\(address):\(port)\(path)"
            do {
                let transport = HTTPTransport(
                    endpoint: .tcp(host: address, port: port),
                    connectTimeout: .milliseconds(max(1, check.timeout.milliseconds)))
                let response = try await withTimeout(limit, "GET \(url)") {
                    try await transport.send(.GET, path.hasPrefix("/") ? path : "/" + path)
                }
                return (200..<400).contains(response.status)
                    ? .pass : .fail("GET \(url) answered HTTP \(response.status)")
            } catch let error as HTTPTransport.ConnectFailure {
                return .fail("GET \(url): \(error.description)")
            } catch let error as DockerError {
                return .fail(error.message)
            } catch {
                return .fail("GET \(url): \(error)")
            }
        case .tcp(let port):
            guard let address else { return .fail("the container has no address on the project network") }
            do {
                let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connectTimeout(.milliseconds(max(1, check.timeout.milliseconds)))
                    .connect(host: address, port: port).get()
                try? await channel.close()
                return .pass
            } catch {
                return .fail("connect to \(address):\(port): \(HTTPTransport.ConnectFailure.explain(error))")
            }
        case .exec(let command):
            let client = self.client
            do {
                let result = try await withTimeout(limit, "running \(command.joined(separator: " "))") {
                    try await client.exec(containerID, command)
                }
                if result.exitCode == 0 { return .pass }
                let said = (result.stderr.isEmpty ? result.stdout : result.stderr)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                return .fail(
                    "\(command.joined(separator: " ")) exited with code \(result.exitCode)\(said.isEmpty ? "" : ": \(said)")")
            } catch let error as DockerError {
                return .fail(error.message)
            } catch {
                return .fail("\(error)")
            }
        }
    }
}

