import BerthYAML

/// The `berth/v1` Service format, field by field: the one table that `berth validate`,
/// `plan`, `diff`, `watch` and every other reader of manifests decode by.
///
/// To add a field: add its property (with its default) to the model (`ServiceSpec`, or the
/// object it belongs to), then one entry here: its name, its value type (how it is read and
/// checked), and where it goes (`{ $0.workingDir = $1 }`); `.required(…, missing:)` if it
/// must be given. A new value type goes into `ValueTypes.swift`; rules across fields go into
/// the schema's `check`.
enum ManifestSchema {
    static let apiVersion = "berth/v1"
    static let kind = "Service"

    /// The top level: which parts the object has (read on by `ServiceDecoder`).
    static let object = Schema<TopLevel>([
        .required("apiVersion", .node, missing: "add \"apiVersion: \(apiVersion)\"") { $0.apiVersion = $1 },
        .required("kind", .node, missing: "add \"kind: \(kind)\"") { $0.kind = $1 },
        .required("metadata", .node, missing: "add metadata with the service's name") { $0.metadata = $1 },
        .required("spec", .node, missing: "add a spec with at least the image to run") { $0.spec = $1 },
    ])

    static let metadata = Schema<Metadata>([
        .required("name", .serviceName, missing: "add \"name: SERVICE\" under metadata") { $0.name = $1 },
        .field("labels", .labels) { $0.labels = $1 },
    ])

