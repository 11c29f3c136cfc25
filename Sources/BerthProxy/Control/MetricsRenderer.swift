import BerthCore

/// The balancer's counters as Prometheus text (Berth's one `PrometheusText`): every
/// service present in every family.
public enum MetricsRenderer {
    /// `connections`: the process's client connection limit, its descriptor limit, and the
    /// connections refused by reason (see `ClientBudget`); nil renders none of them.
    public static func render(
        project: String, counters: [String: ServiceCounters], endpoints: [EndpointStatus],
        connections: ConnectionLimits? = nil, drainsExpired: Int? = nil
    ) -> String {
        let services = counters.keys.sorted()
        func family(_ name: String, _ kind: MetricFamily.Kind, _ help: String, _ value: (ServiceCounters) -> Int)
            -> MetricFamily
        {
            MetricFamily(
                name, kind, help: help,
                samples: services.map { MetricSample([("project", project), ("service", $0)], value(counters[$0]!)) })
        }
        var process = connections.map { Self.families(project: project, $0) } ?? []
        if let drainsExpired {
            process.append(
                MetricFamily(
                    "berth_proxy_drains_expired_total", .counter,
                    help: "Drains whose hold passed while the replica still ran (the berth process that drained it did not stop it): back in rotation.",
                    samples: [MetricSample([("project", project)], drainsExpired)]))
        }
        return PrometheusText.render(process + [
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

    static func families(project: String, _ limits: ConnectionLimits) -> [MetricFamily] {
        [
            MetricFamily(
                "berth_proxy_client_connections_limit", .gauge,
                help: "Client connections the balancer keeps open at once (from its descriptor limit).",
                samples: [MetricSample([("project", project)], limits.maxClients)]),
            MetricFamily(
                "berth_proxy_connections_refused_total", .counter,
                help: "Client connections closed at once: the balancer was at its connection limit (process-wide, or the port's --max-connections) or out of file descriptors.",
                samples: limits.refused.keys.sorted().map {
                    MetricSample([("project", project), ("reason", $0)], limits.refused[$0]!)
                } + limits.refusedByPort.keys.sorted().map {
                    MetricSample([("project", project), ("port", "\($0)"), ("reason", "port_limit")], limits.refusedByPort[$0]!)
                }),
            MetricFamily(
                "berth_proxy_descriptor_limit", .gauge, help: "The balancer's soft limit on open file descriptors.",
                samples: [MetricSample([("project", project)], limits.descriptorLimit)]),
        ] + (limits.portLimit.map { limit in
            [
                MetricFamily(
                    "berth_proxy_port_connections_limit", .gauge,
                    help: "Client connections the balancer keeps open at once on each published port (--max-connections).",
                    samples: [MetricSample([("project", project)], limit)])
            ]
        } ?? [])
    }

    /// The process-wide connection figures of `render`.
    public struct ConnectionLimits: Sendable {
        public var maxClients: Int
        public var descriptorLimit: Int
        /// Refused connections by reason (`connection_limit`, `no_descriptor`).
        public var refused: [String: Int]
        /// `--max-connections`: client connections per published port; nil: none.
        public var portLimit: Int?
        /// Connections refused for `portLimit`, by published port.
        public var refusedByPort: [Int: Int]

        public init(
            maxClients: Int, descriptorLimit: Int, refused: [String: Int], portLimit: Int? = nil,
            refusedByPort: [Int: Int] = [:]
        ) {
            self.maxClients = maxClients
            self.descriptorLimit = descriptorLimit
            self.refused = refused
            self.portLimit = portLimit
            self.refusedByPort = refusedByPort
        }
    }
}
