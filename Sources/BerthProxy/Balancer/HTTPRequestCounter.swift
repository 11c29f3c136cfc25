public import NIOCore

/// Counts HTTP/1.x requests in the client → server byte stream of one connection, without
/// buffering it: request lines, header blocks, then bodies skipped by `Content-Length` or
/// chunked framing, so keep-alive and pipelined requests each count once and a body that
/// happens to contain "GET / HTTP/1.1" does not.
///
/// A connection whose first line is not an HTTP/1.x request line (TLS, a database
/// protocol, …), whose lines grow beyond 8 KiB, or that upgrades (`Upgrade:` / `CONNECT`)
/// stops being counted: from then on `feed` returns 0.
public struct HTTPRequestCounter: Sendable {
    enum Phase: Sendable, Equatable {
        case requestLine
        case headers
        case body(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd  // the CRLF after a chunk's data
        case trailers
        case off
    }

    private var phase: Phase = .requestLine
    private var line: [UInt8] = []
    private var contentLength = 0
    private var chunked = false
    private var upgrade = false
    public private(set) var requests = 0

    static let maxLine = 8192

    public init() {}

    /// Whether this connection is still being parsed as HTTP/1.x.
    public var isCounting: Bool { phase != .off }

    /// Consumes `buffer`'s readable bytes (without moving its reader index) and returns how
    /// many request lines they completed.
    public mutating func feed(_ buffer: ByteBuffer) -> Int {
        guard phase != .off else { return 0 }
        return buffer.withUnsafeReadableBytes { feed(bytes: $0) }
    }

    public mutating func feed(bytes: UnsafeRawBufferPointer) -> Int {
        let before = requests
        var index = 0
        let count = bytes.count
        while index < count {
            switch phase {
            case .off:
                return requests - before
            case .body(let remaining):
                let take = min(remaining, count - index)
                index += take
                phase = remaining - take == 0 ? .requestLine : .body(remaining: remaining - take)
            case .chunkData(let remaining):
                let take = min(remaining, count - index)
                index += take
                phase = remaining - take == 0 ? .chunkDataEnd : .chunkData(remaining: remaining - take)
            case .requestLine, .headers, .chunkSize, .chunkDataEnd, .trailers:
                // Collect one line (up to LF).
                let byte = bytes[index]
                index += 1
                if byte != UInt8(ascii: "\n") {
                    if line.count >= Self.maxLine {
                        phase = .off
                        line = []
                        return requests - before
                    }
                    line.append(byte)
                    // Early out: a connection that does not start like a request line.
                    if phase == .requestLine && line.count == 1 && !(Self.isTokenByte(byte) || byte == UInt8(ascii: "\r")) {
                        phase = .off
                        line = []
                        return requests - before
                    }
                    continue
                }
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                endOfLine()
                line.removeAll(keepingCapacity: true)
            }
        }
        return requests - before
    }

    private mutating func endOfLine() {
        switch phase {
        case .requestLine:
            if line.isEmpty { return }  // stray CRLF between requests (RFC 9112 §2.2)
            guard let method = Self.requestLineMethod(line) else {
                phase = .off
                return
            }
            requests += 1
            contentLength = 0
            chunked = false
            upgrade = method == "CONNECT"
            phase = .headers
        case .headers:
            if line.isEmpty {
                if upgrade {
                    phase = .off
                } else if chunked {
                    phase = .chunkSize
                } else if contentLength > 0 {
                    phase = .body(remaining: contentLength)
                } else {
                    phase = .requestLine
                }
                return
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
            let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
            let value = String(decoding: line[(colon + 1)...], as: UTF8.self)
                .trimmingASCIISpaces().lowercased()
            switch name {
            case "content-length":
                contentLength = Int(value) ?? 0
            case "transfer-encoding":
                chunked = value.hasSuffix("chunked")
            case "upgrade":
                upgrade = true
            default:
                break
            }
        case .chunkSize:
            let digits = line.prefix { $0 != UInt8(ascii: ";") }
            guard let size = Int(String(decoding: digits, as: UTF8.self).trimmingASCIISpaces(), radix: 16), size >= 0
            else {
                phase = .off
                return
            }
            phase = size == 0 ? .trailers : .chunkData(remaining: size)
        case .chunkDataEnd:
            phase = .chunkSize
        case .trailers:
            if line.isEmpty { phase = .requestLine }
        case .body, .chunkData, .off:
            break
        }
    }

    /// `METHOD SP target SP HTTP/1.d` → METHOD; nil when the line is not a request line.
    static func requestLineMethod(_ line: [UInt8]) -> String? {
        guard let firstSpace = line.firstIndex(of: UInt8(ascii: " ")), firstSpace > 0,
            line[..<firstSpace].allSatisfy(isTokenByte)
        else { return nil }
        let version: [UInt8] = Array("HTTP/1.".utf8)
        guard line.count >= firstSpace + 2 + version.count + 1 else { return nil }
        let tail = line[(line.count - version.count - 1)..<(line.count - 1)]
        guard tail.elementsEqual(version), line[line.count - version.count - 2] == UInt8(ascii: " "),
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(line[line.count - 1])
        else { return nil }
        return String(decoding: line[..<firstSpace], as: UTF8.self)
    }

    static func isTokenByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || byte == UInt8(ascii: "-")
            || byte == UInt8(ascii: "_")
    }
}

extension String {
    fileprivate func trimmingASCIISpaces() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