    static let spec = Schema<ServiceSpec>(
        [
            .required("image", .image, missing: "add \"image: REPOSITORY:TAG\" under spec") { $0.image = $1 },
            .field("replicas", .integer(atLeast: 0, atMost: ManifestLimits.replicas, unit: "replicas")) { $0.replicas = $1 },
            .field("command", .strings(example: #"["/bin/httpd", "-f"]"#)) { $0.command = $1 },
            Field("env", missing: nil) { r, node, path, spec in r.environment(node, path, into: &spec) },
            .field("ports", .ports) { $0.ports = $1 },
            .field("dependsOn", .dependencies) { $0.dependsOn = $1 },
            .field("health", .object(health, HealthCheck(probe: .tcp(port: 0)))) { $0.health = $1 },
            .field("update", .object(update, UpdatePolicy())) { $0.update = $1 },
            .field("stopGracePeriod", .duration()) { $0.stopGracePeriod = $1 },
            .field("restart", .oneOf([RestartPolicy.always, .onFailure, .never])) { $0.restart = $1 },
            .field("resources", .object(resources, Resources())) { $0.resources = $1 },
            .field("autoscale", .object(autoscale, Autoscale(min: 0, max: 0))) { $0.autoscale = $1 },
            .field("pullPolicy", .oneOf([PullPolicy.ifNotPresent, .always])) { $0.container.pullPolicy = $1 },
            .field("volumes", .volumes) { $0.container.volumes = $1 },
            .field("secrets", .secretFiles) { $0.container.secretFiles = $1 },
            .field("envFrom", .envFiles) { $0.container.envFiles = $1 },
            .field("entrypoint", .strings(example: #"["/bin/sh", "-c"]"#)) { $0.container.entrypoint = $1 },
            .field("user", .user) { $0.container.user = $1 },
            .field("workingDir", .absolutePath) { $0.container.workingDir = $1 },
            .field("readOnly", .boolean) { $0.container.readOnlyRootFilesystem = $1 },
            .field("capabilities", .object(capabilities, Capabilities())) { $0.container.capabilities = $1 },
            .field("init", .boolean) { $0.container.initProcess = $1 },
        ],
        check: { r, spec, fields, _ in checkWorkload(&r, &spec, fields) })

    /// One item of `spec.ports` (the list's rules, such as a port listed twice, are `.ports`').
    static let port = Schema<PortSpec>(
        [
            .required("containerPort", .port, missing: "add the port the container listens on") { $0.containerPort = $1 },
            .field("publish", .port) { $0.publish = $1 },
            .field("protocol", .oneOf([PortProtocol.tcp, .udp])) { $0.protocol = $1 },
        ],
        check: { r, port, fields, path in
            // The balancer forwards TCP only.
            guard port.protocol == .udp, port.publish != nil, let node = fields.value("publish") else { return true }
            r.error(
                at: r.mark(node), FieldReader.join(path(), "publish"),
                "a UDP port cannot be published: Berth's balancer forwards TCP only; remove publish (other services still reach UDP port \(port.containerPort) by the service's name)")
            return false
        })

    static let health = Schema<HealthCheck>(
        [
            .field("http", .probe(httpProbe, HTTPProbe()) { .http(path: $0.path, port: $0.port) }) { $0.probe = $1 },
            .field("tcp", .probe(tcpProbe, TCPProbe()) { .tcp(port: $0.port) }) { $0.probe = $1 },
            .field("exec", .probe(execProbe, ExecProbe()) { .exec(command: $0.command) }) { $0.probe = $1 },
            .field("interval", .duration(positive: true)) { $0.interval = $1 },
            .field("timeout", .duration(positive: true)) { $0.timeout = $1 },
            .field("startPeriod", .duration()) { $0.startPeriod = $1 },
            .field("failureThreshold", .integer(atLeast: 1, atMost: ManifestLimits.failureThreshold, unit: "failures")) { $0.failureThreshold = $1 },
        ],
        oneOf: (
            ["http", "tcp", "exec"], "probe",
            "expected one probe: http, tcp or exec, found none; add e.g. \"http: {path: /healthz, port: 8080}\""
        ))

    static let httpProbe = Schema<HTTPProbe>([
        .field("path", .urlPath) { $0.path = $1 },
        .required("port", .port, missing: "add the container port to probe") { $0.port = $1 },
    ])

    static let tcpProbe = Schema<TCPProbe>([
        .required("port", .port, missing: "add the container port to probe") { $0.port = $1 }
    ])

    static let execProbe = Schema<ExecProbe>([
        .required("command", .strings(example: #"["/bin/true"]"#), missing: #"add the command to run, e.g. ["/bin/true"]"#) { $0.command = $1 }
    ])

    static let update = Schema<UpdatePolicy>(
        [
            .field("strategy", .oneOf([UpdatePolicy.Strategy.rolling, .recreate])) { $0.strategy = $1 },
            .field("maxSurge", .countOrPercent) { $0.maxSurge = $1 },
            .field("maxUnavailable", .countOrPercent) { $0.maxUnavailable = $1 },
            .field("progressDeadline", .duration(positive: true)) { $0.progressDeadline = $1 },
            .field("onFailure", .oneOf([UpdatePolicy.OnFailure.rollback, .pause])) { $0.onFailure = $1 },
        ],
        check: { r, policy, fields, path in
            // A rolling update needs room to replace a replica.
            let (strategy, surge, unavailable) = ("strategy", "maxSurge", "maxUnavailable")
            guard policy.strategy == .rolling, !fields.failed(strategy), !fields.failed(surge), !fields.failed(unavailable),
                policy.maxSurge.isZero, policy.maxUnavailable.isZero
            else { return true }
            let (field, mark) = fields.value(surge).map { ("maxSurge", r.mark($0)) }
                ?? ("maxUnavailable", r.mark(fields.value(unavailable) ?? fields.mapping))
            r.error(
                at: mark, FieldReader.join(path(), field),
                "maxSurge and maxUnavailable cannot both be 0: a rolling update could never replace a replica; set maxSurge to 1")
            return false
        })

    static let resources = Schema<Resources>([
        .field("cpus", .cpus) { $0.milliCPUs = $1 },
        .field("memory", .memory) { $0.memory = $1 },
    ])

    static let autoscale = Schema<Autoscale>(
        [
            .required("min", .integer(atLeast: 0, atMost: ManifestLimits.replicas, unit: "replicas"), missing: "add the fewest replicas to run") { $0.min = $1 },
            .required("max", .integer(atLeast: 1, atMost: ManifestLimits.replicas, unit: "replicas"), missing: "add the most replicas to run") { $0.max = $1 },
            .field("targetRequestsPerSecond", .integer(atLeast: 1, atMost: ManifestLimits.requestsPerSecond, unit: "requests per second")) {
                $0.targetRequestsPerSecond = $1
            },
            .field("scaleDownDelay", .duration()) { $0.scaleDownDelay = $1 },
        ],
        check: { r, scale, fields, path in
            let (min, max) = ("min", "max")
            guard fields.has(min), fields.has(max), !fields.failed(min), !fields.failed(max), scale.min > scale.max else { return true }
            r.error(at: r.mark(fields.value(min)!), FieldReader.join(path(), "min"), "expected at most max (\(scale.max)), found \(scale.min)")
            return false
        })

    // MARK: Models of the parts that are not model types themselves

    /// The four parts of the top level, as nodes.
    struct TopLevel: Sendable {
        var apiVersion = NodeID.none
        var kind = NodeID.none
        var metadata = NodeID.none
        var spec = NodeID.none
    }

    struct Metadata: Sendable {
        var name: ServiceName?
        var labels: [String: String] = [:]
    }

    /// A service's name and where it was written (the service's place in every message).
    struct ServiceName: Sendable {
        var text: String
        var mark: Mark
    }

    struct HTTPProbe: Sendable {
        var path = "/"
        var port = 0
    }

    struct TCPProbe: Sendable {
        var port = 0
    }

    struct ExecProbe: Sendable {
        var command: [String] = []
    }
}

extension IntOrPercent {
    var isZero: Bool {
        switch self {
        case .count(let n), .percent(let n): n == 0
        }
    }
}
