@testable import BerthProxy
import NIOCore
import Testing

@Suite("HTTP/1.x request counting")
struct HTTPRequestCounterTests {
    static func count(_ chunks: [String]) -> (Int, Bool) {
        var counter = HTTPRequestCounter()
        var total = 0
        for chunk in chunks { total += counter.feed(ByteBuffer(string: chunk)) }
        return (total, counter.isCounting)
    }

    @Test func keepAliveAndPipelinedRequestsCountOnceEach() {
        let get = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
        #expect(Self.count([get + get, get]) == (3, true))
    }

    @Test func requestsSplitByteByByteCountOnce() {
        let text = "GET /a HTTP/1.1\r\nHost: a\r\n\r\nHEAD /b HTTP/1.0\r\n\r\n"
        #expect(Self.count(text.map { String($0) }) == (2, true))
    }

    @Test func contentLengthBodiesAreSkipped() {
        let body = "GET /fake HTTP/1.1\r\n\r\n"
        let post = "POST /x HTTP/1.1\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        #expect(Self.count([post, "GET /y HTTP/1.1\r\n\r\n"]) == (2, true))
    }

    @Test func chunkedBodiesAreSkipped() {
        let post = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "16\r\nGET /fake HTTP/1.1\r\n\r\n\r\n" + "0\r\nX-Trailer: 1\r\n\r\n"
        #expect(Self.count([post, "DELETE /y HTTP/1.1\r\n\r\n"]) == (2, true))
    }

    @Test func nonHTTPTrafficStopsCounting() {
        #expect(Self.count(["\u{16}\u{03}\u{01}binary", "GET / HTTP/1.1\r\n\r\n"]) == (0, false))
        #expect(Self.count(["HELLO world\r\n", "GET / HTTP/1.1\r\n\r\n"]) == (0, false))
    }

    @Test func anUpgradeStopsCounting() {
        let upgrade = "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
        #expect(Self.count([upgrade, "GET / HTTP/1.1\r\n\r\n"]) == (1, false))
    }

    @Test func overlongLinesStopCounting() {
        let long = "GET /" + String(repeating: "a", count: 9000) + " HTTP/1.1\r\n\r\n"
        #expect(Self.count([long]) == (0, false))
    }
}
