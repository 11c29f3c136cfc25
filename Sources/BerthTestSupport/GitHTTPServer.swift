public import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A git smart-HTTP server on 127.0.0.1 (an ephemeral port) for tests: it serves the bare
/// repositories under `projectRoot` by running `git http-backend` as a CGI, one process per
/// request, and demands HTTP Basic authentication with one of the `logins` (401 with
/// `WWW-Authenticate: Basic realm="berth-test"` otherwise).
///
/// Small and bounded: one thread, one connection at a time, every response closes its
/// connection; reads and writes time out, a CGI running too long is killed, and `stop()`
/// (call it in a `defer`) ends the thread within a few seconds and closes the socket.
/// Every request is recorded, with the credentials it carried, for server-side assertions.
public final class GitHTTPServer: @unchecked Sendable {  // mutable state guarded by `lock`
    /// One request as the server saw it.
    public struct Request: Sendable, Hashable {
        public var method: String
        public var path: String
        public var query: String
        /// The decoded `Authorization: Basic` user, nil when the header was absent.
        public var user: String?
        public var password: String?
        /// The status the server answered with.
        public var status: Int
    }

    public let port: Int
    public let projectRoot: String
    /// The accepted user name and password pairs.
    public let logins: [Login]

    public struct Login: Sendable, Hashable {
        public var user: String
        public var password: String
        public init(user: String, password: String) {
            self.user = user
            self.password = password
        }
    }

    private let listener: Int32
    private let scratch: TemporaryDirectory
    private let lock = NSLock()
    private var stopping = false
    private var recorded: [Request] = []
    private let finished = DispatchSemaphore(value: 0)

    /// The base URL, `http://127.0.0.1:PORT`; append `/NAME.git`.
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Every request served so far, in order.
    public var requests: [Request] { lock.withLock { recorded } }

    /// Starts serving `projectRoot` (a folder holding bare repositories) at once.
    public init(projectRoot: String, logins: [Login]) throws {
        self.projectRoot = projectRoot
        self.logins = logins
        scratch = try TemporaryDirectory(prefix: "berth-git-http")
        try FileManager.default.createDirectory(atPath: scratch.path + "/home", withIntermediateDirectories: true)

        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw ServerError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(fd, raw, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        guard bound else {
            let reason = String(cString: strerror(errno))
            close(fd)
            scratch.remove()
            throw ServerError("bind/listen on 127.0.0.1: \(reason)")
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in
            serve()
            finished.signal()
        }
        thread.name = "berth-test-git-http"
        thread.start()
    }

    /// Stops accepting, waits (at most 30 s) for the request in flight, closes the socket and
    /// removes the server's scratch folder. Safe to call more than once.
    public func stop() {
        let first = lock.withLock {
            defer { stopping = true }
            return !stopping
        }
        guard first else { return }
        _ = finished.wait(timeout: .now() + 30)
        close(listener)
        scratch.remove()
    }

    deinit { stop() }

    private var isStopping: Bool { lock.withLock { stopping } }

    private func serve() {
        // Polls every 100 ms so that `stop()` is seen promptly.
        while !isStopping {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            handle(client)
            close(client)
        }
    }

    // MARK: One connection, one request

    private func handle(_ client: Int32) {
        var reader = SocketReader(fd: client)
        guard let head = reader.readHead(limit: 64 << 10),
            let request = HTTPRequestHead(String(decoding: head, as: UTF8.self))
        else { return }
        let body: [UInt8]
        if request.header("transfer-encoding")?.lowercased().contains("chunked") == true {
            guard let decoded = reader.readChunked(limit: 16 << 20) else { return }
            body = decoded
        } else if let length = request.header("content-length").flatMap({ Int($0) }), length > 0 {
            guard length <= 16 << 20, let bytes = reader.take(length) else { return }
            body = bytes
        } else {
            body = []
        }

        let (path, query) = request.target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
            .map(String.init).splitFirst()
        let credentials = request.basicCredentials
        var record = Request(
            method: request.method, path: path, query: query, user: credentials?.user,
            password: credentials?.password, status: 401)
        let response: [UInt8]
        if let credentials, logins.contains(Login(user: credentials.user, password: credentials.password)) {
            let (status, bytes) = runBackend(request, path: path, query: query, body: body, user: credentials.user)
            record.status = status
            response = bytes
        } else {
            response = Self.response(
                status: "401 Unauthorized",
                headers: ["WWW-Authenticate: Basic realm=\"berth-test\"", "Content-Type: text/plain"],
                body: Array("authentication required\n".utf8))
        }
        lock.withLock { recorded.append(record) }
        writeAll(client, response)
    }

    /// Runs `git http-backend` for one request (body on stdin, all through files so no pipe
    /// can fill up) and turns its CGI output into an HTTP/1.1 response.
    private func runBackend(_ request: HTTPRequestHead, path: String, query: String, body: [UInt8], user: String) -> (Int, [UInt8]) {
        var environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": scratch.path + "/home",
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_PROJECT_ROOT": projectRoot, "GIT_HTTP_EXPORT_ALL": "1",
            "GATEWAY_INTERFACE": "CGI/1.1", "SERVER_PROTOCOL": "HTTP/1.1",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "\(port)", "REMOTE_ADDR": "127.0.0.1",
            "REQUEST_METHOD": request.method, "PATH_INFO": path, "QUERY_STRING": query,
            "CONTENT_LENGTH": "\(body.count)", "REMOTE_USER": user, "AUTH_TYPE": "Basic",
        ]
        if let type = request.header("content-type") { environment["CONTENT_TYPE"] = type }
        if let encoding = request.header("content-encoding") { environment["HTTP_CONTENT_ENCODING"] = encoding }
        if let protocolHeader = request.header("git-protocol") { environment["HTTP_GIT_PROTOCOL"] = protocolHeader }

        do {
            let result = try ProcessRunner.runRaw(
                URL(fileURLWithPath: "/usr/bin/git"), ["http-backend"], environment: environment, stdin: Data(body),
                timeout: .seconds(20))
            return Self.fromCGI(Array(result.stdout))
        } catch ProcessRunner.Failure.timedOut {
            return Self.failure("git http-backend did not finish within 20 s")
        } catch {
            return Self.failure("cannot run git http-backend: \(error)")
        }
    }

