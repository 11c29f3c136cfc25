public import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Raw TCP connections to a loopback port, for tests that speak bytes to a server (idle
/// clients exhausting its descriptors, malformed or half-sent requests, load generators).
public enum LoopbackSocket {
    /// 127.0.0.1:`port`.
    public static func address(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// A blocking TCP socket connected to 127.0.0.1:`port`, or -1 (with `errno` saying why).
    /// `sendTimeout` also bounds the connect; `receiveTimeout` bounds each read (seconds).
    public static func connect(port: Int, sendTimeout: Int? = nil, receiveTimeout: Int? = nil) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return -1 }
        for (option, seconds) in [(SO_SNDTIMEO, sendTimeout), (SO_RCVTIMEO, receiveTimeout)] {
            guard let seconds else { continue }
            var limit = timeval(tv_sec: seconds, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, option, &limit, socklen_t(MemoryLayout<timeval>.size))
        }
        var address = address(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if connected != 0 {
            let why = errno
            close(fd)
            errno = why
            return -1
        }
        return fd
    }

    /// A connected, idle TCP socket to 127.0.0.1:`port` (blocking connect), or -1. A connect
    /// the server's backlog cannot take gives up after 2 s (not the kernel's ~2 min).
    public static func idle(port: Int) -> Int32 { connect(port: port, sendTimeout: 2) }

    /// CPU time (user + system) of process `pid` so far, in clock ticks (1/100 s); -1 when
    /// it cannot be read.
    public static func cpuTicks(_ pid: Int32) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return -1 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Int(fields[11]), let system = Int(fields[12]) else { return -1 }
        return user + system
    }
}
