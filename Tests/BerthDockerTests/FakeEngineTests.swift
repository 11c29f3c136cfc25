import BerthDocker
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

/// A scripted HTTP engine on a loopback port, for what the real dockerd cannot show:
/// other API versions, odd answers.
final class FakeEngine: Sendable {
    /// Every request URI, in order. Guarded by `lock`.
    nonisolated(unsafe) private var uris: [String] = []
    private let lock = NSLock()
    private let channel: any Channel
    let port: Int

    init(apiVersion: String, routes: [String: (status: Int, body: String)]) async throws {
        let box = Box()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(
                        Handler(apiVersion: apiVersion, routes: routes, record: { box.engine?.record($0) }))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        self.channel = channel
        self.port = channel.localAddress!.port!
        box.engine = self
    }

    var seen: [String] { lock.withLock { uris } }
    func record(_ uri: String) { lock.withLock { uris.append(uri) } }
    func close() async { try? await channel.close() }

    /// Runs `body`, then closes the engine, also when `body` throws.
    func run(_ body: () async throws -> Void) async throws {
        do { try await body() } catch {
            await close()
            throw error
        }
        await close()
    }

    final class Box: @unchecked Sendable {  // set once, before any request arrives
        weak var engine: FakeEngine?
    }

    final class Handler: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let apiVersion: String
        let routes: [String: (status: Int, body: String)]
        let record: @Sendable (String) -> Void
        nonisolated(unsafe) var uri = ""  // event-loop confined

        init(apiVersion: String, routes: [String: (status: Int, body: String)], record: @escaping @Sendable (String) -> Void) {
            self.apiVersion = apiVersion
            self.routes = routes
            self.record = record
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                uri = head.uri
                record(head.uri)
            case .body: break
            case .end:
                let (status, body): (Int, String) =
                    uri == "/version"
                    ? (200, #"{"Version":"99.0.0","ApiVersion":"\#(apiVersion)","Os":"linux"}"#)
                    : routes[uri] ?? (404, #"{"message":"page not found"}"#)
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: "application/json")
                headers.add(name: "Content-Length", value: "\(body.utf8.count)")
                let head = HTTPResponseHead(
                    version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
                context.write(wrapOutboundOut(.head(head)), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }
}

@Suite("Docker client against a scripted engine")
struct FakeEngineTests {
    @Test func usesTheEnginesOlderVersion() async throws {
        let engine = try await FakeEngine(apiVersion: "1.30", routes: ["/v1.30/_ping": (200, "OK")])
        try await engine.run { try await older(engine) }
    }

    private func older(_ engine: FakeEngine) async throws {
        let client = try await DockerClient.connect(to: .tcp(host: "127.0.0.1", port: engine.port))
        #expect(client.apiVersion == APIVersion(1, 30))
        #expect(client.engineVersion.Version == "99.0.0")
        #expect(try await client.ping())
        #expect(engine.seen == ["/version", "/v1.30/_ping"])
    }

    @Test func capsANewerEngineAtTheSupportedVersion() async throws {
        let engine = try await FakeEngine(
            apiVersion: "1.45",
            routes: [
                "/v1.41/containers/abc/json": (500, #"{"message":"engine on fire"}"#),
                "/v1.41/containers/json?all=true&filters=%7B%22label%22%3A%5B%22berth.project%3Dp%22%5D%7D": (200, "[]"),
                "/v1.41/networks/n": (200, "not json"),
            ])
        try await engine.run { try await newer(engine) }
    }

    private func newer(_ engine: FakeEngine) async throws {
        let client = try await DockerClient.connect(environment: ["DOCKER_HOST": "tcp://127.0.0.1:\(engine.port)"])
        #expect(client.apiVersion == APIVersion(1, 41))
        #expect(try await client.listContainers(labels: ["berth.project": "p"]).isEmpty)
        do {
            _ = try await client.inspectContainer("abc")
            Issue.record("expected the engine's error")
        } catch let error as DockerError {
            #expect(error.code == .engine)
            #expect(error.status == 500)
            #expect(error.message == "inspecting container abc: engine on fire")
        }
        do {
            _ = try await client.inspectNetwork("n")
            Issue.record("expected a protocol error")
        } catch let error as DockerError {
            #expect(error.code == .protocolError)
            #expect(error.message.hasPrefix("inspecting network n: the engine's answer is not the JSON Berth expects"))
        }
        #expect(engine.seen.first == "/version")
        #expect(engine.seen.dropFirst().allSatisfy { $0.hasPrefix("/v1.41/") })
    }
}
