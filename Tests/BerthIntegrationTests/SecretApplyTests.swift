import BerthCore
import BerthDocker
import BerthTestSupport
import Foundation
import Testing

/// Issue 16, secrets encrypted in git (age): a value reaches the container as env and as a
/// file and is found in no output, no label; a changed secret rolls out and `diff` says so
/// without showing it; a wrong or missing key fails before anything stops, naming the secret.
@Suite(.serialized) struct SecretApplyTests {
    /// An age identity in a temporary folder and its public key (the recipient).
    struct Key {
        let folder: TemporaryDirectory
        var file: String { folder.path + "/key.txt" }
        let recipient: String
        init() throws {
            folder = try TemporaryDirectory(prefix: "berth-age")
            let made = try ProcessRunner.run(URL(fileURLWithPath: "/usr/bin/age-keygen"), ["-o", folder.path + "/key.txt"], timeout: .seconds(30))
            guard made.status == 0 else { throw TestFailure("age-keygen: \(made.stderr)") }
            recipient = try ProcessRunner.run(URL(fileURLWithPath: "/usr/bin/age-keygen"), ["-y", folder.path + "/key.txt"], timeout: .seconds(30))
                .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    static func encrypt(_ value: String, to recipient: String, into path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let r = try ProcessRunner.run(URL(fileURLWithPath: "/usr/bin/age"), ["-r", recipient, "-o", path], stdin: value, timeout: .seconds(30))
        guard r.status == 0 else { throw TestFailure("age -r: \(r.stderr)") }
    }

    static let manifest = """
        apiVersion: berth/v1
        kind: Service
        metadata: {name: api}
        spec:
          image: shop/customer:1.0
          replicas: 1
          env:
            MODE: plain
            DB_PASSWORD: {secret: db-password}
          secrets:
            - {name: tls-key, mountPath: /run/secrets/tls.key}
          health:
            http: {path: /healthz, port: 8080}
            interval: 200ms
          stopGracePeriod: 1s

        """

    @Test func aSecretReachesTheContainerAndNoOutputAndAWrongOrMissingKeyStopsNothing() async throws {
        let shop = try await Shop("secret")
        defer { shop.cleanup() }
        let key = try Key()
        defer { key.folder.remove() }
        let password = "pw-\(UInt64.random(in: 0...UInt64.max))"
        let tlsKey = "tls-\(UInt64.random(in: 0...UInt64.max))"
        try Self.encrypt(password + "\n", to: key.recipient, into: shop.repo.path + "/secrets/db-password.age")
        try Self.encrypt(tlsKey, to: key.recipient, into: shop.repo.path + "/secrets/tls-key.age")
        try shop.repo.write("manifests/api.yaml", Self.manifest)
        try shop.commit("api with two secrets")
        let withKey = ["BERTH_AGE_KEY_FILE": key.file]

        var outputs: [String] = []
        let plan = try shop.berth("plan", [], environment: withKey)
        #expect(plan.status == 0, "\(plan.stderr)")
        outputs += [plan.stdout, plan.stderr]
        let apply = try shop.berth("apply", ["--auto-approve"], environment: withKey)
        #expect(apply.status == 0, "\(apply.stderr)")
        outputs += [apply.stdout, apply.stderr]

        // In the container: the env value (its one trailing newline dropped) and the file.
        let first = try #require(try await shop.containers("api").first)
        let env = try await shop.runtime.client.exec(first.Id, ["/bin/busybox", "sh", "-c", "echo \"$DB_PASSWORD\""])
        #expect(env.stdout == password + "\n")
        let file = try await shop.runtime.client.exec(first.Id, ["/bin/busybox", "cat", "/run/secrets/tls.key"])
        #expect(file.stdout == tlsKey)
        outputs.append(try docker(["inspect", "--format", "{{json .Config.Labels}}", first.Id]).stdout)
        let status = try shop.berth("status", ["--format", "json"], environment: withKey)
        outputs += [status.stdout, status.stderr]

        // A new value: a new revision rolls out; diff says "secret changed", nothing more.
        let newPassword = "pw-\(UInt64.random(in: 0...UInt64.max))"
        try Self.encrypt(newPassword, to: key.recipient, into: shop.repo.path + "/secrets/db-password.age")
        try shop.commit("rotate db-password")
        let diff = try ProcessRunner.berth(["diff", "--repo", shop.repo.path, "HEAD~1", "HEAD"], environment: shop.environment)
        #expect(diff.status == 0, "\(diff.stderr)")
        #expect(diff.stdout.contains("secret.db-password"), "\(diff.stdout)")
        #expect(diff.stdout.contains("(secret changed)"), "\(diff.stdout)")
        outputs += [diff.stdout, diff.stderr]

        // A wrong key, then no key: the step fails naming the secret; what runs is kept.
        let other = try Key()
        defer { other.folder.remove() }
        let wrong = try shop.berth("apply", ["--auto-approve"], environment: ["BERTH_AGE_KEY_FILE": other.file])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains(
            "api: update failed: secret \"db-password\" of service api (secrets/db-password.age) cannot be decrypted with BERTH_AGE_KEY_FILE=\(other.file): age: error: no identity matched any of the recipients"),
            "\(wrong.stderr)")
        #expect(wrong.stderr.contains("; nothing was stopped"))
        let missing = try shop.berth("apply", ["--auto-approve"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains(
            "api: update failed: service api uses secrets \"db-password\", \"tls-key\", and this Berth has no key to decrypt them: set BERTH_AGE_KEY_FILE"),
            "\(missing.stderr)")
        #expect(try await shop.containers("api").map(\.Id) == [first.Id])
        outputs += [wrong.stdout, wrong.stderr, missing.stdout, missing.stderr]

        // With the key: the new value rolls out.
        let rotated = try shop.berth("apply", ["--auto-approve"], environment: withKey)
        #expect(rotated.status == 0, "\(rotated.stderr)")
        outputs += [rotated.stdout, rotated.stderr]
        let second = try #require(try await shop.containers("api").first)
        #expect(second.Id != first.Id)
        #expect(try await shop.runtime.client.exec(second.Id, ["/bin/busybox", "sh", "-c", "echo \"$DB_PASSWORD\""]).stdout == newPassword + "\n")
        outputs.append(try docker(["inspect", "--format", "{{json .Config.Labels}}", second.Id]).stdout)

        for (i, text) in outputs.enumerated() {
            for secret in [password, tlsKey, newPassword] {
                #expect(!text.contains(secret), "output \(i) shows a secret: \(text)")
            }
        }
    }

    @Test func aSecretWithNoFileMakesTheCommitInvalid() async throws {
        let shop = try await Shop("nosecret")
        defer { shop.cleanup() }
        try shop.repo.write("manifests/api.yaml", Self.manifest)
        try shop.commit("api, its secrets never committed")
        let r = try shop.apply()
        #expect(r.status == 1)
        #expect(r.stderr.contains("error: spec: secret \"db-password\" has no file secrets/db-password.age at commit "), "\(r.stderr)")
        #expect(r.stderr.contains("error: spec: secret \"tls-key\" has no file secrets/tls-key.age at commit "), "\(r.stderr)")
        #expect(try await shop.containers().isEmpty)
    }
}
