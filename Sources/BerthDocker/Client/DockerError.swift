/// A failure talking to the Docker Engine: what Berth was doing, what the engine said.
/// The description is the line an operator sees:
/// `creating container shop-booking-…: No such image: shop/booking:9.9`.
public struct DockerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Extensible: new codes may be added, so switch with a `default`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, Hashable {
            case daemonUnreachable, badEndpoint, notFound, conflict, notModified, engine, protocolError,
                timedOut, registryUnreachable, pullFailed
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// No engine answers at the endpoint (socket missing, connection refused).
        public static let daemonUnreachable = Code(.daemonUnreachable)
        /// `DOCKER_HOST` is malformed.
        public static let badEndpoint = Code(.badEndpoint)
        /// HTTP 404: no such container, image, network or exec.
        public static let notFound = Code(.notFound)
        /// HTTP 409: a name in use, a container not running, …
        public static let conflict = Code(.conflict)
        /// HTTP 304: already started / already stopped.
        public static let notModified = Code(.notModified)
        /// Any other engine error (HTTP 4xx/5xx).
        public static let engine = Code(.engine)
        /// The engine answered something Berth could not read.
        public static let protocolError = Code(.protocolError)
        /// Berth gave up waiting.
        public static let timedOut = Code(.timedOut)
        /// An image pull found no registry answering.
        public static let registryUnreachable = Code(.registryUnreachable)
        /// The registry answered a pull with an error ("manifest unknown", "unauthorized").
        public static let pullFailed = Code(.pullFailed)

        public var description: String { value.rawValue }
    }

    public var code: Code
    /// The whole sentence, starting with what Berth was doing.
    public var message: String
    /// The engine's own message (`{"message": …}`), when it sent one.
    public var engineMessage: String?
    /// The HTTP status, when the engine answered.
    public var status: Int?

    public init(_ code: Code, _ message: String, engineMessage: String? = nil, status: Int? = nil) {
        self.code = code
        self.message = message
        self.engineMessage = engineMessage
        self.status = status
    }

    public var description: String { message }
}
