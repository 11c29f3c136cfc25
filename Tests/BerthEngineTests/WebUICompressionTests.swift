@testable import BerthEngine
import BerthNet
import Foundation
import Testing

/// The web UI's pages on the wire: gzip for a browser that accepts it, and CSRF tokens
/// masked afresh on every page so that compression cannot give them away.
@Suite struct WebUICompressionTests {
    func request(_ path: String, acceptEncoding: String?) -> APIRequest {
        APIRequest(method: "GET", uri: path, headers: acceptEncoding.map { [("Accept-Encoding", $0)] } ?? [])
    }

    @Test func gzipRoundTripsThroughZlib() throws {
        let text = Array(String(repeating: "<tr><td><a href=\"/services/web\">web</a><td>shop/web:1.0\n", count: 2000).utf8)
        let compressed = try #require(Gzip.compress(text))
        #expect(Array(compressed.prefix(3)) == [0x1F, 0x8B, 0x08], "a gzip member: magic and deflate")
        #expect(compressed.count < text.count / 20)
        #expect(Gzip.decompress(compressed) == text)
        #expect(Gzip.decompress(Array(compressed.dropLast(4))) == nil, "a cut stream is refused")
        #expect(Gzip.decompress(Array("not gzip".utf8)) == nil)
        #expect(Gzip.compress([]).flatMap { Gzip.decompress($0) } == [])
    }

    @Test(arguments: [
        ("gzip, deflate, br, zstd", true), ("gzip", true), ("GZIP;q=0.5", true), ("x-gzip", true), ("*", true),
        ("deflate, br", false), ("gzip;q=0", false), ("gzip; q=0.0, br", false), ("", false), ("identity", false),
    ])
    func acceptEncodingIsReadWithItsWeights(_ header: String, _ accepted: Bool) {
        #expect(Gzip.accepted(header) == accepted)
    }

    @Test func pagesGoOutCompressedOnlyToClientsThatAcceptIt() throws {
        let page = String(repeating: "<p>berth</p>\n", count: 500)
        let response = APIResponse(status: 200, contentType: "text/html; charset=utf-8", body: page, headers: ["X-Frame-Options": "DENY"])

        let gzipped = WebUI.encoded(response, for: request("/", acceptEncoding: "gzip, deflate"))
        #expect(gzipped.headers == ["Content-Encoding": "gzip", "Vary": "Accept-Encoding", "X-Frame-Options": "DENY"])
        #expect(gzipped.status == 200)
        #expect(gzipped.contentType == "text/html; charset=utf-8")
        #expect(Gzip.decompress(gzipped.body) == Array(page.utf8))

        let plain = WebUI.encoded(response, for: request("/", acceptEncoding: nil))
        #expect(plain.headers == ["Vary": "Accept-Encoding", "X-Frame-Options": "DENY"])
        #expect(plain.body == Array(page.utf8))

        let small = WebUI.encoded(
            APIResponse(status: 303, contentType: "text/plain; charset=utf-8", body: "See /\n"), for: request("/", acceptEncoding: "gzip"))
        #expect(small.headers == ["Vary": "Accept-Encoding"], "under 1 KB: sent as it is")
        #expect(small.body == Array("See /\n".utf8))

        let stream = HTTPServer.BodyStream { _ in }
        let events = WebUI.encoded(
            APIResponse(status: 200, contentType: "text/event-stream; charset=utf-8", body: "", headers: [:], stream: stream),
            for: request("/ui/events", acceptEncoding: "gzip"))
        #expect(events.headers == [:], "the event stream is never compressed (each event must go out at once)")
        #expect(events.stream == stream)
    }

    @Test func csrfTokensAreMaskedAfreshAndUnmaskToTheSessionsToken() throws {
        let token = UISessions.randomHex(bytes: 32)
        let a = CSRFMask.masked(token)
        let b = CSRFMask.masked(token)
        #expect(a.count == 128 && b.count == 128)
        #expect(a != b)
        #expect(!a.contains(token) && !b.contains(token))
        #expect(CSRFMask.unmasked(a) == token)
        #expect(CSRFMask.unmasked(b) == token)
        #expect(CSRFMask.unmasked(token) != token, "the bare token is no masked token")
        #expect(CSRFMask.unmasked("") == nil)
        #expect(CSRFMask.unmasked("abc") == nil)
        #expect(CSRFMask.unmasked("zz" + String(a.dropFirst(2))) == nil)
        #expect(CSRFMask.hex([0x00, 0x7F, 0xA5, 0xFF]) == "007fa5ff")
        #expect(CSRFMask.bytes(hex: "007fa5ff") == [0x00, 0x7F, 0xA5, 0xFF])
    }
}