    /// CGI output (`Header: value` lines, a blank line, the body; `Status:` gives the status,
    /// 200 without it) as an HTTP/1.1 response that closes the connection.
    static func fromCGI(_ output: [UInt8]) -> (Int, [UInt8]) {
        var split: (head: Int, body: Int)?
        for i in output.indices {
            if output[i...].starts(with: [13, 10, 13, 10]) { split = (i, i + 4); break }
            if output[i...].starts(with: [10, 10]) { split = (i, i + 2); break }
        }
        guard let split else { return failure("malformed CGI output") }
        var status = "200 OK"
        var headers: [String] = []
        for line in String(decoding: output[..<split.head], as: UTF8.self).split(whereSeparator: \.isNewline) {
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.lowercased().hasPrefix("status:") {
                status = String(text.dropFirst("status:".count)).trimmingCharacters(in: .whitespaces)
            } else if !text.isEmpty {
                headers.append(text)
            }
        }
        let code = Int(status.prefix { $0.isNumber }) ?? 500
        return (code, response(status: status, headers: headers, body: Array(output[split.body...])))
    }

    static func failure(_ reason: String) -> (Int, [UInt8]) {
        (500, response(status: "500 Internal Server Error", headers: ["Content-Type: text/plain"], body: Array((reason + "\n").utf8)))
    }

    static func response(status: String, headers: [String], body: [UInt8]) -> [UInt8] {
        var head = "HTTP/1.1 \(status)\r\n"
        for header in headers { head += header + "\r\n" }
        head += "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + body
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { return }
            offset += n
        }
    }

    struct ServerError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}

/// The request line and headers of one HTTP/1.1 request.
struct HTTPRequestHead {
    var method: String
    var target: String
    var headers: [(name: String, value: String)]

    init?(_ text: String) {
        var lines = text.components(separatedBy: "\r\n")
        let parts = lines.removeFirst().split(separator: " ")
        guard parts.count == 3 else { return nil }
        method = String(parts[0])
        target = String(parts[1])
        headers = lines.compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
    }

    func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }

    /// The user and password of an `Authorization: Basic …` header.
    var basicCredentials: (user: String, password: String)? {
        guard let value = header("authorization"), value.lowercased().hasPrefix("basic "),
            let data = Data(base64Encoded: String(value.dropFirst(6)).trimmingCharacters(in: .whitespaces))
        else { return nil }
        let pair = String(decoding: data, as: UTF8.self)
        guard let colon = pair.firstIndex(of: ":") else { return (pair, "") }
        return (String(pair[..<colon]), String(pair[pair.index(after: colon)...]))
    }
}

