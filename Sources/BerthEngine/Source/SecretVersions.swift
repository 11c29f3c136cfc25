import BerthCore
import BerthGit

/// Secrets live in the repository encrypted, one file per secret: `secrets/NAME.age` at the
/// repository's root. A service that uses a secret gets, in `container.secretVersions`, the
/// git id of that file at the commit: the id of ciphertext, which tells nothing about the
/// value, changes whenever the file does (so a changed secret rolls out, and `diff` says
/// "secret changed" without showing anything), and names the blob the runtime decrypts at
/// apply time. A secret with no file is an error at the service, so the commit is invalid
/// and what runs is kept.
extension GitDesiredStateSource {
    /// The file of secret `name`, relative to the repository's root.
    public static func secretPath(_ name: String) -> String { "secrets/\(name).age" }

    func addingSecretVersions(_ state: DesiredState, commit: ObjectID) async throws -> DesiredState {
        var state = state
        for name in state.services.keys.sorted() {
            guard let spec = state.services[name], !spec.container.secretNames.isEmpty else { continue }
            var versions: [String: String] = [:]
            for secret in spec.container.secretNames {
                let path = Self.secretPath(secret)
                if let entry = try await repository.entry(at: path, in: commit), entry.kind == .blob {
                    versions[secret] = entry.id.hex
                } else {
                    let place = spec.source ?? SourceRef(file: "", line: 0, column: 0)
                    state.diagnostics.append(Diagnostic(
                        .error, file: place.file, line: place.line, column: place.column, path: "spec",
                        message: "secret \"\(secret)\" has no file \(path) at commit \(commit.short); encrypt one with `age -r RECIPIENT -o \(path)` (README: Secrets) and commit it"))
                }
            }
            state.services[name]?.container.secretVersions = versions
        }
        return state
    }
}
