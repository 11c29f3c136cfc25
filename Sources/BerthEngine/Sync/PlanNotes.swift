public import BerthCore

/// What a sync's plan leaves undone on purpose, as notes of the plan (`Plan.notes`, the
/// "Not changed:" lines of `berth plan` and `berth apply`, `notes` in JSON), so that the
/// printed plan says why a service that git changed gets no step. Pure.
enum PlanNotes {
    /// - `deferred`: services left out by the overlays and the filter; a `frozen` one
    ///   (suspended) is a `suspended` note, the others (held back, crash-loop backoff) `deferred`.
    /// - `controls`: the pins and overrides in force on services of `git`.
    /// - `released`: those a newer commit ends; `readOnly` (a plan): said as what apply or
    ///   watch would do, since a plan releases nothing.
    static func notes(
        deferred: [DeferredService], frozen: Set<String>, controls: ProjectControls, git: DesiredState,
        released: [ReleasedControl], readOnly: Bool
    ) -> [PlanNote] {
        var out = deferred.map {
            PlanNote(kind: frozen.contains($0.service) ? .suspended : .deferred, service: $0.service, instances: [], message: $0.reason)
        }
        for name in controls.serviceNames where git.services[name] != nil {
            let control = controls[service: name]
            if let pin = control.pin { out.append(PlanNote(kind: .pinned, service: name, instances: [], message: pin.sentence)) }
            if let scale = control.scale { out.append(PlanNote(kind: .scaled, service: name, instances: [], message: scale.sentence)) }
        }
        for r in released {
            let what = r.kind == .pin ? "rollback pin" : "replica override"
            let message = readOnly ? "\(what) would be released by berth apply or berth watch: \(r.reason)" : "\(what) released: \(r.reason)"
            out.append(PlanNote(kind: .released, service: r.service, instances: [], message: message))
        }
        return out
    }
}

/// A runtime that only observes, and always the same state: what `berth plan` plans from
/// (what the Docker Engine reported, or an `--observed` file). Starting or removing an
/// instance is refused: a plan changes nothing.
public struct ObservedSnapshot: ContainerRuntime {
    public let state: ObservedState

    public init(_ state: ObservedState) { self.state = state }

    public func observe(project: String) async throws -> ObservedState { state }

    public func startInstance(_ request: InstanceRequest) async throws -> Instance {
        throw ReadOnlySnapshot(what: "start an instance of \(request.spec.name)")
    }

    public func removeInstance(id: String, grace: Millis) async throws {
        throw ReadOnlySnapshot(what: "remove instance \(id)")
    }

    struct ReadOnlySnapshot: Error, CustomStringConvertible {
        var what: String
        var description: String { "cannot \(what): a plan observes a snapshot and changes nothing" }
    }
}
