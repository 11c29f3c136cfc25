import BerthYAML

/// The `berth/v1` Service format, field by field: the one table that `berth validate`,
/// `plan`, `diff`, `watch` and every other reader of manifests decode by.
///
/// To add a field: add its property (with its default) to the model (`ServiceSpec`, or the
/// object it belongs to), then one entry here — its name, the key path, the value type (how
/// it is read and checked) — `.required(…, missing:)` if it must be given. A new value type
/// goes into `ValueTypes.swift`; rules across fields go into the schema's `check`.
enum ManifestSchema {
    static let apiVersion = "berth/v1"
    static let kind = "Service"

    /// The top level: which parts the object has (read on by `ServiceDecoder`).
    static let object = Schema<TopLevel>([
        .required("apiVersion", \.apiVersion, .node, missing: "add \"apiVersion: \(apiVersion)\""),
        .required("kind", \.kind, .node, missing: "add \"kind: \(kind)\""),
        .required("metadata", \.metadata, .node, missing: "add metadata with the service's name"),
        .required("spec", \.spec, .node, missing: "add a spec with at least the image to run"),
    ])

    static let metadata = Schema<Metadata>([
        .required("name", \.name, .serviceName, missing: "add \"name: SERVICE\" under metadata"),
        .field("labels", \.labels, .labels),
    ])

    static let spec = Schema<ServiceSpec>(
        [
        .required("image", \.image, .image, missing: "add \"image: REPOSITORY:TAG\" under spec"),
        .field("replicas", \.replicas, .integer(atLeast: 0, atMost: ManifestLimits.replicas, unit: "replicas")),
        .field("command", \.command, .strings(example: #"["/bin/httpd", "-f"]"#)),
        Field("env", missing: nil) { r, node, path, spec in r.environment(node, path, into: &spec) },
        .field("ports", \.ports, .ports),
        .field("dependsOn", \.dependsOn, .dependencies),
        .field("health", \.health, .object(health, HealthCheck(probe: .tcp(port: 0)))),
        .field("update", \.update, .object(update, UpdatePolicy())),
        .field("stopGracePeriod", \.stopGracePeriod, .duration()),
        .field("restart", \.restart, .oneOf([RestartPolicy.always, .onFailure, .never])),
        .field("resources", \.resources, .object(resources, Resources())),
        .field("autoscale", \.autoscale, .object(autoscale, Autoscale(min: 0, max: 0))),
        .field("pullPolicy", \.container.pullPolicy, .oneOf([PullPolicy.ifNotPresent, .always])),
        .field("volumes", \.container.volumes, .volumes),
        .field("secrets", \.container.secretFiles, .secretFiles),
        .field("envFrom", \.container.envFiles, .envFiles),
        .field("entrypoint", \.container.entrypoint, .strings(example: #"["/bin/sh", "-c"]"#)),
        .field("user", \.container.user, .user),
        .field("workingDir", \.container.workingDir, .absolutePath),
        .field("readOnly", \.container.readOnlyRootFilesystem, .boolean),
        .field("capabilities", \.container.capabilities, .object(capabilities, Capabilities())),
        .field("init", \.container.initProcess, .boolean),
        ],
        check: { r, spec, fields, _ in checkWorkload(&r, &spec, fields) })

    /// One item of `spec.ports` (the list's rules, such as a port listed twice, are `.ports`').
    static let port = Schema<PortSpec>(
        [
            .required("containerPort", \.containerPort, .port, missing: "add the port the container listens on"),
            .field("publish", \.publish, .port),
            .field("protocol", \.protocol, .oneOf([PortProtocol.tcp, .udp])),
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
            .field("http", \.probe, .probe(httpProbe, HTTPProbe()) { .http(path: $0.path, port: $0.port) }),
            .field("tcp", \.probe, .probe(tcpProbe, TCPProbe()) { .tcp(port: $0.port) }),
            .field("exec", \.probe, .probe(execProbe, ExecProbe()) { .exec(command: $0.command) }),
            .field("interval", \.interval, .duration(positive: true)),
            .field("timeout", \.timeout, .duration(positive: true)),
            .field("startPeriod", \.startPeriod, .duration()),
            .field("failureThreshold", \.failureThreshold, .integer(atLeast: 1, atMost: ManifestLimits.failureThreshold, unit: "failures")),
        ],
        oneOf: (
            ["http", "tcp", "exec"], "probe",
            "expected one probe: http, tcp or exec, found none; add e.g. \"http: {path: /healthz, port: 8080}\""
        ))

    static let httpProbe = Schema<HTTPProbe>([
        .field("path", \.path, .urlPath),
        .required("port", \.port, .port, missing: "add the container port to probe"),
    ])

    static let tcpProbe = Schema<TCPProbe>([
        .required("port", \.port, .port, missing: "add the container port to probe")
    ])

    static let execProbe = Schema<ExecProbe>([
        .required("command", \.command, .strings(example: #"["/bin/true"]"#), missing: #"add the command to run, e.g. ["/bin/true"]"#)
    ])

    static let update = Schema<UpdatePolicy>(
        [
            .field("strategy", \.strategy, .oneOf([UpdatePolicy.Strategy.rolling, .recreate])),
            .field("maxSurge", \.maxSurge, .countOrPercent),
            .field("maxUnavailable", \.maxUnavailable, .countOrPercent),
            .field("progressDeadline", \.progressDeadline, .duration(positive: true)),
            .field("onFailure", \.onFailure, .oneOf([UpdatePolicy.OnFailure.rollback, .pause])),
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
        .field("cpus", \.milliCPUs, .cpus),
        .field("memory", \.memory, .memory),
    ])

    static let autoscale = Schema<Autoscale>(
        [
            .required("min", \.min, .integer(atLeast: 0, atMost: ManifestLimits.replicas, unit: "replicas"), missing: "add the fewest replicas to run"),
            .required("max", \.max, .integer(atLeast: 1, atMost: ManifestLimits.replicas, unit: "replicas"), missing: "add the most replicas to run"),
            .field(
                "targetRequestsPerSecond", \.targetRequestsPerSecond,
                .integer(atLeast: 1, atMost: ManifestLimits.requestsPerSecond, unit: "requests per second")),
            .field("scaleDownDelay", \.scaleDownDelay, .duration()),
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
