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

/// Prometheus text exposition (version 0.0.4) of the balancer's counters: families in
/// name order, series in label order, every service present in every family.
public enum MetricsRenderer {
    public static func render(project: String, counters: [String: ServiceCounters], endpoints: [EndpointStatus]) -> String {
        let services = counters.keys.sorted()
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ value: (ServiceCounters) -> Int) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for service in services {
                out += "\(name){project=\"\(escape(project))\",service=\"\(escape(service))\"} \(value(counters[service]!))\n"
            }
        }
        family(
            "berth_proxy_bytes_received_total", "counter", "Bytes forwarded from clients to replicas.",
            { $0.bytesReceived })
        family(
            "berth_proxy_bytes_sent_total", "counter", "Bytes forwarded from replicas to clients.", { $0.bytesSent })
        family(
            "berth_proxy_connect_failures_total", "counter",
            "Connects to a replica that failed (retried on another replica when one was left).", { $0.connectFailures })
        family(
            "berth_proxy_connections_active", "gauge", "Client connections open now.", { $0.connectionsActive })
        family(
            "berth_proxy_connections_rejected_total", "counter",
            "Client connections closed because no replica was ready.", { $0.rejected })
        family(
            "berth_proxy_connections_total", "counter", "Client connections forwarded to a replica.",
            { $0.connectionsTotal })
        out += "# HELP berth_proxy_endpoint_connections_active Open connections per replica.\n"
        out += "# TYPE berth_proxy_endpoint_connections_active gauge\n"
        for endpoint in endpoints {
            out += "berth_proxy_endpoint_connections_active{instance=\"\(escape(endpoint.instance))\","
                + "project=\"\(escape(project))\",service=\"\(escape(endpoint.service))\","
                + "state=\"\(endpoint.state.rawValue)\"} \(endpoint.activeConnections)\n"
        }
        family(
            "berth_proxy_http_requests_total", "counter",
            "HTTP/1.x requests seen from clients (request lines; keep-alive aware).", { $0.httpRequests })
        return out
    }

    static func escape(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}
