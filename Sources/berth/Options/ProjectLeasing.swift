import BerthEngine
import Foundation

/// How `berth apply` and `berth watch` take the project lease (`ProjectLease`), and what
/// they say while another process holds it.
enum ProjectLeasing {
    /// `berth apply`: waits while another apply holds the project, saying who once (or, with
    /// `noWait`, fails at once); refuses at once when a watch holds it, since the watch
    /// applies every commit itself and an apply beside it would fight it.
    static func forApply(project: String, stateDirectory: String, noWait: Bool) async throws -> ProjectLease {
        let holder = ProjectLease.Holder(command: "berth apply")
        do {
            let lease = try await ProjectLease.acquire(stateDirectory: stateDirectory, holder: holder) { other in
                if let other, other.isWatch { throw CommandFailure(watchHolds(project: project, other)) }
                let who = Self.who(other, stateDirectory: stateDirectory)
                if noWait {
                    throw CommandFailure("error: project \(project) is in use by \(who); try again when it has finished, or leave out --no-wait to wait for it")
                }
                printError("waiting: project \(project) is in use by \(who); this apply starts when it has finished (--no-wait: exit instead)")
            }
            guard let lease else { throw CommandFailure("error: stopped while waiting for the project lease") }
            return lease
        } catch let error as LeaseError {
            throw CommandFailure("error: \(error)")
        }
    }

    /// `berth watch`: waits (logging who holds it) until the lease is free or a stop signal
    /// arrives (then nil).
    static func forWatch(
        project: String, stateDirectory: String, stopped: () -> Bool, log: (String) -> Void
    ) async throws -> ProjectLease? {
        do {
            return try await ProjectLease.acquire(
                stateDirectory: stateDirectory, holder: ProjectLease.Holder(command: "berth watch"),
                onWait: { other in
                    log("project \(project) is in use by \(who(other, stateDirectory: stateDirectory)); waiting for it to finish")
                }, shouldStop: stopped)
        } catch let error as LeaseError {
            throw CommandFailure("error: \(error)")
        }
    }

    static func who(_ holder: ProjectLease.Holder?, stateDirectory: String) -> String {
        holder?.description
            ?? "another berth process (its lease file \(ProjectLease.path(stateDirectory: stateDirectory)) does not say which)"
    }

    static func watchHolds(project: String, _ watch: ProjectLease.Holder) -> String {
        let how = watch.api.map { "(curl -X POST -H \"Authorization: Bearer $BERTH_API_TOKEN\" \($0)/api/v1/sync)" }
            ?? "on its --listen address"
        return "error: project \(project) is in use by \(watch.description), which applies every commit itself: "
            + "ask it to sync now with POST /api/v1/sync \(how), or stop it before applying by hand"
    }
}
