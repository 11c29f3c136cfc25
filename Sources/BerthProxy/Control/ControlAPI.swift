public import BerthCore
import Foundation

/// The control API's documents. Every one carries `"formatVersion": 1`.
public enum ControlAPI {
    public struct DrainRequest: Codable, Sendable {
        public var instance: String
        public var graceMs: Int64
        public init(instance: String, graceMs: Int64) {
            self.instance = instance
            self.graceMs = graceMs
        }
    }

    public struct ReadyRequest: Codable, Sendable {
        public var instance: String
        public init(instance: String) { self.instance = instance }
    }

    public struct DrainResponse: Codable, Sendable {
        public var formatVersion = 1
        public var instance: String
        public var drained: Bool
        public var remaining: Int
        public var known: Bool
        public var waitedMs: Int64
    }

    public struct ReadyResponse: Codable, Sendable {
        public var formatVersion = 1
        public var instance: String
        public var state: EndpointState
    }

    public struct Listener: Codable, Sendable, Hashable {
        public var publish: Int
        public var service: String
        public var boundPort: Int
    }

    public struct EndpointsDocument: Codable, Sendable {
        public var formatVersion = 1
        public var project: String
        public var listeners: [Listener]
        public var endpoints: [EndpointStatus]
    }

    /// `GET /v1/traffic`: a `TrafficReport` with the project.
    public struct TrafficDocument: Codable, Sendable {
        public var formatVersion = 1
        public var project: String
        public var uptimeSeconds: Int64
        public var services: [ServiceTraffic]

        public init(project: String, report: TrafficReport) {
            self.project = project
            self.uptimeSeconds = report.uptimeSeconds
            self.services = report.services
        }

        public var report: TrafficReport { TrafficReport(uptimeSeconds: uptimeSeconds, services: services) }
    }

    public struct ErrorDocument: Codable, Sendable {
        public var formatVersion = 1
        public var error: String
    }

    static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array((try? encoder.encode(value)) ?? Data("{}".utf8)) + [UInt8(ascii: "\n")]
    }
}

/// The balancer's counters as Prometheus text (Berth's one `PrometheusText`): every
/// service present in every family.
public enum MetricsRenderer {
    public static func render(project: String, counters: [String: ServiceCounters], endpoints: [EndpointStatus]) -> String {
        let services = counters.keys.sorted()
        func family(_ name: String, _ kind: MetricFamily.Kind, _ help: String, _ value: (ServiceCounters) -> Int)
            -> MetricFamily
        {
            MetricFamily(
                name, kind, help: help,
                samples: services.map { MetricSample([("project", project), ("service", $0)], value(counters[$0]!)) })
        }
        return PrometheusText.render([
            family("berth_proxy_bytes_received_total", .counter, "Bytes forwarded from clients to replicas.") {
                $0.bytesReceived
            },
            family("berth_proxy_bytes_sent_total", .counter, "Bytes forwarded from replicas to clients.") { $0.bytesSent },
            family(
                "berth_proxy_connect_failures_total", .counter,
                "Connects to a replica that failed (retried on another replica when one was left)."
            ) { $0.connectFailures },
            family("berth_proxy_connections_active", .gauge, "Client connections open now.") { $0.connectionsActive },
            family(
                "berth_proxy_connections_rejected_total", .counter,
                "Client connections closed because no replica was ready."
            ) { $0.rejected },
            family("berth_proxy_connections_total", .counter, "Client connections forwarded to a replica.") {
                $0.connectionsTotal
            },
            MetricFamily(
                "berth_proxy_endpoint_connections_active", .gauge, help: "Open connections per replica.",
                samples: endpoints.map {
                    MetricSample(
                        [("instance", $0.instance), ("project", project), ("service", $0.service), ("state", $0.state.rawValue)],
                        $0.activeConnections)
                }),
            family(
                "berth_proxy_http_requests_total", .counter,
                "HTTP/1.x requests seen from clients (request lines; keep-alive aware)."
            ) { $0.httpRequests },
        ])
    }
}
