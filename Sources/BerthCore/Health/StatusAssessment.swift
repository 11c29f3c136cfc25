/// One row of `status`: what Berth means a service to run now, how what runs measures up to
/// it, and why that differs from git.
///
/// Without a context it is git against what runs (`ServiceHealth.assess`). With one:
/// - a **held-back rollout** (rolled back): the revision it was rolled back to, at git's
///   count, is what should serve — `Healthy` when it does — `OutOfSync` with git, and the
///   message says `rollout of REV (commit) failed at TIME: reason; held back until a newer
///   commit`; a paused one counts every running instance, old and new;
/// - an **invalid newest commit**: nothing of it is applied, so a service that differs from
///   it (or that it no longer loads) is `held back as it runs`, never `would be pruned`;
/// - a **pin** (`berth rollback`): the pinned revision at git's count is what should serve;
///   a **replica override** (`berth scale`): its count; a **suspension**: said, nothing else
///   changes. Sync stays against git, so a pinned or overridden service is `OutOfSync`;
/// - a replica **drained by hand** in the balancer: not counted as ready (it serves no new
///   client), marked `drainedByHand` with the time, and said in the message; when fewer
///   replicas serve than desired because of it, the service is `Degraded` — Berth will not
///   put it back by itself, a person has to (`POST /v1/ready`), and every replica drained is
///   an outage that the runtime alone calls healthy.
enum StatusAssessment {
    static func service(
        _ name: String, desired: DesiredState, spec: ServiceSpec?, observed: ObservedService, context: StatusContext
    ) -> StatusReport.Service {
        let drains = handDrains(of: observed.instances, in: context)
        let instances = observed.instances.map { instance in
            var marked = instance
            marked.drainedByHand = drains[instance.id]?.since
            return marked
        }
        let control = context.controls[service: name]
        var notes: [String] = []
        var row = StatusReport.Service(
            name: name, image: "", revision: "", desiredReplicas: 0, readyReplicas: 0, instances: instances,
            dependsOn: spec?.dependsOn.sorted() ?? observed.dependsOn, sync: .outOfSync, health: .missing, message: "")

        // What should run: git's spec, unless a held-back rollout or an invalid commit says otherwise.
        var revision = spec?.revision
        var image = spec?.image
        var replicas = spec?.replicas ?? 0
        var anyRevisionServes = false

        if let spec, let held = context.heldBack[name], held.revision == spec.revision.id {
            row.heldBack = held
            notes.append(held.sentence)
            if held.isPaused {
                anyRevisionServes = true
            } else if let running = mostCommonRevision(instances, except: held.revision) {
                revision = running.revision
                image = running.image ?? image
            }
        } else if desired.hasErrors, !instances.isEmpty, spec.map({ !isSynced(instances, $0) }) ?? true {
            let errors = desired.diagnostics.filter { $0.severity == .error }.count
            row.invalidCommit = StatusReport.InvalidCommitMark(commit: desired.commit, errors: errors)
            notes.append(StatusContext.invalidSentence(desired))
            if let running = mostCommonRevision(instances, except: nil) {
                revision = running.revision
                image = running.image ?? image
            }
            replicas = instances.count
        }
        if let spec, let pin = control.pin, spec.revision.id == pin.gitRevision {
            revision = pin.spec.revision
            image = pin.spec.image
            row.pinned = StatusReport.PinStatus(
                revision: pin.revision, commit: pin.commit, gitRevision: pin.gitRevision, by: pin.mark.by, at: pin.mark.at)
            notes.append(pin.sentence)
        }
        if let spec, let scale = control.scale, spec == scale.gitSpec {
            replicas = scale.replicas
            row.scaled = StatusReport.ScaleStatus(
                replicas: scale.replicas, gitReplicas: spec.replicas, by: scale.mark.by, at: scale.mark.at)
            notes.append(scale.sentence)
        }
        if let suspension = context.controls.suspension(of: name) {
            row.suspended = suspension
            notes.append(suspension.suspensionSentence(project: control.suspended == nil))
        }
        // A running replica drained by hand counts as one that does not serve yet.
        let counted = instances.map { instance in
            var counted = instance
            if drains[instance.id] != nil, instance.state == .running { counted.state = .starting }
            return counted
        }
        var health: ServiceHealth
        if let revision, spec != nil || row.invalidCommit != nil {
            health = anyRevisionServes
                ? serving(replicas: replicas, instances: counted)
                : ServiceHealth.assess(revision: revision, replicas: replicas, instances: counted)
        } else {
            health = ServiceHealth.assess(desired: nil, instances: counted)
        }
        if !drains.isEmpty {
            if health.readyReplicas < health.desiredReplicas { health.status = .degraded }
            notes.append(HandDrain.note(drains.values.sorted { $0.instance < $1.instance }))
        }
        row.image = image ?? instances.first?.image ?? ""
        row.revision = spec == nil && row.invalidCommit == nil ? "" : (revision?.id ?? "")
        row.desiredReplicas = health.desiredReplicas
        row.readyReplicas = health.readyReplicas
        row.health = health.status
        // Sync is always against git.
        row.sync = spec.map { isSynced(instances, $0) ? .synced : .outOfSync } ?? .outOfSync
        row.message = ([health.message] + notes).joined(separator: "; ")
        row.notes = notes
        return row
    }

