/// Per-service request accounting, as exported on `/metrics`.
public struct ServiceCounters: Sendable, Hashable {
    public var connectionsTotal: Int = 0
    public var connectionsActive: Int = 0
    /// Bytes from clients to replicas.
    public var bytesReceived: Int = 0
    /// Bytes from replicas to clients.
    public var bytesSent: Int = 0
    /// HTTP/1.x request lines seen from clients (keep-alive aware).
    public var httpRequests: Int = 0
    /// Connects to a replica that failed (each was retried on another replica if one was left).
    public var connectFailures: Int = 0
    /// Client connections closed because no replica was ready.
    public var rejected: Int = 0
    /// Client connections held now for want of a ready replica (standby services only).
    public var connectionsWaiting: Int = 0

    public init() {}
}

extension ServiceCounters {
    mutating func connectionFailed() {
        connectFailures += 1
        connectionsTotal -= 1
    }
}
