import BerthTestSupport
import Foundation
import Testing

/// `berth watch --listen` on an address other than loopback (issue 18, finding 7): reads
/// need the token, unless `--public-read`, which watch says at start.
@Suite(.serialized) struct WatchPublicReadTests {
    @Test func readsOnAPublicAddressNeedTheToken() throws {
        let h = try WatchHarness()
        defer { h.stop() }
        try h.commit(["manifests/README.md": "no services yet\n"], "empty")
        try h.start(token: "test-token", listen: "0.0.0.0:0")
        #expect(h.log().contains("api.reads=token"))
        #expect(try h.http("GET", "/healthz").status == 200)
        #expect(try h.http("GET", "/api/v1/status").status == 401)
        #expect(try h.http("GET", "/metrics").status == 401)
        #expect(try h.http("GET", "/api/v1/status", token: "test-token").status == 200)
    }

    @Test func publicReadOpensReadsAndSaysSo() throws {
        let h = try WatchHarness()
        defer { h.stop() }
        try h.commit(["manifests/README.md": "no services yet\n"], "empty")
        try h.start(token: nil, listen: "0.0.0.0:0", extraArguments: ["--public-read"])
        // The warning follows the "API listening" line that start() waits for.
        let warning = "level=warning msg=\"--public-read: status, plans, the journal and metrics are served without a token to anyone who can reach 0.0.0.0:\(h.port)\""
        _ = try eventually(within: 5) { h.log().contains(warning) }
        let log = h.log()
        #expect(log.contains("api.reads=public"))
        #expect(log.contains("level=warning msg=\"--public-read: status, plans, the journal and metrics are served without a token to anyone who can reach 0.0.0.0:\(h.port)\""), "\(log)")
        #expect(try h.http("GET", "/api/v1/status").status == 200)
        #expect(try h.http("POST", "/api/v1/sync").status == 403)
    }
}
