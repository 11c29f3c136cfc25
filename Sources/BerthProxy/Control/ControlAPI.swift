public import BerthCore
import Foundation

/// The control API's documents. Every one carries `"formatVersion": 1`.
public enum ControlAPI {
    /// `holdMs`: how long the drain keeps the instance out of rotation unless it stops
    /// first (Berth's executor always sends it: grace + stop timeout + 30 s). Without it,
    /// a drain by hand: out of rotation until `POST /v1/ready` or a stop.
    public struct DrainRequest: Codable, Sendable {
        public var instance: String
        public var graceMs: Int64
        public var holdMs: Int64?
        public init(instance: String, graceMs: Int64, holdMs: Int64? = nil) {
            self.instance = instance
            self.graceMs = graceMs
            self.holdMs = holdMs
        }

        /// The longest hold taken: a year.
        public static let maxHoldMs: Int64 = 366 * 86_400_000
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

    /// `PUT /v1/services`: the services whose ports stay open, connections held, while they
    /// run no replica (see `Standby`); replaces the previous declaration.
    public struct ServicesDocument: Codable, Sendable {
        public var formatVersion = 1
        public var standby: [StandbyService]
        public init(standby: [StandbyService]) { self.standby = standby.sorted { $0.service < $1.service } }
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
