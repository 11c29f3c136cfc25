import BerthCore
import BerthDocker
import BerthNet
import BerthTestSupport
@testable import BerthProxy
import Foundation
import Testing

/// Issue 18, finding 3: any local user could take every replica out of the balancer with one
/// unauthenticated `POST /v1/drain`, and ids sent to drain were remembered for ever.
@Suite("Control API: who may drain", .serialized)
struct ControlAuthTests {
    /// Runs `arguments` as `nobody` (uid and gid 65534, no supplementary groups).
    static func asNobody(_ arguments: [String]) throws -> ProcessResult {
        try ProcessRunner.program(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + arguments, timeout: .seconds(30))
    }

    /// A real `berth proxy` in front of a real replica: `nobody` can neither read the state
    /// file nor drain or ready the replica through the control port (401, nothing changes);
    /// the owner's client (token from the state file) drains and readies it.
    @Test func anotherLocalUserCannotDrainOrReadyAReplica() async throws {
        let runtime = try await DockerRuntime.connect()
        let project = "bp-auth-\(UInt32.random(in: 0...UInt32.max) % 0xFFFFFF)"
        let publish = try await DockerDrainTests.freePort()
        let stateDir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-proxy-\(project)").path
        let health = HealthCheck(
            probe: .http(path: "/healthz", port: 8080), interval: Millis(200), timeout: Millis(500),
            failureThreshold: 2)
        let spec = ServiceSpec(
            name: "gateway", image: "shop/gateway:1.0", ports: [PortSpec(containerPort: 8080, publish: publish)],
            health: health, stopGracePeriod: .seconds(1))
        var process: ChildProcess?
        defer {
            _ = process?.terminate()
            try? FileManager.default.removeItem(atPath: stateDir)
        }
        do {
            let replica = try await runtime.startInstance(.init(project: project, spec: spec, commit: "c1"))
            #expect(try await runtime.waitHealthy(replica, check: health, deadline: .now + .seconds(20)) == .healthy)
            process = try ChildProcess(
                try ProcessRunner.berthExecutable(),
                ["proxy", "--project", project, "--state-dir", stateDir, "--bind", "127.0.0.1"])
            try await eventually(.seconds(10), "the state file") {
                (try? ProxyStateFile.read(directory: stateDir, project: project)) != nil
            }
            let control = try ProxyControlClient(stateDirectory: stateDir, project: project)
            let deadline = ContinuousClock.now + .seconds(10)
            while (try? await control.endpoints().endpoints.map(\.state)) != [.ready], ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try await control.endpoints().endpoints.map(\.state) == [.ready])
            let statePath = ProxyStateFile.path(directory: stateDir, project: project)
            let attributes = try FileManager.default.attributesOfItem(atPath: statePath)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)

            let read = try Self.asNobody(["cat", statePath])
            #expect(read.status == 1)
            #expect(read.stdout == "")
            let url = "http://127.0.0.1:\(control.port)"
            for (path, body) in [
                ("/v1/drain", #"{"instance":"\#(replica.id)","graceMs":0}"#), ("/v1/ready", #"{"instance":"\#(replica.id)"}"#),
            ] {
                let attack = try Self.asNobody([
                    "curl", "-s", "-m", "10", "-o", "-", "-w", "\n%{http_code}", "-X", "POST", "-H",
                    "Content-Type: application/json", "--data", body, url + path,
                ])
                #expect(
                    attack.stdout
                        == #"{"error":"POST \/v1\/\#(path.dropFirst(4)) needs this balancer's control token (header Authorization: Bearer TOKEN); berth watch and berth apply read it from the proxy's state file proxy-\#(project).json, which only its owner can read","formatVersion":1}"#
                        + "\n\n401")
            }
            let forged = try Self.asNobody([
                "curl", "-s", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H",
                "Authorization: Bearer 0000", "--data", #"{"instance":"\#(replica.id)","graceMs":0}"#, url + "/v1/drain",
            ])
            #expect(forged.stdout == "401")
            #expect(try await control.endpoints().endpoints.map(\.state) == [.ready])
            let reply = try await TestClient.exchange(port: publish, send: "GET /version HTTP/1.0\r\nHost: x\r\n\r\n")
            #expect(reply.hasPrefix("HTTP/1.1 200 OK\r\n"))

            // The owner drains and readies it.
            let drained = try await control.drain(instance: replica.id, grace: .seconds(5))
            #expect(drained.drained && drained.known)
            #expect(try await control.endpoints().endpoints.map(\.state) == [.draining])
            #expect(try await control.ready(instance: replica.id) == .ready)
            #expect(try await control.endpoints().endpoints.map(\.state) == [.ready])
            #expect(process?.terminate(SIGTERM, grace: .seconds(30)) == 0)
        } catch {
            try? await runtime.destroyProject(project)
            throw error
        }
        try await runtime.destroyProject(project)
    }

    /// A drain of an id that is neither in the table nor running answers at once and is not
    /// remembered: an endpoint of that id that appears later is taken as it comes.
    @Test func aDrainOfAnUnknownIDIsNotRemembered() async throws {
        let balancer = Balancer(bindHost: "127.0.0.1")
        let service = try await ProxyService.start(project: "shop", balancer: balancer, endpoints: nil)
        defer { Task { await service.shutdown() } }
        let client = ProxyControlClient(port: service.controlPort)
        let result = try await client.drain(instance: "cafe0123", grace: Millis(100))
        #expect(result == DrainResult(instance: "cafe0123", drained: true, remaining: 0, known: false, waitedMs: 0))
        balancer.table.upsert(Endpoint(instance: "cafe0123", service: "web", host: "127.0.0.1", ports: [:]), state: .ready)
        #expect(balancer.table.state(of: "cafe0123") == .ready)
    }

    /// An id longer than any runtime's (Docker's are 64 characters) is refused before it
    /// reaches the table.
    @Test func anOverlongIDIsRefused() async throws {
        let balancer = Balancer(bindHost: "127.0.0.1")
        let service = try await ProxyService.start(project: "shop", balancer: balancer, endpoints: nil)
        defer { Task { await service.shutdown() } }
        let id = String(repeating: "a", count: 129)
        for (path, body) in [
            ("/v1/drain", #"{"instance":"\#(id)","graceMs":0}"#), ("/v1/ready", #"{"instance":"\#(id)"}"#),
        ] {
            let answer = await service.handle(HTTPServer.Request(method: "POST", uri: path, body: Array(body.utf8)))
            #expect(answer.status == 400)
            #expect(
                String(decoding: answer.body, as: UTF8.self)
                    == #"{"error":"instance: expected an id of at most 128 characters, found 129","formatVersion":1}"# + "\n")
        }
    }
}
