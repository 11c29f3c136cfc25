import ArgumentParser
import BerthCore
import Foundation

/// Shell completion of SERVICE arguments (`berth --generate-completion-script bash|zsh|fish`):
/// the services of the desired state at HEAD of the repository the command line names
/// (`--repo`, `--path`; default: the current directory's), those starting with what is typed.
/// Nothing when there is no such repository: completion never prints an error.
enum ServiceCompletion {
    static let kind = CompletionKind.custom { @Sendable (words: [String], _: Int, prefix: String) async -> [String] in
        await names(words: words, prefix: prefix)
    }

    static func names(words: [String], prefix: String) async -> [String] {
        var source = SourceOptions()
        source.repo = value(of: "--repo", in: words)
        source.ref = value(of: "--ref", in: words) ?? "HEAD"
        source.path = value(of: "--path", in: words)
        guard let desired = try? await source.loadDesiredState() else { return [] }
        return desired.services.keys.filter { $0.hasPrefix(prefix) }.sorted()
    }

    /// `--name VALUE` or `--name=VALUE` among `words`.
    static func value(of name: String, in words: [String]) -> String? {
        for (i, word) in words.enumerated() {
            if word == name, i + 1 < words.count { return words[i + 1] }
            if word.hasPrefix(name + "=") { return String(word.dropFirst(name.count + 1)) }
        }
        return nil
    }
}
