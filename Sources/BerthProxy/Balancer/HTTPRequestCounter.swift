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
    private var http11 = false
    private var connectionClose = false
    public private(set) var requests = 0

    static let maxLine = 8192

    public init() {}

    /// Whether this connection is still being parsed as HTTP/1.x.
    public var isCounting: Bool { phase != .off }

    /// Every request seen so far is complete (head and body) and no byte of the next one
    /// has arrived.
    public var isBetweenRequests: Bool { phase == .requestLine && line.isEmpty }

    /// The last request was HTTP/1.1 without `Connection: close` and without an upgrade:
    /// its client expects the connection to stay open after the response.
    public var lastRequestKeepsAlive: Bool { requests > 0 && http11 && !connectionClose && !upgrade }

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
            guard let isConnect = Self.requestLineIsConnect(line) else {
                phase = .off
                return
            }
            requests += 1
            contentLength = 0
            chunked = false
            upgrade = isConnect
            http11 = line[line.count - 1] == UInt8(ascii: "1")
            connectionClose = false
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
            line.withUnsafeBytes { bytes in
                guard let header = HTTPHeaderLine(bytes) else { return }
                if header.nameIs("content-length") {
                    contentLength = header.integerValue ?? 0
                } else if header.nameIs("transfer-encoding") {
                    chunked = header.valueHasSuffix("chunked")
                } else if header.nameIs("upgrade") {
                    upgrade = true
                } else if header.nameIs("connection") {
                    connectionClose = connectionClose || header.valueContains("close")
                }
            }
        case .chunkSize:
            guard let size = Self.chunkSize(line) else {
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

    /// `METHOD SP target SP HTTP/1.d` → whether METHOD is CONNECT; nil when the line is not
    /// a request line.
    static func requestLineIsConnect(_ line: [UInt8]) -> Bool? {
        guard let firstSpace = line.firstIndex(of: UInt8(ascii: " ")), firstSpace > 0,
            line[..<firstSpace].allSatisfy(isTokenByte)
        else { return nil }
        let version: StaticString = "HTTP/1."
        let versionCount = version.utf8CodeUnitCount
        guard line.count >= firstSpace + 2 + versionCount + 1 else { return nil }
        let tailStart = line.count - versionCount - 1
        for i in 0..<versionCount where line[tailStart + i] != version.utf8Start[i] { return nil }
        guard line[tailStart - 1] == UInt8(ascii: " "),
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(line[line.count - 1])
        else { return nil }
        return firstSpace == 7 && line[0..<7].elementsEqual("CONNECT".utf8)
    }

    static func isTokenByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || byte == UInt8(ascii: "-")
            || byte == UInt8(ascii: "_")
    }

    /// The hexadecimal size at the start of a chunk-size line (extensions after `;`
    /// ignored), or nil.
    static func chunkSize(_ line: [UInt8]) -> Int? {
        var size = 0
        var digits = 0
        for byte in line {
            if byte == UInt8(ascii: ";") { break }
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                if digits > 0 { break } else { continue }
            }
            let value: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = Int(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = Int(byte - UInt8(ascii: "A")) + 10
            default: return nil
            }
            guard digits < 15 else { return nil }
            size = size * 16 + value
            digits += 1
        }
        return digits > 0 ? size : nil
    }
}

/// One `Name: value` header line (no CRLF), compared on bytes: no String on the data path.
struct HTTPHeaderLine {
    let name: UnsafeRawBufferPointer
    /// Without surrounding spaces and tabs.
    let value: UnsafeRawBufferPointer

    init?(_ line: UnsafeRawBufferPointer) {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        name = UnsafeRawBufferPointer(rebasing: line[..<colon])
        var start = colon + 1
        var end = line.count
        while start < end, line[start] == UInt8(ascii: " ") || line[start] == UInt8(ascii: "\t") { start += 1 }
        while end > start, line[end - 1] == UInt8(ascii: " ") || line[end - 1] == UInt8(ascii: "\t") { end -= 1 }
        value = UnsafeRawBufferPointer(rebasing: line[start..<end])
    }

    /// `lowercase` must be lowercase ASCII.
    func nameIs(_ lowercase: StaticString) -> Bool {
        Self.equalFolded(name, lowercase)
    }

    func valueIs(_ lowercase: StaticString) -> Bool {
        Self.equalFolded(value, lowercase)
    }

    func valueHasSuffix(_ lowercase: StaticString) -> Bool {
        let count = lowercase.utf8CodeUnitCount
        guard value.count >= count else { return false }
        return Self.equalFolded(UnsafeRawBufferPointer(rebasing: value[(value.count - count)...]), lowercase)
    }

    func valueContains(_ lowercase: StaticString) -> Bool {
        let count = lowercase.utf8CodeUnitCount
        guard value.count >= count else { return false }
        for start in 0...(value.count - count)
        where Self.equalFolded(UnsafeRawBufferPointer(rebasing: value[start..<(start + count)]), lowercase) {
            return true
        }
        return false
    }

    var integerValue: Int? {
        guard !value.isEmpty, value.count <= 18 else { return nil }
        var result = 0
        for byte in value {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            result = result * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return result
    }

    static func equalFolded(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        let expected = lowercase.utf8Start
        for i in 0..<bytes.count {
            var byte = bytes[i]
            if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { byte += 32 }
            if byte != expected[i] { return false }
        }
        return true
    }
}
