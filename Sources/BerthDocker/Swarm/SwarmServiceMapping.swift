import Foundation
public import BerthCore

/// Names of what Berth creates in a Swarm.
public enum SwarmNaming {
    /// `<project>_<service>`, as `docker stack deploy` names a stack's services.
    public static func service(project: String, service: String) -> String { "\(project)_\(service)" }

    /// The project's attachable overlay network (the same name as the docker runtime's
    /// bridge network: one project runs on one runtime).
    public static func network(project: String) -> String { BerthNaming.network(project: project) }

    /// The label `docker stack ls/ps/services` group a stack's objects by.
    public static let stackNamespace = "com.docker.stack.namespace"
}

/// The pure mapping of one Berth service onto one Swarm service spec. No I/O: the same
/// spec, project and commit always give the same engine JSON (tests compare bytes).
///
/// What maps onto what:
/// - `<project>_<service>`, labelled `berth.*` and `com.docker.stack.namespace=<project>`
///   on the service; the task containers carry `berth.service`, `berth.revision`,
///   `berth.commit` and the stack label (not `berth.project`: the docker runtime of a node
///   must never take a Swarm task for one of its own instances).
/// - One attachable overlay network per project; the Berth name is the network alias, and
///   `endpoint_mode: dnsrr` (no IPVS needed): `customer` resolves to every task's address.
/// - Every `containerPort`, and the port of an `http`/`tcp` health check, is published in
///   host mode on an ephemeral port (PublishedPort absent): any number of tasks fit on a
///   node, and `berth proxy` finds each task's node address and port in its task status.
/// - `health` becomes the container's health check, so Swarm gates a task's `running`
///   state and an update on it: `http` runs `wget` (busybox and GNU; `curl` if there is no
///   wget) against 127.0.0.1 inside the container, `tcp` runs `nc -z` (or busybox `nc`),
///   `exec` runs the command. An image with neither wget nor curl needs an `exec` check.
/// - `update`: rolling with `maxSurge` > 0 is `start-first`, `maxSurge` tasks at a time;
///   with `maxSurge` 0 it is `stop-first`, `maxUnavailable` at a time; `recreate` is
///   `stop-first`, all at once. `onFailure` is the failure action (rollback | pause); the
///   rollback itself goes back the same way and pauses if it fails too. `Monitor` (how long
///   after a task started its failure still fails the update) is what the health check
///   needs to find a failure: `interval × (failureThreshold + 1) + timeout`, at least 1 s,
///   at most `progressDeadline`; without a check, 2 s. The whole `progressDeadline` is
///   Berth's to enforce while it waits (Swarm has no deadline for a rollout).
/// - `restart`: always → `any`, on-failure → `on-failure`, never → `none`, 500 ms apart
///   (Swarm's 5 s default would make healing ten times slower than Berth's own).
/// - `resources` → limits; `stopGracePeriod` → StopGracePeriod; `command` → Args (the
///   image's entrypoint stays, as with the docker runtime); `env` sorted `KEY=value`.
public enum SwarmServiceMapping {
    /// The restart delay of every task (see above).
    public static let restartDelay = Millis(500)

    public static func spec(for request: InstanceRequest) -> Engine.SwarmServiceSpec {
        let spec = request.spec
        let project = request.project
        var serviceLabels = BerthLabel.labels(for: request)
        serviceLabels[SwarmNaming.stackNamespace] = project
        var containerLabels = spec.labels
        containerLabels[BerthLabel.service] = spec.name
        containerLabels[BerthLabel.revision] = spec.revision.id
        containerLabels[BerthLabel.commit] = request.commit ?? ""
        containerLabels[SwarmNaming.stackNamespace] = project

        let container = Engine.ContainerSpec(
            Image: spec.image,
            Labels: containerLabels,
            Args: spec.command,
            Env: spec.env.isEmpty ? nil : spec.env.keys.sorted().map { "\($0)=\(spec.env[$0]!)" },
            StopGracePeriod: nanos(spec.stopGracePeriod),
            Healthcheck: spec.health.map(healthcheck))
        let limits = spec.resources.map {
            Engine.ResourceLimits(NanoCPUs: $0.milliCPUs.map { Int64($0) * 1_000_000 }, MemoryBytes: $0.memory)
        }
        let task = Engine.TaskSpec(
            ContainerSpec: container,
            Resources: limits.map { Engine.TaskResources(Limits: $0) },
            RestartPolicy: restartPolicy(spec.restart),
            Networks: [.init(Target: SwarmNaming.network(project: project), Aliases: [spec.name])],
            ForceUpdate: nil)
        let ports = publishedContainerPorts(spec).map {
            Engine.PortConfig(Protocol: "tcp", TargetPort: $0, PublishedPort: nil, PublishMode: "host")
        }
        let update = updateConfig(spec)
        return Engine.SwarmServiceSpec(
            Name: SwarmNaming.service(project: project, service: spec.name),
            Labels: serviceLabels,
            TaskTemplate: task,
            Mode: .init(Replicated: .init(Replicas: spec.replicas)),
            UpdateConfig: update,
            RollbackConfig: Engine.UpdateConfig(
                Parallelism: update.Parallelism, Delay: 0, FailureAction: "pause", Monitor: update.Monitor,
                MaxFailureRatio: 0, Order: update.Order),
            EndpointSpec: .init(Mode: "dnsrr", Ports: ports.isEmpty ? nil : ports))
    }

