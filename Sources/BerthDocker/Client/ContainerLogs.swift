import BerthNet
import Foundation
import NIOHTTP1

/// One line a container wrote, as `GET /containers/{id}/logs?timestamps=1` gives it.
public struct LogLine: Sendable, Hashable {
    public enum Stream: String, Sendable, Hashable { case stdout, stderr }
    /// Docker's RFC 3339 timestamp with nanoseconds (sorts as text within one engine).
    public var time: String
    public var stream: Stream
    public var text: String

    public init(time: String, stream: Stream, text: String) {
        self.time = time
        self.stream = stream
        self.text = text
    }
}

/// Container logs, whole or followed. A container made without a TTY (as Berth makes them)
/// sends frames of `[stream, 0, 0, 0, size (4 bytes, big endian)]`; with `timestamps=1`
/// each line starts with the engine's time and a space.
extension DockerClient {
    /// The container's lines since `since` (seconds since 1970), the last `tail` of them
    /// when given, in the order written.
    public func logs(_ id: String, since: Double? = nil, tail: Int? = nil) async throws -> [LogLine] {
        let response = try await call(
            .GET, "/containers/\(id)/logs", query: Self.logQuery(follow: false, since: since, tail: tail),
            doing: "reading the logs of container \(id)")
        var parser = LogFrameParser()
        return parser.feed(response.body) + parser.finish()
    }

    /// The container's lines as they are written (after those since `since`, or the last
    /// `tail`), until the container stops or the consuming task is cancelled.
    public func followLogs(_ id: String, since: Double? = nil, tail: Int? = nil) async throws
        -> AsyncThrowingStream<LogLine, any Error>
    {
        let doing = "following the logs of container \(id)"
        let streaming = try await openStream(
            uri("/containers/\(id)/logs", Self.logQuery(follow: true, since: since, tail: tail)), doing: doing)
        let (stream, continuation) = AsyncThrowingStream<LogLine, any Error>.makeStream()
        let reader = Task {
            var parser = LogFrameParser()
            do {
                for try await chunk in streaming.body {
                    for line in parser.feed(chunk) { continuation.yield(line) }
                }
                for line in parser.finish() { continuation.yield(line) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in reader.cancel() }
        return stream
    }

    static func logQuery(follow: Bool, since: Double?, tail: Int?) -> [(String, String)] {
        var query = [("stdout", "1"), ("stderr", "1"), ("timestamps", "1")]
        if follow { query.append(("follow", "1")) }
        if let since { query.append(("since", String(format: "%.9f", since))) }
        query.append(("tail", tail.map(String.init) ?? "all"))
        return query
    }
}

/// Turns the multiplexed byte stream into lines, across chunk boundaries: frames may split
/// anywhere, and a line may span frames.
struct LogFrameParser {
    private var pending: [UInt8] = []
    private var partial: [LogLine.Stream: [UInt8]] = [:]

    mutating func feed(_ bytes: [UInt8]) -> [LogLine] {
        pending += bytes
        var out: [LogLine] = []
        var i = 0
        while i + 8 <= pending.count {
            let size = Int(pending[i + 4]) << 24 | Int(pending[i + 5]) << 16 | Int(pending[i + 6]) << 8 | Int(pending[i + 7])
            guard i + 8 + size <= pending.count else { break }
            let stream: LogLine.Stream = pending[i] == 2 ? .stderr : .stdout
            var buffer = partial[stream] ?? []
            buffer += pending[(i + 8)..<(i + 8 + size)]
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                out.append(Self.line(buffer[..<newline], stream))
                buffer.removeSubrange(...newline)
            }
            partial[stream] = buffer
            i += 8 + size
        }
        pending.removeFirst(i)
        return out
    }

    /// What is left of unterminated lines.
    mutating func finish() -> [LogLine] {
        var out: [LogLine] = []
        for stream in [LogLine.Stream.stdout, .stderr] {
            if let rest = partial[stream], !rest.isEmpty { out.append(Self.line(rest[...], stream)) }
        }
        partial = [:]
        return out
    }

    static func line(_ bytes: ArraySlice<UInt8>, _ stream: LogLine.Stream) -> LogLine {
        var text = String(decoding: bytes, as: UTF8.self)
        if text.hasSuffix("\r") { text.removeLast() }
        guard let space = text.firstIndex(of: " "), text.first?.isNumber == true else {
            return LogLine(time: "", stream: stream, text: text)
        }
        return LogLine(time: String(text[..<space]), stream: stream, text: String(text[text.index(after: space)...]))
    }
}