/// Buffered reads from a socket whose reads time out (SO_RCVTIMEO); every read is bounded.
struct SocketReader {
    let fd: Int32
    var buffer: [UInt8] = []

    /// Reads more bytes into the buffer; false at end of stream, on error or on time-out.
    mutating func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return false }
        buffer.append(contentsOf: chunk[..<n])
        return true
    }

    /// The request head up to (not including) the blank line, which is consumed.
    mutating func readHead(limit: Int) -> [UInt8]? {
        while true {
            if let end = find([13, 10, 13, 10]) {
                let head = Array(buffer[..<end])
                buffer.removeFirst(end + 4)
                return head
            }
            guard buffer.count < limit, fill() else { return nil }
        }
    }

    mutating func take(_ count: Int) -> [UInt8]? {
        while buffer.count < count { guard fill() else { return nil } }
        let bytes = Array(buffer[..<count])
        buffer.removeFirst(count)
        return bytes
    }

    mutating func readLine(limit: Int = 1024) -> String? {
        while true {
            if let end = find([13, 10]) {
                let line = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeFirst(end + 2)
                return line
            }
            guard buffer.count < limit, fill() else { return nil }
        }
    }

    /// A `Transfer-Encoding: chunked` body, decoded (trailers ignored).
    mutating func readChunked(limit: Int) -> [UInt8]? {
        var body: [UInt8] = []
        while true {
            guard let line = readLine(), let size = Int(line.split(separator: ";").first?.trimmingCharacters(in: .whitespaces) ?? "", radix: 16),
                body.count + size <= limit
            else { return nil }
            if size == 0 {
                while let trailer = readLine(), !trailer.isEmpty {}
                return body
            }
            guard let chunk = take(size), readLine() == "" else { return nil }
            body += chunk
        }
    }

    private func find(_ needle: [UInt8]) -> Int? {
        guard buffer.count >= needle.count else { return nil }
        for i in 0...(buffer.count - needle.count) where buffer[i..<(i + needle.count)].elementsEqual(needle) {
            return i
        }
        return nil
    }
}

extension Array where Element == String {
    fileprivate func splitFirst() -> (String, String) { (first ?? "", count > 1 ? self[1] : "") }
}

/// A repository served over smart HTTP with Basic authentication, for the remote tests: a
/// work tree (`origin`) with one valid manifest committed, its bare copy `repo.git` under the
/// server's project root, and the server. `publish()` pushes new commits of `origin` to the
/// served copy (locally, with the git CLI). `cleanup()` stops the server and removes it all.
public final class ServedGitRepository: @unchecked Sendable {  // used from one test at a time
    public let origin: GitRepoBuilder
    public let served: TemporaryDirectory
    public let server: GitHTTPServer

    /// `http://127.0.0.1:PORT/repo.git`.
    public var url: String { server.baseURL + "/repo.git" }

    /// `url` with `user:password@` in it.
    public func url(user: String, password: String) -> String {
        "http://\(user):\(password)@127.0.0.1:\(server.port)/repo.git"
    }

    public init(logins: [GitHTTPServer.Login]) throws {
        origin = try GitRepoBuilder()
        do {
            served = try TemporaryDirectory(prefix: "berth-git-served")
        } catch {
            origin.cleanup()
            throw error
        }
        do {
            try origin.write("manifests/web.yaml", GitRepoBuilder.service("web", image: "shop/web:1.0"))
            try origin.commit("web 1.0")
            try origin.git("clone", "-q", "--bare", origin.path, served.path + "/repo.git")
            try origin.git("remote", "add", "served", served.path + "/repo.git")
            server = try GitHTTPServer(projectRoot: served.path, logins: logins)
        } catch {
            origin.cleanup()
            served.remove()
            throw error
        }
    }

    /// Pushes `origin`'s branches to the served repository; returns its `main`.
    @discardableResult
    public func publish() throws -> String {
        try origin.git("push", "-q", "served", "--all")
        return try origin.sha("main")
    }

    public func cleanup() {
        server.stop()
        served.remove()
        origin.cleanup()
    }
}

extension ProcessInfo {
    /// This process's environment without Berth's git credentials (`BERTH_GIT_*`), so that a
    /// test decides alone which credentials a run sees.
    public static var environmentWithoutGitCredentials: [String: String] {
        processInfo.environment.filter { !$0.key.hasPrefix("BERTH_GIT_") }
    }
}
