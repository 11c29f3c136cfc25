import ArgumentParser
import Foundation

/// `--state-dir DIR`: the project's state folder, shared by the commands that read or
/// write it (its journal, lease, controls and proxy address), with watch's default.
struct StateOptions: ParsableArguments {
    @Option(name: .customLong("state-dir"), help: ArgumentHelp(
        "The project's state folder, shared with berth apply and berth watch: journal, lease, controls, proxy address (default: $XDG_STATE_HOME/berth/<project>, else ~/.local/state/berth/<project>).",
        valueName: "DIR"))
    var stateDir: String?

    func directory(project: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        stateDir ?? WatchCommand.defaultStateDir(project: project, environment: environment)
    }
}
