public import BerthCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// Berth's one health prober (Docker's HEALTHCHECK is not used): `http` is a GET on the
/// instance's host and port that passes on 2xx and 3xx, `tcp` passes when a connection
/// opens, `exec` when the command exits 0 (run by the runtime: Docker exec). Each probe
/// gives up after the check's `timeout`.
///
/// The Docker runtime probes with it (`waitHealthy`, and so the loop's monitor, and a first
/// sight in `observe`), and so does the balancer. `ProbeTally` turns results into a verdict.
public struct HealthProber: Sendable {
    /// Runs an exec check's command inside an instance.
    public typealias Exec = @Sendable (_ instanceID: String, _ command: [String]) async throws -> CommandOutput

    let exec: Exec?

    /// `exec`: how exec checks run; without it they fail with a sentence saying so.
    public init(exec: Exec?) { self.exec = exec }

    /// Probes `instanceID` once with `check`. `host`: where its ports answer (nil: it has
    /// no address, so http and tcp fail); `port` maps the check's container port to the
    /// port that answers at `host` (the same number on one Docker host).
    public func probe(
        instanceID: String, host: String?, check: HealthCheck, port: (Int) -> Int = { $0 }
    ) async -> ProbeResult {
        let limit = Duration.milliseconds(max(1, check.timeout.milliseconds))
        switch check.probe {
        case .http(let path, let containerPort):
            guard let host else { return .fail("the instance has no address on the project network") }
            let client = HTTPClient(.tcp(host: host, port: port(containerPort)), connectTimeout: limit)
            let target = path.hasPrefix("/") ? path : "/" + path
            let url = client.url(path)
            do {
                let response = try await client.send(.GET, target, timeout: limit)
                return (200..<400).contains(response.status)
                    ? .pass : .fail("GET \(url) answered HTTP \(response.status)")
            } catch let error as HTTPClient.TimedOut {
                return .fail(error.description)
            } catch {
                return .fail("GET \(url): \(error)")
            }
        case .tcp(let containerPort):
            guard let host else { return .fail("the instance has no address on the project network") }
            let target = port(containerPort)
            do {
                let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connectTimeout(.milliseconds(max(1, check.timeout.milliseconds)))
                    .connect(host: host, port: target).get()
                try? await channel.close()
                return .pass
            } catch {
                return .fail("connect to \(host):\(target): \(HTTPClient.ConnectFailure.explain(error))")
            }
        case .exec(let command):
            let text = command.joined(separator: " ")
            guard let exec else { return .fail("\(text): this runtime cannot run exec health checks") }
            do {
                let result = try await withTimeout(limit, HTTPClient.TimedOut(what: "running \(text)", limit: limit)) {
                    try await exec(instanceID, command)
                }
                if result.exitCode == 0 { return .pass }
                let said = trimmed(result.stderr.isEmpty ? result.stdout : result.stderr)
                return .fail("\(text) exited with code \(result.exitCode)\(said.isEmpty ? "" : ": \(said)")")
            } catch {
                return .fail("\(error)")
            }
        }
    }

    private func trimmed(_ text: String) -> String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace || $0.isNewline }
        return String(text.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
