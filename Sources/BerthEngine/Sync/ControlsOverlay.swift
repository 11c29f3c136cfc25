public import BerthCore
public import Foundation

/// The operator's controls (`ProjectControls`, from `<state-dir>/controls.json`) as an
/// overlay: a service pinned by `berth rollback` is planned at its pinned revision (with
/// git's count), one overridden by `berth scale` at its count, and a suspended service — or
/// every service of a suspended project — is frozen: no step of the sync touches it.
/// The pipeline hands it only the controls git leaves in force (`ProjectControls.inForce`).
public struct ControlsOverlay: DesiredStateOverlay {
    public init() {}
    public var name: String { "controls" }

    public func apply(to desired: DesiredState, context: OverlayContext) -> OverlayResult {
        let controls = context.controls
        guard !controls.isEmpty else { return OverlayResult(desired: desired) }
        let out = controls.applied(to: desired)
        var frozen: Set<String> = []
        var deferred: [DeferredService] = []
        let names = Set(desired.services.keys).union(context.observed.services.map(\.name)).sorted()
        for name in names {
            guard let suspension = controls.suspension(of: name) else { continue }
            frozen.insert(name)
            let project = controls.services[name]?.suspended == nil
            deferred.append(DeferredService(
                service: name,
                reason: "\(project ? "the project is suspended" : "suspended") by \(suspension.by) at \(suspension.at): "
                    + "berth apply and berth watch leave it alone until berth resume\(project ? "" : " " + name)"))
        }
        return OverlayResult(desired: out, deferred: deferred, frozen: frozen)
    }
}
