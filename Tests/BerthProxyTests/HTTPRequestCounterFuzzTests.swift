import BerthProxy
import Foundation
import BerthTestSupport
import NIOCore
import Testing

/// Issue 18: no network bytes crash a Berth process. The request counter reads every byte
/// a client sends through `berth proxy`. Seeded streams — valid pipelined requests (with
/// `Content-Length` and chunked bodies) with mutations (hostile lengths and chunk sizes,
/// cut or flipped bytes, long lines, random bytes) — fed whole and in random pieces: never
/// a trap, and the count never depends on how the bytes were split (as TCP may split them).
/// `BERTH_FUZZ_ITERATIONS` runs longer by hand.
@Suite struct HTTPRequestCounterFuzzTests {
    static let hostile = [
        "-1", "0", "99999999999999999999999", "9223372036854775807", "9223372036854775808", "1e9", " 5", "5 ",
        "+5", "0x10", "", "1,2", "ffffffffffffffffff", "7fffffffffffffff", "-0",
    ]

    @Test func mutatedRequestStreamsCountTheSameHoweverSplitAndNeverTrap() {
        let iterations = Int(ProcessInfo.processInfo.environment["BERTH_FUZZ_ITERATIONS"] ?? "") ?? 3_000
        var r = SeededRandom(seed: 0xC0_0018)
        var counted = 0
        for n in 0..<iterations {
            let bytes = Self.stream(&r)
            var whole = HTTPRequestCounter()
            let total = bytes.withUnsafeBytes { whole.feed(bytes: $0) }
            var pieces = HTTPRequestCounter()
            var split = 0
            var at = 0
            while at < bytes.count {
                let size = r.chance(30) ? 1 : r.int(1...max(1, bytes.count - at))
                split += bytes[at..<min(bytes.count, at + size)].withUnsafeBytes { pieces.feed(bytes: $0) }
                at += size
            }
            #expect(total == split, "case \(n): \(total) whole, \(split) in pieces: \(String(decoding: bytes.prefix(300), as: UTF8.self).debugDescription)")
            #expect(whole.isCounting == pieces.isCounting, "case \(n)")
            counted += total
        }
        #expect(counted > 0)
    }

    /// 1–4 requests, some with bodies, then one mutation (or, 1 in 10, random bytes).
    static func stream(_ r: inout SeededRandom) -> [UInt8] {
        if r.chance(10) { return (0..<r.int(0...600)).map { _ in UInt8(truncatingIfNeeded: r.next()) } }
        var text = ""
        for _ in 0..<r.int(1...4) {
            switch r.below(4) {
            case 0: text += "GET /a?x=\(r.below(100)) HTTP/1.1\r\nHost: b\r\n\r\n"
            case 1:
                let body = String(repeating: "y", count: r.int(0...40))
                text += "POST /p HTTP/1.1\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            case 2:
                text += "PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\n"
            default: text += "HEAD / HTTP/1.0\r\n\r\n"
            }
        }
        var bytes = Array(text.utf8)
        switch r.below(6) {
        case 0:
            // A hostile Content-Length or chunk size.
            let value = Array(hostile[r.below(hostile.count)].utf8)
            if let range = Self.range(of: Array("Content-Length: ".utf8), in: bytes) {
                var end = range.upperBound
                while end < bytes.count, bytes[end] != 13 { end += 1 }
                bytes.replaceSubrange(range.upperBound..<end, with: value)
            } else if let range = Self.range(of: Array("\r\n\r\n5".utf8), in: bytes) {
                bytes.replaceSubrange((range.upperBound - 1)..<range.upperBound, with: value)
            }
        case 1: bytes = Array(bytes.prefix(r.below(bytes.count + 1)))
        case 2: if !bytes.isEmpty { bytes[r.below(bytes.count)] = UInt8(truncatingIfNeeded: r.next()) }
        case 3: bytes.insert(contentsOf: Array(repeating: UInt8(ascii: "a"), count: r.int(8_000...9_000)), at: r.below(bytes.count + 1))
        case 4: bytes += Array("Upgrade: websocket\r\n".utf8)
        default: break
        }
        return bytes
    }

    static func range(of needle: [UInt8], in bytes: [UInt8]) -> Range<Int>? {
        guard needle.count <= bytes.count else { return nil }
        for i in 0...(bytes.count - needle.count) where Array(bytes[i..<(i + needle.count)]) == needle {
            return i..<(i + needle.count)
        }
        return nil
    }
}
