import Foundation
import Testing
import BerthTestSupport

/// `berth diff`, run as the built binary against real repositories.
@Suite struct DiffCommandTests {
    static func run(_ shop: ShopHistory, _ arguments: [String]) throws -> ProcessResult {
        var env = shop.builder.environment
        env["BERTH_CACHE_DIR"] = shop.builder.root.path + "/state"
        return try ProcessRunner.berth(arguments, in: URL(fileURLWithPath: shop.builder.path), environment: env)
    }

    func short(_ sha: String) -> String { String(sha.prefix(7)) }

    @Test func textFieldByField() throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        let result = try Self.run(shop, ["diff", "v1"])
        #expect(result == ProcessResult(stdout: """
            ~ booking   spec.env.API_TOKEN: (sensitive) → (sensitive)
                        spec.image: shop/booking:1.4.1 → shop/booking:1.4.2
                        spec.replicas: 2 → 3
            ~ customer  spec.image: shop/customer:1.0 → shop/customer:2.0

            0 added, 0 removed, 2 changed (\(short(shop.c1))..\(short(shop.c6))).

            """, stderr: "", status: 0))
    }

    @Test func detailedExitCodes() throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        let changed = try Self.run(shop, ["diff", "v1", "HEAD", "--detailed-exitcode"])
        #expect(changed.status == 2)
        // The move of booking.yaml (c3 → c4) and the docs commit change nothing.
        let moved = try Self.run(shop, ["diff", shop.c3, shop.c4, "--detailed-exitcode"])
        #expect(moved == ProcessResult(stdout: "No changes in desired state (\(short(shop.c3))..\(short(shop.c4))).\n", stderr: "", status: 0))
        let docs = try Self.run(shop, ["diff", "HEAD~5", "HEAD~4", "--detailed-exitcode"])
        #expect(docs.status == 0)
    }

    @Test func addedAndRemovedAsJSON() throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        try shop.builder.remove("manifests/customer.yaml")
        try shop.builder.write("manifests/payments.yaml", GitRepoBuilder.service("payments", image: "shop/payments:0.1"))
        let c7 = try shop.builder.commit("Replace customer by payments")
        let result = try Self.run(shop, ["diff", shop.c6, c7, "--format", "json"])
        #expect(result.status == 0)
        #expect(result.stderr == "")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(json["formatVersion"] as? Int == 1)
        #expect(json["from"] as? String == shop.c6)
        #expect(json["to"] as? String == c7)
        let changes = try #require(json["changes"] as? [[String: Any]])
        #expect(changes.map { $0["service"] as? String } == ["customer", "payments"])
        #expect(changes.map { $0["kind"] as? String } == ["removed", "added"])
        let fields = try #require(changes[1]["fields"] as? [[String: Any]])
        let image = try #require(fields.first { $0["path"] as? String == "spec.image" })
        #expect(image["from"] is NSNull)
        #expect(image["to"] as? String == "shop/payments:0.1")
        #expect(json["summary"] as? [String: Int] == ["added": 1, "removed": 1, "changed": 0])
    }

    @Test func markdownForPullRequests() throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        let result = try Self.run(shop, ["diff", "v1", "HEAD~2", "--format", "markdown"])
        #expect(result == ProcessResult(stdout: """
            ### Desired state: `\(short(shop.c1))` → `\(short(shop.c4))`

            | service | change | field | from | to |
            |---|---|---|---|---|
            | booking | changed | `spec.env.API_TOKEN` | `(sensitive)` | `(sensitive)` |
            | booking | changed | `spec.image` | `shop/booking:1.4.1` | `shop/booking:1.4.2` |
            | booking | changed | `spec.replicas` | `2` | `3` |

            **0 added, 0 removed, 1 changed**

            """, stderr: "", status: 0))
    }

    @Test func unknownRevisionNamesTheNearest() throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        try shop.builder.git("branch", "release")
        let result = try Self.run(shop, ["diff", "relase", "--detailed-exitcode"])
        #expect(result == ProcessResult(stdout: "", stderr: "error: cannot resolve revision \"relase\": revspec 'relase' not found; did you mean release?\n", status: 1))
    }

    @Test func missingPathAtRevision() throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        let result = try Self.run(shop, ["diff", "v1", "--path", "deploy"])
        #expect(result.status == 1)
        #expect(result.stderr == "error: the path \"deploy\" does not exist at revision HEAD (\(short(shop.c6))); check --path, or list the tree with `git ls-tree --name-only \(short(shop.c6))`\n")
    }

    @Test func invalidManifestsAreAnError() throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        let result = try Self.run(shop, ["diff", "v1", shop.c5, "--detailed-exitcode"])
        #expect(result.status == 1)
        #expect(result.stdout == "")
        #expect(result.stderr.hasPrefix("manifests/customer.yaml:"))
        #expect(result.stderr.hasSuffix("error: the manifests changed between v1 and \(shop.c5) have 1 error; fix them to see the diff\n"))
    }

    @Test func remoteOverFileURL() throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        let result = try Self.run(shop, ["diff", "v1", "main", "--repo", "file://" + shop.builder.path, "--detailed-exitcode"])
        #expect(result.status == 2)
        #expect(result.stdout.hasPrefix("~ booking "))
        let mirrors = try FileManager.default.contentsOfDirectory(atPath: shop.builder.root.path + "/state/repos")
        #expect(mirrors.count == 1)
    }

    @Test func unreachableRemoteScrubsCredentials() throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        let result = try Self.run(shop, ["diff", "v1", "--repo", "https://bob:s3cret-pw@127.0.0.1:1/shop.git"])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("error: cannot fetch https://***@127.0.0.1:1/shop.git: "))
        #expect(!result.stderr.contains("s3cret-pw") && !result.stderr.contains("bob"))
    }
}
