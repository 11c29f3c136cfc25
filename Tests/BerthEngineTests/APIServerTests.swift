import BerthCore
import BerthEngine
import BerthTestSupport
import Foundation
import Glibc
import Testing

/// A runtime whose `observe` takes `delay`: a slow `GET /api/v1/plan`.
struct SlowObserveRuntime: ContainerRuntime {
    let inner: FakeRuntime
    let delay: Duration
    func observe(project: String) async throws -> ObservedState {
        try? await Task.sleep(for: delay)
        return try await inner.observe(project: project)
    }
    func startInstance(_ request: InstanceRequest) async throws -> Instance { try await inner.startInstance(request) }
    func removeInstance(id: String, grace: Millis) async throws { try await inner.removeInstance(id: id, grace: grace) }
}

/// Sends `text` on one TCP connection to 127.0.0.1:`port` in one write and reads until the
/// server closes (10 s at most).
func rawHTTP(port: Int, _ text: String) throws -> String {
    let fd = LoopbackSocket.connect(port: port, receiveTimeout: 10)
    guard fd >= 0 else { throw ScriptedError(message: "connect failed: errno \(errno)") }
    defer { close(fd) }
    let bytes = Array(text.utf8)
    guard send(fd, bytes, bytes.count, 0) == bytes.count else { throw ScriptedError(message: "short send") }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = recv(fd, &buffer, buffer.count, 0)
        if n <= 0 { break }
        out += buffer[0..<n]
    }
    return String(decoding: out, as: UTF8.self)
}

@Suite struct APIServerTests {
    @Test func pipelinedRequestsOfOneConnectionAreAnsweredInOrder() async throws {
        let source = ScriptedSource()
        source.set(LoopFx.desired([LoopFx.spec("web")], commit: "c1"))
        let runtime = SlowObserveRuntime(inner: FakeRuntime(state: .none(project: "shop")), delay: .milliseconds(300))
        let loop = ReconcileLoop(project: "shop", provider: source, runtime: runtime, journal: nil, logger: LoopFx.quiet)
        await loop.syncOnce()
        let server = try await APIServer.start(host: "127.0.0.1", port: 0, router: APIRouter(loop: loop, journal: nil, token: nil))
        defer { Task { await server.close() } }
        let port = server.port
        // The slow plan first, the instant healthz second, in one write.
        let text = try await Task.detached {
            try rawHTTP(port: port, """
                GET /api/v1/plan HTTP/1.1\r
                Host: x\r
                \r
                GET /healthz HTTP/1.1\r
                Host: x\r
                Connection: close\r
                \r

                """)
        }.value
        let responses = text.components(separatedBy: "HTTP/1.1 ").dropFirst()
        #expect(responses.count == 2, "\(text)")
        #expect(responses.first?.hasPrefix("200 OK\r\n") == true)
        #expect(responses.first?.contains("\"formatVersion\"") == true, "\(text)")
        #expect(responses.last?.hasPrefix("200 OK\r\n") == true)
        #expect(responses.last?.hasSuffix("\r\n\r\nok\n") == true, "\(text)")
    }
}