    /// The drains by hand of `instances` that still run (a stopped replica's drain says nothing
    /// more than its state), by instance id.
    static func handDrains(of instances: [Instance], in context: StatusContext) -> [String: HandDrain] {
        guard !context.handDrains.isEmpty else { return [:] }
        let running = Set(instances.filter { $0.state != .exited }.map(\.id))
        var out: [String: HandDrain] = [:]
        for drain in context.handDrains where running.contains(drain.instance) { out[drain.instance] = drain }
        return out
    }

    /// Every instance runs git's revision, at git's count.
    static func isSynced(_ instances: [Instance], _ spec: ServiceSpec) -> Bool {
        instances.count == spec.replicas && instances.allSatisfy { $0.revision == spec.revision }
    }

    /// The revision most instances run (running ones count first; ties: the smaller id),
    /// leaving out `except`; with its image.
    static func mostCommonRevision(_ instances: [Instance], except: String?) -> (revision: Revision, image: String?)? {
        var counts: [Revision: (running: Int, all: Int, image: String?)] = [:]
        for i in instances where i.revision.id != except {
            var c = counts[i.revision] ?? (0, 0, i.image)
            c.all += 1
            if i.state == .running { c.running += 1 }
            counts[i.revision] = c
        }
        guard let best = counts.max(by: { a, b in
            (a.value.running, a.value.all, b.key.id) < (b.value.running, b.value.all, a.key.id)
        }) else { return nil }
        return (best.key, best.value.image)
    }

    /// A paused rollout: every running instance serves, whatever its revision.
    static func serving(replicas want: Int, instances: [Instance]) -> ServiceHealth {
        let sorted = instances.sorted { $0.id < $1.id }
        let failing = sorted.filter(\.isFailing)
        let ready = sorted.filter { $0.state == .running }.count
        let counts = "\(ready) of \(want) replica\(want == 1 ? "" : "s") serve"
        func result(_ status: HealthStatus, _ message: String) -> ServiceHealth {
            ServiceHealth(status: status, sync: .outOfSync, message: message, desiredReplicas: want, readyReplicas: ready)
        }
        if !failing.isEmpty {
            return result(.degraded, counts + "; " + failing.compactMap(\.failureDescription).joined(separator: "; "))
        }
        if sorted.isEmpty { return want == 0 ? result(.healthy, "scaled to 0") : result(.missing, "no instances running (\(want) desired)") }
        return result(ready >= want ? .healthy : .progressing, counts)
    }
}