    /// The manifest fields `spec` sets that this mapping does not carry onto a Swarm service
    /// yet, by their manifest names, sorted. `applyService` refuses such a service rather
    /// than run it without them (a volume or a user silently missing is worse than an error).
    public static func unsupportedFields(_ spec: ServiceSpec) -> [String] {
        let c = spec.container
        var fields: [String] = []
        if c.entrypoint != nil { fields.append("entrypoint") }
        if c.user != nil { fields.append("user") }
        if c.workingDir != nil { fields.append("workingDir") }
        if c.readOnlyRootFilesystem { fields.append("readOnly") }
        if c.capabilities != nil { fields.append("capabilities") }
        if c.initProcess { fields.append("init") }
        if !c.volumes.isEmpty { fields.append("volumes") }
        if !c.secretNames.isEmpty { fields.append("secrets") }
        if !c.envFiles.isEmpty { fields.append("envFrom") }
        if spec.ports.contains(where: { $0.protocol == .udp }) { fields.append("ports (protocol: udp)") }
        return fields.sorted()
    }

    /// The container ports each task publishes in host mode: the spec's, and the port of an
    /// `http` or `tcp` health check (so `berth proxy` can probe a task from outside its
    /// node even when the check's port serves no traffic). Sorted.
    public static func publishedContainerPorts(_ spec: ServiceSpec) -> [Int] {
        var ports = Set(spec.ports.map(\.containerPort))
        if let port = spec.health.flatMap({ probePort($0.probe) }) { ports.insert(port) }
        return ports.sorted()
    }

    /// The port an `http` or `tcp` probe connects to; nil for `exec`.
    public static func probePort(_ probe: HealthCheck.Probe) -> Int? {
        switch probe {
        case .http(_, let port), .tcp(let port): port
        case .exec: nil
        }
    }

    /// The container health check of `check`.
    public static func healthcheck(_ check: HealthCheck) -> Engine.SwarmHealthConfig {
        let test: [String]
        switch check.probe {
        case .http(let path, let port):
            let url = shellQuoted("http://127.0.0.1:\(port)\(path.hasPrefix("/") ? path : "/" + path)")
            test = ["CMD-SHELL", "wget -q -O /dev/null \(url) || curl -fsS -o /dev/null \(url)"]
        case .tcp(let port):
            test = ["CMD-SHELL", "nc -z 127.0.0.1 \(port) 2>/dev/null || nc 127.0.0.1 \(port) </dev/null"]
        case .exec(let command):
            test = ["CMD"] + command
        }
        return Engine.SwarmHealthConfig(
            Test: test, Interval: nanos(check.interval), Timeout: nanos(check.timeout),
            Retries: check.failureThreshold, StartPeriod: nanos(check.startPeriod))
    }

    public static func restartPolicy(_ policy: RestartPolicy) -> Engine.SwarmRestartPolicy {
        let condition =
            switch policy {
            case .always: "any"
            case .onFailure: "on-failure"
            case .never: "none"
            }
        return Engine.SwarmRestartPolicy(Condition: condition, Delay: nanos(restartDelay), MaxAttempts: 0)
    }

    public static func updateConfig(_ spec: ServiceSpec) -> Engine.UpdateConfig {
        let policy = spec.update
        let replicas = max(spec.replicas, 1)
        let surge = policy.maxSurge.resolve(replicas: replicas, roundUp: true)
        let unavailable = policy.maxUnavailable.resolve(replicas: replicas, roundUp: false)
        let order: String
        let parallelism: Int
        switch policy.strategy {
        case .recreate:
            (order, parallelism) = ("stop-first", 0)
        case .rolling where surge > 0:
            (order, parallelism) = ("start-first", surge)
        case .rolling:
            (order, parallelism) = ("stop-first", max(unavailable, 1))
        }
        return Engine.UpdateConfig(
            Parallelism: parallelism, Delay: 0, FailureAction: policy.onFailure.rawValue,
            Monitor: nanos(monitor(spec)), MaxFailureRatio: 0, Order: order)
    }

    /// How long after a task started a failure still fails the update (see the type's
    /// comment).
    public static func monitor(_ spec: ServiceSpec) -> Millis {
        let wanted: Int64
        if let check = spec.health {
            wanted = max(
                1000,
                check.interval.milliseconds * Int64(check.failureThreshold + 1) + check.timeout.milliseconds)
        } else {
            wanted = 2000
        }
        return Millis(min(wanted, spec.update.progressDeadline.milliseconds))
    }

    static func nanos(_ duration: Millis) -> Int64 { duration.milliseconds * 1_000_000 }

    /// `text` in single quotes for /bin/sh.
    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
