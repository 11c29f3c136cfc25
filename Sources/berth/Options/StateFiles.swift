import BerthCore
import BerthEngine
import BerthProxy
import Foundation

/// The files of a project's state folder (`--state-dir`, the same folder for watch, apply,
/// proxy, journal, history --applied and status), opened as the commands need them.
enum StateFiles {
    /// The journal, created with its folder when missing (for commands that write it).
    static func openJournal(_ directory: String) throws -> Journal {
        do {
            return try Journal(path: directory + "/journal.sqlite")
        } catch {
            throw CommandFailure(
                "error: cannot open the journal in \(directory): \(error); pass --state-dir naming a folder you can write")
        }
    }

    /// The journal when one exists (for commands that only read it); nil when there is none yet.
    static func existingJournal(_ directory: String) -> Journal? {
        guard FileManager.default.fileExists(atPath: directory + "/journal.sqlite") else { return nil }
        return try? Journal(path: directory + "/journal.sqlite", create: false)
    }

    /// The held-back rollouts the journal records (the same rule as `berth watch` resuming:
    /// a service's latest update that was rolled back or paused), and the controls
    /// (`controls.json`) that `desired` leaves in force: what `status` shows beside git and
    /// the runtime; and the replicas the project's `berth proxy` (its state file in the same
    /// folder) holds drained by hand.
    static func statusContext(_ directory: String, project: String, desired: DesiredState) async -> StatusContext {
        var held: [String: HeldRollout] = [:]
        if let journal = existingJournal(directory), let updates = try? await journal.latestUpdates() {
            for u in updates where u.outcome == .rolledBack || u.outcome == .paused {
                guard let revision = u.revision else { continue }
                held[u.service] = HeldBack(
                    service: u.service, revision: revision, commit: u.commit, message: u.message, outcome: u.outcome,
                    failedAt: u.ended
                ).rollout
            }
        }
        let controls = (try? ControlsStore(stateDirectory: directory).read()) ?? ProjectControls()
        let drains = await ProxyRouter(stateDirectory: directory, project: project).handDrains()
        return StatusContext(heldBack: held, controls: controls.inForce(desired), handDrains: drains)
    }
}
