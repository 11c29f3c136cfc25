import BerthGit
import BerthTestSupport
import Foundation
import Synchronization
import Testing
@testable import berth

/// The repository that age secrets are read from is opened on first use, and again when a
/// secret's blob is newer than the last open (for a remote, `berth watch` and `berth apply`
/// fetch it into the mirror cache). Every step checks its service's secrets before it
/// changes anything, and the steps of one wave run at once, one task per service.
@Suite struct SecretRepositoryTests {
    /// Eight services of a wave read a secret at once from a handle not opened yet, the
    /// repository a remote (file:// URL, mirrored as for a real remote): every read gets the
    /// secret, and the repository is fetched once. Before: 8 fetches into one mirror, and 1
    /// to 7 reads failed on its lock files (config.lock, refs/heads/main.lock).
    @Test func servicesReadingSecretsAtOnceFetchTheRepositoryOnce() async throws {
        let origin = try GitRepoBuilder()
        defer { origin.cleanup() }
        try origin.write("secrets/db.age", "ciphertext\n")
        _ = try origin.commit("secret")
        let blob = try #require(ObjectID(hex: try origin.git("rev-parse", "HEAD:secrets/db.age").trimmingCharacters(in: .whitespacesAndNewlines)))
        let cache = try TemporaryDirectory()
        defer { cache.remove() }
        let url = "file://" + origin.path
        let opens = Atomic<Int>(0)
        let handle = RepositoryHandle {
            opens.add(1, ordering: .relaxed)
            return try await GitRepository.open(location: url, mirrorCacheRoot: cache.path, credentials: .init())
        }
        let results = await withTaskGroup(of: Result<[UInt8], any Error>.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    do { return .success(try await handle.blob(blob)) } catch { return .failure(error) }
                }
            }
            var out: [Result<[UInt8], any Error>] = []
            for await r in group { out.append(r) }
            return out
        }
        let failures = results.compactMap { r -> String? in if case .failure(let e) = r { "\(e)" } else { nil } }
        #expect(failures == [], "every replica reads its secret")
        #expect(results.compactMap { try? $0.get() }.allSatisfy { $0 == Array("ciphertext\n".utf8) })
        #expect(opens.load(ordering: .relaxed) == 1, "one fetch for the eight reads")
    }
}
