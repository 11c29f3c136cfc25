import BerthCore
import BerthEngine
import BerthGit
import Dispatch
import Foundation

/// Secrets encrypted with age (age-encryption.org; Debian's `age` package), one file per
/// secret, `secrets/NAME.age`, committed to the repository. The identity (private key) that
/// opens them lives only on the host, in the file `BERTH_AGE_KEY_FILE` names. Each value is
/// decrypted by `age --decrypt` from the committed blob (fed on stdin, read from stdout): it
/// exists in this process's memory and in the container, never in a file Berth writes
/// (secret files go to tmpfs), a label, the journal or any output.
struct AgeSecretSource: SecretSource {
    let keyFile: String
    let repository: RepositoryHandle

    /// The source for `BERTH_AGE_KEY_FILE`, or nil when it is not set (a service with
    /// secrets then fails its step, saying to set it).
    static func fromEnvironment(_ environment: [String: String], open: @escaping @Sendable () async throws -> GitRepository) -> AgeSecretSource? {
        guard let keyFile = environment["BERTH_AGE_KEY_FILE"], !keyFile.isEmpty else { return nil }
        return AgeSecretSource(keyFile: keyFile, repository: RepositoryHandle(open: open))
    }

    func values(for spec: ServiceSpec) async throws -> SecretValues {
        guard FileManager.default.isReadableFile(atPath: keyFile) else {
            throw SecretError("secret\(spec.container.secretNames.count == 1 ? "" : "s") \(Self.list(spec.container.secretNames)) of service \(spec.name): BERTH_AGE_KEY_FILE=\(keyFile) is not a readable file; point it at the age identity file (age-keygen -o FILE) whose public key encrypted them")
        }
        var values: [String: [UInt8]] = [:]
        for name in spec.container.secretNames {
            let path = GitDesiredStateSource.secretPath(name)
            guard let version = spec.container.secretVersions[name], let id = ObjectID(hex: version) else {
                throw SecretError("secret \"\(name)\" of service \(spec.name): no file \(path) at the commit")
            }
            let ciphertext: [UInt8]
            do {
                ciphertext = try await repository.blob(id)
            } catch {
                throw SecretError("secret \"\(name)\" of service \(spec.name): cannot read \(path) (\(id.short)) from the repository: \(error)")
            }
            values[name] = try Self.decrypt(ciphertext, keyFile: keyFile, what: "secret \"\(name)\" of service \(spec.name) (\(path))")
        }
        return SecretValues(values)
    }

    static func list(_ names: [String]) -> String { names.map { "\"\($0)\"" }.joined(separator: ", ") }

    /// The age binary: the first of the usual places that holds one.
    static var executable: String? {
        ["/usr/bin/age", "/usr/local/bin/age", "/bin/age"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// `age --decrypt --identity KEYFILE`, `ciphertext` on stdin, the value from stdout; at
    /// most 30 s. age's own message on failure ("no identity matched any of the recipients").
    static func decrypt(_ ciphertext: [UInt8], keyFile: String, what: String) throws -> [UInt8] {
        guard let age = executable else {
            throw SecretError("\(what): the age program is not installed (apt-get install age)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: age)
        process.arguments = ["--decrypt", "--identity", keyFile]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        do { try process.run() } catch { throw SecretError("\(what): cannot run \(age): \(error)") }
        // Write and read at once: neither pipe may fill while the other waits.
        let writer = Thread {
            try? input.fileHandleForWriting.write(contentsOf: Data(ciphertext))
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let stderrReader = ErrorsReader(errors.fileHandleForReading)
        let watchdog = Watchdog(process)
        DispatchQueue.global().asyncAfter(deadline: .now() + 30) { watchdog.fire() }
        let value = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if watchdog.disarm() { throw SecretError("\(what): age did not finish within 30 s") }
        let message = stderrReader.text().trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0 else {
            throw SecretError("\(what) cannot be decrypted with BERTH_AGE_KEY_FILE=\(keyFile): \(message.isEmpty ? "age exited \(process.terminationStatus)" : message)")
        }
        return Array(value)
    }
}

/// Terminates a process that is still running 30 s on; `disarm` says whether it had to.
private final class Watchdog: @unchecked Sendable {  // state behind `lock`
    private let process: Process
    private let lock = NSLock()
    private var armed = true
    private var fired = false
    init(_ process: Process) { self.process = process }
    func fire() {
        lock.withLock {
            guard armed, process.isRunning else { return }
            fired = true
            process.terminate()
        }
    }
    func disarm() -> Bool { lock.withLock { armed = false; return fired } }
}

/// age's stderr, read on its own thread (it is short: one error line).
private final class ErrorsReader: @unchecked Sendable {  // `data` written once by the thread, read after `done`
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)
    init(_ handle: FileHandle) {
        Thread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }.start()
    }
    func text() -> String {
        _ = done.wait(timeout: .now() + 5)
        return String(decoding: data, as: UTF8.self)
    }
}

/// The repository secrets are read from: opened once, opened (fetched) again only when a
/// blob is not in it yet (a commit newer than the last fetch). One open at a time: the
/// services of a wave read their secrets at once, and two fetches into one mirror fail on
/// its lock files.
actor RepositoryHandle {
    private let open: @Sendable () async throws -> GitRepository
    private var repository: GitRepository?
    private var opening: Task<GitRepository, any Error>?

    init(open: @escaping @Sendable () async throws -> GitRepository) { self.open = open }

    func blob(_ id: ObjectID) async throws -> [UInt8] {
        if let repository, let blob = try? await repository.blob(id) { return blob }
        return try await reopen().blob(id)
    }

    /// Opens the repository afresh, or waits for the open under way.
    private func reopen() async throws -> GitRepository {
        if let opening { return try await opening.value }
        let task = Task { try await open() }
        opening = task
        defer { opening = nil }
        let fresh = try await task.value
        repository = fresh
        return fresh
    }
}
