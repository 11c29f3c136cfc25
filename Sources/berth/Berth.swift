import ArgumentParser

@main
struct Berth: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "berth",
        abstract: "A declarative GitOps reconciler for containers.",
        discussion: """
            Desired state lives in a git repository of berth/v1 manifests. Berth reads it \
            straight from git, compares it with what runs, and applies ordered plans.
            """,
        version: BerthVersion.current,
        subcommands: [
            ValidateCommand.self,
            PlanCommand.self,
            DiffCommand.self,
            HistoryCommand.self,
            ApplyCommand.self,
            StatusCommand.self,
            WatchCommand.self,
            JournalCommand.self,
            ProxyCommand.self,
        ]
    )
}

enum BerthVersion {
    static let current = "0.1.0-dev"
}
