import BerthCore
import BerthNet
@testable import BerthProxy
import Foundation
import NIOCore
import Testing

@Suite("Control API and its client")
struct ControlAPITests {
    @Test func drainReadyEndpointsAndMetricsOverHTTP() async throws {
        let backends = try await [TestBackend.start("aaaaaaaa1", .tagEcho), .start("bbbbbbbb2", .tagEcho)]
        let (balancer, port) = try await makeBalancer()
        let service = try await ProxyService.start(project: "shop", balancer: balancer, endpoints: nil)
        defer { Task { await service.shutdown(); for b in backends { await b.close() } } }
        let client = ProxyControlClient(port: service.controlPort)
        for backend in backends { balancer.table.upsert(backend.endpoint, state: .starting) }

        // Starting endpoints take nothing; ready (by a unique prefix) puts one in rotation.
        #expect(try await TestClient.exchange(port: port) == "")
        #expect(try await client.ready(instance: "aaaaaaaa") == .ready)
        #expect(try await TestClient.exchange(port: port, send: "x", until: { $0.hasSuffix("x") }) == "aaaaaaaa1\nx")
        await client.instanceReady(
            Instance(id: "bbbbbbbb2", service: "web", revision: Revision("r1"), state: .running))

        do {
            try await client.ready(instance: "nobody")
            Issue.record("ready of an unknown instance succeeded")
        } catch let error as ProxyError {
            #expect(
                error.message
                    == "berth proxy refused POST /v1/ready (HTTP 404): instance nobody is unknown to the balancer of project shop and not running in it")
        }

        // Drain with one open connection: answers when it closes.
        let held = try await TestClient.connect(port: port)
        var inbound = held.channel.inbound.makeAsyncIterator()
        let first = try await inbound.next().map { String(buffer: $0) }
        let target = try #require(first?.hasPrefix("aaaaaaaa1") == true ? "aaaaaaaa1" : "bbbbbbbb2")
        let drain = Task { try await client.drain(instance: target, grace: .seconds(10)) }
        try await eventually { balancer.table.state(of: target) == .draining }
        let document = try await client.endpoints()
        #expect(document.formatVersion == 1)
        #expect(document.project == "shop")
        #expect(document.listeners == [ControlAPI.Listener(publish: 8081, service: "web", boundPort: port)])
        #expect(document.endpoints.map(\.instance) == ["aaaaaaaa1", "bbbbbbbb2"])
        #expect(document.endpoints.map(\.state) == (target == "aaaaaaaa1" ? [.draining, .ready] : [.ready, .draining]))
        try await held.channel.channel.close()
        let result = try await drain.value
        #expect(result.drained && result.remaining == 0 && result.known && result.instance == target)

        let metrics = try await client.metrics()
        #expect(metrics.contains("berth_proxy_connections_total{project=\"shop\",service=\"web\"} 2\n"))
        #expect(metrics.contains("berth_proxy_connections_rejected_total{project=\"shop\",service=\"web\"} 1\n"))
    }

    @Test func unknownPathsAndBadBodiesAreErrorsWithAdvice() async throws {
        let balancer = Balancer(bindHost: "127.0.0.1")
        let service = try await ProxyService.start(project: "shop", balancer: balancer, endpoints: nil)
        defer { Task { await service.shutdown() } }
        let bad = await service.handle(HTTPServer.Request(method: "POST", uri: "/v1/drain", body: Array("{}".utf8)))
        #expect(bad.status == 400)
        #expect(
            String(decoding: bad.body, as: UTF8.self)
                == #"{"error":"expected a JSON body {\"instance\": ID, \"graceMs\": N}","formatVersion":1}"# + "\n")
        let missing = await service.handle(HTTPServer.Request(method: "GET", uri: "/v2/x", body: []))
        #expect(missing.status == 404)
        let wrongMethod = await service.handle(HTTPServer.Request(method: "GET", uri: "/v1/drain", body: []))
        #expect(wrongMethod.status == 405)
        #expect(
            String(decoding: wrongMethod.body, as: UTF8.self)
                == #"{"error":"GET is not allowed on \/v1\/drain","formatVersion":1}"# + "\n")
    }

    @Test func theStateFileRoundTripsAndAMissingOneSaysWhatToRun() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("berth-proxy-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = ProxyStateFile(project: "shop", controlHost: "127.0.0.1", controlPort: 7480, pid: 42)
        try state.write(directory: directory)
        #expect(try ProxyStateFile.read(directory: directory, project: "shop") == state)
        let client = try ProxyControlClient(stateDirectory: directory, project: "shop")
        #expect(client.port == 7480)
        #expect(throws: ProxyError.self) { try ProxyStateFile.read(directory: directory, project: "other") }
        do {
            _ = try ProxyStateFile.read(directory: directory, project: "other")
        } catch let error as ProxyError {
            #expect(
                error.message
                    == "\(directory)/proxy-other.json: no such file; start the balancer first: berth proxy --project other")
        }
    }

    /// No proxy for the project: the executor's drain answers `.notDrained` with plain
    /// words and what to run, both when there is no state file and when the one there names
    /// a control address where nothing answers. A proxy that answers drains.
    @Test func aDrainWithNoProxyAnsweringSaysSoAndHowToStartOne() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("berth-proxy-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let old = Instance(id: "aaaaaaaa1", service: "web", revision: Revision("r1"), state: .running)
        let router = ProxyRouter(stateDirectory: directory, project: "shop")
        let advice = "start one with `berth proxy --project shop --state-dir \(directory)`, or run `berth watch`, which starts it"
        #expect(
            await router.drain(old, grace: Millis(100), stopTimeout: Millis(100))
                == .notDrained(
                    reason: "no berth proxy answers for project shop (no \(directory)/proxy-shop.json); \(advice)"))

        let port = try await refusedPort()
        try ProxyStateFile(project: "shop", controlHost: "127.0.0.1", controlPort: port, pid: 1).write(directory: directory)
        #expect(
            await router.drain(old, grace: Millis(100), stopTimeout: Millis(100))
                == .notDrained(
                    reason: "no berth proxy answers for project shop (nothing answers at 127.0.0.1:\(port), "
                        + "where its state file says it listens); \(advice)"))

        let balancer = Balancer(bindHost: "127.0.0.1")
        let service = try await ProxyService.start(project: "shop", balancer: balancer, endpoints: nil)
        defer { Task { await service.shutdown() } }
        try ProxyStateFile(project: "shop", controlHost: "127.0.0.1", controlPort: service.controlPort, pid: 1)
            .write(directory: directory)
        #expect(await router.drain(old, grace: Millis(100), stopTimeout: Millis(100)) == .drained)
    }
}

