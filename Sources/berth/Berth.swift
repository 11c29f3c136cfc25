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
            LogsCommand.self,
            ExecCommand.self,
            DownCommand.self,
            RollbackCommand.self,
            ScaleCommand.self,
            SuspendCommand.self,
            ResumeCommand.self,
        ]
    )

    /// `berth diff`, `berth history` and `berth validate` with plain arguments are read by `FastArguments`
    /// (ArgumentParser's reflection costs more than a small diff: see there); every other
    /// command line, including every one with an error or a help request, goes through
    /// ArgumentParser as before.
    static func main() async {
        PrivateFiles.restrictNewFiles()
        DescriptorLimit.raise()
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let version = fastVersion(arguments) {
            print(version)
            return
        }
        // Every failure ends in one place: text, or JSON with --format json.
        let json = ErrorReporting.wantsJSON(arguments)
        do {
            if var command = fastCommand(arguments) {
                try await command.run()
                return
            }
            var command = try await asyncParseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            ErrorReporting.exit(error, json: json)
        }
    }

    /// What ArgumentParser reads from `arguments` (tests compare `FastArguments` with it).
    static func argumentParserCommand(_ arguments: [String]) throws -> Any { try parseAsRoot(arguments) }

    /// What ArgumentParser prints and the exit status when it stops at `arguments` (help,
    /// `--version`, an error); nil when they name a command to run.
    static func argumentParserStop(_ arguments: [String]) -> (message: String, status: Int32)? {
        do {
            _ = try parseAsRoot(arguments)
            return nil
        } catch {
            return (fullMessage(for: error), exitCode(for: error).rawValue)
        }
    }

    /// The command `arguments` name when `FastArguments` can read them, else nil.
    static func fastCommand(_ arguments: [String]) -> (any AsyncParsableCommand)? {
        switch arguments.first {
        case "diff": DiffCommand.fastParse(arguments.dropFirst())
        case "history": HistoryCommand.fastParse(arguments.dropFirst())
        case "validate": ValidateCommand.fastParse(arguments.dropFirst())
        default: nil
        }
    }

    /// What `berth --version` prints, without ArgumentParser (which would first build every
    /// command's arguments by reflection: most of the process's start-up); nil for any
    /// other command line.
    static func fastVersion(_ arguments: [String]) -> String? {
        arguments == ["--version"] ? BerthVersion.current : nil
    }
}

enum BerthVersion {
    static let current = "0.1.0-dev"
}

/// A strict subset of a subcommand's command line, read without ArgumentParser: long
/// options (`--name VALUE`, `--name=VALUE`), long flags and positional arguments, each
/// option at most once. Anything else — a short or unknown option, `--`, a help request, a
/// repeated option, a missing or dash-leading value, `help` as an argument, too many
/// arguments — makes it nil, and the command line goes to ArgumentParser, which reads it
/// (or reports it) as always.
///
/// Why: ArgumentParser builds each command's arguments by reflection, and every first
/// dynamic cast to its protocols scans all of the binary's ~7,400 protocol conformance
/// records; `berth diff` spent ~22 M instructions there (callgrind), more than git spends
/// on a whole `git diff --stat`. The commands that use this check that it gives exactly
/// what ArgumentParser gives (BerthCLITests.FastArgumentsTests).
struct FastArguments {
    var positionals: [String] = []
    var options: [String: String] = [:]
    var flags: Set<String> = []

    init?(_ arguments: ArraySlice<String>, options optionNames: Set<String>, flags flagNames: Set<String>, maxPositionals: Int) {
        var i = arguments.startIndex
        while i < arguments.endIndex {
            let token = arguments[i]
            i += 1
            guard token.hasPrefix("-") else {
                guard token != "help", positionals.count < maxPositionals else { return nil }
                positionals.append(token)
                continue
            }
            guard token.hasPrefix("--"), token.count > 2 else { return nil }
            var name = String(token.dropFirst(2))
            var value: String? = nil
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            if flagNames.contains(name) {
                guard value == nil, !flags.contains(name) else { return nil }
                flags.insert(name)
            } else if optionNames.contains(name) {
                guard options[name] == nil else { return nil }
                if value == nil {
                    guard i < arguments.endIndex else { return nil }
                    value = arguments[i]
                    i += 1
                }
                guard let value, !value.isEmpty, !value.hasPrefix("-") else { return nil }
                options[name] = value
            } else {
                return nil
            }
        }
    }

    /// `--repo`, `--ref` and `--path` as `SourceOptions` (defaults as declared there).
    var source: SourceOptions {
        var source = SourceOptions()
        source.repo = options["repo"]
        source.ref = options["ref"] ?? "HEAD"
        source.path = options["path"]
        return source
    }

    static let sourceOptions: Set<String> = ["repo", "ref", "path"]
}
