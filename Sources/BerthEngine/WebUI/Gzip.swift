internal import CZlib
public import BerthNet
import Foundation

/// gzip (RFC 1952) through the system's zlib: the web UI's pages go out compressed to a
/// browser that accepts it (the overview of 1,000 services: about 240 KB of HTML, a tenth
/// of that on the wire).
enum Gzip {
    /// `input` compressed at `level` (zlib's 1 fastest … 9 smallest), or nil when zlib fails.
    static func compress(_ input: [UInt8], level: Int32 = 6) -> [UInt8]? {
        var stream = z_stream()
        guard berth_deflate_init_gzip(&stream, level) == Z_OK else { return nil }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 32)
        var source = input
        let produced: Int? = source.withUnsafeMutableBufferPointer { src in
            output.withUnsafeMutableBufferPointer { dst in
                stream.next_in = src.baseAddress
                stream.avail_in = uInt(src.count)
                stream.next_out = dst.baseAddress
                stream.avail_out = uInt(dst.count)
                // deflateBound is enough for one call to finish the stream.
                guard deflate(&stream, Z_FINISH) == Z_STREAM_END else { return nil }
                return dst.count - Int(stream.avail_out)
            }
        }
        guard let produced else { return nil }
        return Array(output.prefix(produced))
    }

    /// A gzip stream decompressed, or nil when it is not one (or inflates past `limit` bytes).
    static func decompress(_ input: [UInt8], limit: Int = 64 << 20) -> [UInt8]? {
        var stream = z_stream()
        guard berth_inflate_init_gzip(&stream) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var source = input
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        let ok: Bool = source.withUnsafeMutableBufferPointer { src in
            stream.next_in = src.baseAddress
            stream.avail_in = uInt(src.count)
            while true {
                let (code, produced) = chunk.withUnsafeMutableBufferPointer { dst -> (Int32, Int) in
                    stream.next_out = dst.baseAddress
                    stream.avail_out = uInt(dst.count)
                    let code = inflate(&stream, Z_NO_FLUSH)
                    return (code, dst.count - Int(stream.avail_out))
                }
                out += chunk.prefix(produced)
                if code == Z_STREAM_END { return stream.avail_in == 0 }
                if code != Z_OK || out.count > limit || (produced == 0 && stream.avail_in == 0) { return false }
            }
        }
        return ok ? out : nil
    }

    /// Whether an `Accept-Encoding` header value accepts gzip (`gzip`, `x-gzip` or `*`,
    /// unless its weight is `q=0`).
    static func accepted(_ header: String?) -> Bool {
        guard let header else { return false }
        for item in header.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let coding = parts.first, ["gzip", "x-gzip", "*"].contains(coding) else { continue }
            let weight = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            return weight > 0
        }
        return false
    }
}

extension WebUI {
    /// Smaller bodies are sent as they are: compressing them saves nothing worth the time.
    static let compressFrom = 1024

    /// The web UI's response as it goes out: a page, stylesheet or script of 1 KB or more is
    /// gzip-compressed for a client that accepts it (`Content-Encoding: gzip`, `Vary:
    /// Accept-Encoding`); the event stream and everything else go as they are.
    public static func encoded(_ response: APIResponse, for request: APIRequest) -> HTTPServer.Response {
        var body = Array(response.body.utf8)
        var headers = response.headers
        if response.stream == nil {
            headers["Vary"] = "Accept-Encoding"
            if body.count >= compressFrom, headers["Content-Encoding"] == nil,
                Gzip.accepted(request.header("Accept-Encoding")), let compressed = Gzip.compress(body)
            {
                body = compressed
                headers["Content-Encoding"] = "gzip"
            }
        }
        return HTTPServer.Response(
            status: response.status, contentType: response.contentType, body: body, headers: headers,
            stream: response.stream)
    }
}
