import ArgumentParser
import Foundation

/// `--state-dir DIR`: the project's state folder, shared by every command that reads or
/// writes it (its journal, lease, controls and proxy address).
struct StateOptions: ParsableArguments {
    @Option(name: .customLong("state-dir"), help: StateOptions.help)
    var stateDir: String?

    /// The one help text of `--state-dir`, in every command that takes it.
    static let help = ArgumentHelp(
        "The project's state folder (journal, lease, controls, proxy address), the same for every command (default: $BERTH_STATE_DIR/<project>, else $XDG_STATE_HOME/berth/<project>, else ~/.local/state/berth/<project>).",
        valueName: "DIR")

    func directory(project: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        StateFolder.path(stateDir, project: project, environment: environment)
    }
}

/// Where a project's state lives: `--state-dir`, else `$BERTH_STATE_DIR/<project>`, else
/// `$XDG_STATE_HOME/berth/<project>`, else `~/.local/state/berth/<project>`.
/// `BERTH_STATE_DIR` holds one folder per project, so one value set for every job (as the
/// git cache's root it was) never makes two projects share a journal, lease or controls.
/// The git caches are elsewhere (`SourceOptions.cacheRoot`).
enum StateFolder {
    static func path(_ flag: String?, project: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let flag { return flag }
        let byDefault = standard(project: project, environment: environment)
        guard let variable = environment["BERTH_STATE_DIR"], !variable.isEmpty else { return byDefault }
        let folder = "\(variable)/\(project)"
        // BERTH_STATE_DIR named the git cache before it held the state folders: a journal
        // left at the old default while none is in BERTH_STATE_DIR is worth a word.
        let manager = FileManager.default
        if !manager.fileExists(atPath: folder + "/journal.sqlite"), manager.fileExists(atPath: byDefault + "/journal.sqlite") {
            ProjectFile.warnOnce(
                "warning: BERTH_STATE_DIR (\(variable)) holds each project's state folder now (\(folder)); it named the git cache before (now BERTH_CACHE_DIR). Project \(project)'s journal is still in \(byDefault): pass --state-dir \(byDefault), or move its files to \(folder)")
        }
        return folder
    }

    /// The folder without flag or `BERTH_STATE_DIR`.
    static func standard(project: String, environment: [String: String]) -> String {
        if let xdg = environment["XDG_STATE_HOME"], !xdg.isEmpty { return "\(xdg)/berth/\(project)" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return "\(home)/.local/state/berth/\(project)"
    }
}
