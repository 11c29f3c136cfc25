import Synchronization

/// How the new instances of a service's current step failed: which exited before they
/// became healthy, and whether anything else failed. The executor moves it into the step's
/// report; the pipeline then tells a crash (counted by the crash-loop backoff) from a
/// replacement killed from outside while it waited for its health check (healed at once).
final class StartFailures: Sendable {
    private struct Note { var exited: [String] = []; var otherwise = false }
    private let note = Mutex(Note())

    func exited(_ instance: String) { note.withLock { $0.exited.append(instance) } }
    func failedOtherwise() { note.withLock { $0.otherwise = true } }

    /// What was noted since the last call (sorted), and forgets it.
    func take() -> (exited: [String], otherwise: Bool) {
        note.withLock { note in
            defer { note = Note() }
            return (note.exited.sorted(), note.otherwise)
        }
    }
}
