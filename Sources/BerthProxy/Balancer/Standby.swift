import Foundation
public import NIOCore

/// Scale to zero and back on the first request: the balancer side.
///
/// `berth watch` declares its autoscaled services that publish ports (`PUT /v1/services`,
/// `StandbyService`). For those, the balancer keeps listening while no replica runs, and a
/// new connection that finds no ready replica is **held** instead of closed: it stays
/// accepted (its first bytes are read and kept), counts as waiting
/// (`ServiceTraffic.connectionsWaiting`, the autoscaler's demand signal, read within a tick
/// of 250 ms), and is forwarded the moment a replica is ready (the control API's `ready`
/// wakes every relay loop; the loops also look every 250 ms).
///
/// Bounds, past which the client gets a clear refusal (an HTTP client a `503 Service
/// Unavailable` whose body says why, a plain TCP client a closed connection):
/// - at most `maxHeldPerService` (1,000) connections held per service at a time (one more
///   is closed at once, before its request is read);
/// - at most `holdLimit` (30 s; `Balancer(holdLimit:)`) of waiting per connection.
/// Services not declared are not held: with no ready replica their connections are closed
/// at once, as before.
public enum Standby {
    public static let maxHeldPerService = 1000
    public static let holdLimit: TimeAmount = .seconds(30)

    /// The refusal an HTTP client gets when the hold ends without a replica.
    static func refusal(service: String, reason: String) -> [UInt8] {
        let body = "berth proxy: \(reason) for service \(service); try again later\n"
        let head =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + "Connection: close\r\nRetry-After: 1\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
        return Array((head + body).utf8)
    }
}
