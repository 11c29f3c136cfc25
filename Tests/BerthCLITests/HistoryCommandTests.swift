import Foundation
import Testing
import BerthTestSupport

/// `berth history`, run as the built binary against real repositories.
@Suite struct HistoryCommandTests {
    static func run(_ shop: ShopHistory, _ arguments: [String]) throws -> ProcessResult {
        try DiffCommandTests.run(shop, arguments)
    }

    @Test func oneServiceAsText() throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        let result = try Self.run(shop, ["history", "booking"])
        #expect(result == ProcessResult(stdout: """
            commit \(shop.c3)
            Author: Ada Lovelace <ada@example.com>
            Date:   2026-01-01T01:03:00+01:00

                Bump booking to 1.4.2

                Customers asked for it.

              ~ booking  spec.env.API_TOKEN: (sensitive) → (sensitive)
                         spec.image: shop/booking:1.4.1 → shop/booking:1.4.2
                         spec.replicas: 2 → 3

            commit \(shop.c1)
            Author: Ada Lovelace <ada@example.com>
            Date:   2026-01-01T01:01:00+01:00

                Add booking and customer

              + booking  spec.image: shop/booking:1.4.1

            """, stderr: "", status: 0))
    }

    @Test func everythingAsJSONWithTheBrokenCommit() throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        let result = try Self.run(shop, ["history", "--format", "json"])
        #expect(result.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(json["formatVersion"] as? Int == 1)
        let entries = try #require(json["entries"] as? [[String: Any]])
        #expect(entries.map { $0["commit"] as? String } == [shop.c6, shop.c5, shop.c3, shop.c1])
        #expect(entries[1]["author"] as? String == "Grace Hopper")
        #expect(entries[1]["email"] as? String == "grace@example.com")
        #expect(entries[1]["date"] as? String == "2026-01-01T01:05:00+01:00")
        #expect(entries[1]["message"] as? String == "Break customer\n")
        let errors = try #require(entries[1]["errors"] as? [[String: Any]])
        #expect(errors.count == 1)
        #expect(errors[0]["file"] as? String == "manifests/customer.yaml")
        #expect((entries[1]["changes"] as? [Any])?.isEmpty == true)
        let fix = try #require(entries[0]["changes"] as? [[String: Any]])
        #expect(fix.map { $0["service"] as? String } == ["customer"])
    }

    @Test func limitAndSince() throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        let limited = try Self.run(shop, ["history", "--limit", "1"])
        #expect(limited.stdout.hasPrefix("commit \(shop.c6)\n"))
        #expect(limited.stdout.components(separatedBy: "commit ").count == 2)
        let since = try Self.run(shop, ["history", "customer", "--since", "2026-01-01T00:04:00Z", "--format", "json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(since.stdout.utf8)) as? [String: Any])
        #expect((json["entries"] as? [[String: Any]])?.map { $0["commit"] as? String } == [shop.c6, shop.c5])
        let bad = try Self.run(shop, ["history", "--since", "yesterday"])
        #expect(bad.status == 64)
        #expect(bad.stderr.hasPrefix("Error: --since: expected a date like 2026-01-31 or 2026-01-31T12:00:00Z, got \"yesterday\"\n"))
    }

    @Test func unknownServiceAndEmptyRepository() throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        #expect(try Self.run(shop, ["history", "nobody"]) == ProcessResult(
            stdout: "", stderr: "error: no commit of HEAD changed a service named nobody (its services: booking, customer)\n", status: 1))
        let empty = try GitRepoBuilder()
        defer { empty.cleanup() }
        var env = empty.environment
        env["BERTH_CACHE_DIR"] = empty.root.path + "/state"
        let result = try ProcessRunner.berth(["history"], in: URL(fileURLWithPath: empty.path), environment: env)
        #expect(result == ProcessResult(stdout: "", stderr: "error: cannot resolve revision \"HEAD\"; the repository \(empty.path) has no commits yet; commit the manifests first\n", status: 1))
    }
}
