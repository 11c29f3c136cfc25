import BerthEngine
import Foundation

/// Prints apply progress to standard error, one line per event, as it happens.
struct ProgressPrinter: Sendable {
    func callAsFunction(_ event: ApplyEvent) {
        FileHandle.standardError.write(Data((event.line + "\n").utf8))
    }
}
