import Foundation

/// Client keep-alive in front of replicas that close every connection.
///
/// Many small HTTP servers (busybox httpd among them) answer `Connection: close` and close
/// after each response, so every request through a plain TCP balancer costs the client a
/// new connection too. When the client asked for keep-alive (HTTP/1.1, no
/// `Connection: close`, one request outstanding) and the replica's answer is a final
/// response whose end the client can find without the close (`Content-Length`, chunked,
/// 204 or 304), the balancer drops the replica's `Connection: close` line, closes the
/// replica's connection when it ends, keeps the client's open, and sends the client's next
/// request to a replica picked afresh (so health, draining and balancing apply per request,
/// as for new connections). An HTTP L7 proxy such as nginx's does the same.
enum ClosingResponse {
    struct Rewrite: Equatable {
        /// The bytes in the buffer after the header line was removed.
        var count: Int
        /// Body bytes still to come from the replica after these (known for a
        /// `Content-Length` body, 0 for 204 and 304); nil when only the replica's FIN says.
        var bodyRemaining: Int?
    }

    /// Looks at the start of a response, `base[0..<count]`. When it holds the complete head
    /// of an HTTP/1.1 final response that is self-delimiting and carries `Connection: close`
    /// (exactly that token), removes that header line in place and says what is left;
    /// otherwise nil (the bytes are left alone).
    static func dropConnectionClose(_ base: UnsafeMutableRawPointer, count: Int) -> Rewrite? {
        let bytes = UnsafeRawBufferPointer(start: base, count: count)
        // "HTTP/1.1 SSS"
        let prefix: StaticString = "HTTP/1.1 "
        let prefixCount = prefix.utf8CodeUnitCount
        guard count >= prefixCount + 3 else { return nil }
        for i in 0..<prefixCount where bytes[i] != prefix.utf8Start[i] { return nil }
        var status = 0
        for i in prefixCount..<(prefixCount + 3) {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) else { return nil }
            status = status * 10 + Int(bytes[i] - UInt8(ascii: "0"))
        }
        guard status >= 200 else { return nil }
        let noBody = status == 204 || status == 304
        var delimited = noBody
        var contentLength: Int?
        var chunked = false
        var closeLine: Range<Int>?
        // Header lines, one per CRLF, up to the empty line.
        guard var lineStart = firstLineEnd(bytes, from: 0).map({ $0 + 2 }) else { return nil }
        while true {
            guard let lineEnd = firstLineEnd(bytes, from: lineStart) else { return nil }  // head incomplete
            if lineEnd == lineStart {  // the empty line: end of the head
                lineStart = lineEnd + 2
                break
            }
            guard let header = HTTPHeaderLine(UnsafeRawBufferPointer(rebasing: bytes[lineStart..<lineEnd])) else {
                return nil
            }
            if header.nameIs("connection") {
                guard closeLine == nil, header.valueIs("close") else { return nil }
                closeLine = lineStart..<(lineEnd + 2)
            } else if header.nameIs("content-length") {
                guard let length = header.integerValue else { return nil }
                contentLength = length
                delimited = true
            } else if header.nameIs("transfer-encoding") {
                guard header.valueHasSuffix("chunked") else { return nil }
                chunked = true
                delimited = true
            }
            lineStart = lineEnd + 2
        }
        guard delimited, let closeLine else { return nil }
        let bodyPresent = count - lineStart
        var bodyRemaining: Int?
        if noBody {
            bodyRemaining = bodyPresent == 0 ? 0 : nil
        } else if let contentLength, !chunked, contentLength >= bodyPresent {
            bodyRemaining = contentLength - bodyPresent
        }
        memmove(base + closeLine.lowerBound, base + closeLine.upperBound, count - closeLine.upperBound)
        return Rewrite(count: count - closeLine.count, bodyRemaining: bodyRemaining)
    }

    /// The index of the next CRLF at or after `from`, or nil.
    private static func firstLineEnd(_ bytes: UnsafeRawBufferPointer, from: Int) -> Int? {
        var i = from
        while i + 1 < bytes.count {
            if bytes[i] == UInt8(ascii: "\r") && bytes[i + 1] == UInt8(ascii: "\n") { return i }
            i += 1
        }
        return nil
    }
}
