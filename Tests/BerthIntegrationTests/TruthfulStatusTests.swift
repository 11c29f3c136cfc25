import BerthCore
import BerthTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 17, "status tells the truth" and "every apply is journaled", against the real
/// dockerd and a real git repository:
/// - after a broken image rolled back, `status` shows what serves (the old revision, 2/2,
///   Healthy), OutOfSync with git, and says the rollout is held back — never
///   `shop/booking:broken 0/2 OutOfSync Progressing waiting for rollout`;
/// - while the newest commit is invalid, what it no longer loads is "held back as it runs",
///   never "would be pruned", in `status` and in `plan`;
/// - `berth apply` is journaled (trigger manual, who ran it), so `history --applied` knows.
@Suite struct TruthfulStatusTests {
    /// `USER@host` as the journal records it for a command run with `USER=berth-tester`.
    static var actor: String {
        var buffer = [CChar](repeating: 0, count: 256)
        let host = gethostname(&buffer, buffer.count) == 0
            ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "localhost"
        return "berth-tester@\(host)"
    }

    static let asTester = ["USER": "berth-tester"]

    /// The cells of the text row of `service` (columns are separated by at least two spaces).
    static func row(_ text: String, _ service: String) -> [String]? {
        lines(text, startingWith: service + " ").first.map { line in
            line.components(separatedBy: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }

    struct HeldDocument: Decodable {
        struct Service: Decodable {
            struct Held: Decodable, Equatable {
                var revision: String
                var commit: String?
                var failedAt: String?
                var reason: String
                var outcome: String
            }
            struct Invalid: Decodable, Equatable {
                var commit: String?
                var errors: Int
            }
            var name: String
            var message: String
            var heldBack: Held?
            var invalidCommit: Invalid?
        }
        var services: [Service]
        func service(_ name: String) -> Service? { services.first { $0.name == name } }
    }

    struct JournalDocument: Decodable {
        struct Record: Decodable {
            struct Step: Decodable {
                var action: String
                var service: String
                var outcome: String
            }
            var commit: String?
            var trigger: String
            var result: String
            var actor: String?
            var steps: [Step]
        }
        var records: [Record]
    }

    @Test func afterARollbackStatusShowsWhatServesAndSaysTheRolloutIsHeldBack() async throws {
        let shop = try await Shop("held")
        defer { shop.cleanup() }
        try shop.service("customer", image: "shop/customer:1.0", replicas: 1)
        try shop.service("booking", image: "shop/booking:1.0", replicas: 2, dependsOn: ["customer"])
        let first = try shop.commit("1.0")
        #expect(try shop.apply([], environment: Self.asTester).status == 0)
        let oldRevision = try #require(try shop.status().service("booking")?.revision)

        try shop.service("booking", image: "shop/booking:broken", replicas: 2, dependsOn: ["customer"], deadline: "4s")
        let broken = try shop.commit("broken")
        let newRevision = try #require(try shop.status().service("booking")?.revision)
        let applied = try shop.apply([], environment: Self.asTester)
        #expect(applied.status == 1)
        // The executor's reason, as apply printed it: `… failed (REASON): rolled back to …`.
        let outcome = try #require(lines(applied.stderr, startingWith: "booking: rollout of revision ").first)
        let prefix = "booking: rollout of revision \(newRevision) (shop/booking:broken) failed ("
        let suffix = "): rolled back to \(oldRevision) (shop/booking:1.0); 2 of 2 replicas serve the old revision"
        #expect(outcome.hasPrefix(prefix) && outcome.hasSuffix(suffix), "\(outcome)")
        let reason = String(outcome.dropFirst(prefix.count).dropLast(suffix.count))

        // JSON: what serves, and why it is not git's.
        let r = try shop.berth("status", ["--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let document = try JSONDecoder().decode(HeldDocument.self, from: Data(r.stdout.utf8))
        let held = try #require(document.service("booking")?.heldBack)
        let failedAt = try #require(held.failedAt)
        #expect(held == HeldDocument.Service.Held(
            revision: newRevision, commit: broken, failedAt: failedAt, reason: reason, outcome: "rolledBack"))
        let message = "2 of 2 replicas ready; rollout of \(newRevision) (\(broken.prefix(7))) failed at \(failedAt): "
            + "\(reason); held back until a newer commit"
        #expect(document.service("booking")?.message == message)
        #expect(document.service("customer")?.heldBack == nil)
        let status = try shop.status()
        #expect(status.summary == ["booking OutOfSync Healthy 2/2", "customer Synced Healthy 1/1"])
        #expect(status.service("booking")?.revision == oldRevision)
        #expect(status.service("booking")?.image == "shop/booking:1.0")

        // Text: the same words.
        let text = try shop.berth("status")
        #expect(text.status == 0)
        #expect(Self.row(text.stdout, "booking") == [
            "booking", "shop/booking:1.0", oldRevision, "2/2", "OutOfSync", "Healthy", SafeText.escaped(message),
        ])

        // Every apply is in the journal, run by hand, by whom.
        let journal = try shop.berth("journal", ["--format", "json"])
        #expect(journal.status == 0, "\(journal.stderr)")
        let records = try JSONDecoder().decode(JournalDocument.self, from: Data(journal.stdout.utf8)).records
        #expect(records.map { "\($0.commit.map { String($0.prefix(7)) } ?? "-") \($0.trigger) \($0.result) \($0.actor ?? "-")" } == [
            "\(broken.prefix(7)) manual rolledBack \(Self.actor)",
            "\(first.prefix(7)) manual succeeded \(Self.actor)",
        ])
        #expect(records.first?.steps.map { "\($0.action) \($0.service) \($0.outcome)" } == ["update booking rolledBack"])
        let journalText = try shop.berth("journal")
        #expect(journalText.stdout.contains("  \(broken.prefix(12))  manual by \(Self.actor)  rolledBack  "), "\(journalText.stdout)")

        // A newer commit that changes the service releases it: Synced, nothing held back.
        try shop.service("booking", image: "shop/booking:1.1", replicas: 2, dependsOn: ["customer"])
        try shop.commit("1.1")
        #expect(try shop.apply().status == 0)
        let fixed = try shop.berth("status", ["--format", "json"])
        let after = try JSONDecoder().decode(HeldDocument.self, from: Data(fixed.stdout.utf8))
        #expect(after.service("booking")?.heldBack == nil)
        #expect(after.service("booking")?.message == "2 of 2 replicas ready")
        #expect(try shop.status().summary == ["booking Synced Healthy 2/2", "customer Synced Healthy 1/1"])
        shop.cleanup()
        #expect(try shop.leftovers() == "")
    }

    @Test func whileTheNewestCommitIsInvalidWhatRunsIsHeldBackNeverPruned() async throws {
        let shop = try await Shop("invalid")
        defer { shop.cleanup() }
        try shop.service("customer", image: "shop/customer:1.0", replicas: 1)
        try shop.service("booking", image: "shop/booking:1.0", replicas: 1)
        try shop.commit("1.0")
        #expect(try shop.apply().status == 0)
        let revision = try #require(try shop.status().service("booking")?.revision)
        try shop.repo.write("manifests/booking.yaml", """
            apiVersion: berth/v1
            kind: Service
            metadata:
              name: booking
            spec:
              image: shop/booking:1.1
              replicas: many

            """)
        let invalid = try shop.commit("invalid booking")

        let r = try shop.berth("status", ["--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        // With --format json, the manifest error is JSON on stderr too (issue 17).
        #expect(r.stderr == #"{"column":13,"file":"manifests/booking.yaml","line":7,"message":"expected an integer, found \"many\"","path":"spec.replicas","severity":"error"}"# + "\n", "\(r.stderr)")
        let document = try JSONDecoder().decode(HeldDocument.self, from: Data(r.stdout.utf8))
        let message = "1 of 1 replica ready; commit \(invalid.prefix(7)) has 1 manifest error: held back as it runs until a commit fixes them"
        #expect(document.service("booking")?.message == message)
        #expect(document.service("booking")?.invalidCommit == HeldDocument.Service.Invalid(commit: invalid, errors: 1))
        #expect(document.service("customer")?.message == "1 of 1 replica ready")
        #expect(document.service("customer")?.invalidCommit == nil)
        let text = try shop.berth("status")
        #expect(Self.row(text.stdout, "booking") == [
            "booking", "shop/booking:1.0", revision, "1/1", "OutOfSync", "Healthy", message,
        ])
        #expect(!text.stdout.contains("pruned"))

        // plan says the same: held back as it runs, not "pass --prune".
        for prune in [[], ["--prune"]] {
            let plan = try shop.berth("plan", prune)
            #expect(plan.status == 1)
            #expect(plan.stdout.contains(
                "booking: held back as it runs (1 instance): the desired state has 1 error, and berth never prunes then; fix them first"),
                "\(plan.stdout)")
            #expect(!plan.stdout.contains("--prune"), "\(plan.stdout)")
        }
        shop.cleanup()
        #expect(try shop.leftovers() == "")
    }

    @Test func historyAppliedKnowsACommitAppliedByHand() async throws {
        let shop = try await Shop("applied")
        defer { shop.cleanup() }
        try shop.service("customer", image: "shop/customer:1.0", replicas: 1)
        let first = try shop.commit("customer")
        try shop.service("customer", image: "shop/customer:1.1", replicas: 1)
        let second = try shop.commit("customer 1.1")
        #expect(try shop.apply().status == 0)

        let r = try shop.berth("history", ["--applied", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        struct History: Decodable {
            struct Entry: Decodable {
                struct Applied: Decodable { var applied: Bool }
                var commit: String
                var applied: Applied?
            }
            var entries: [Entry]
        }
        let entries = try JSONDecoder().decode(History.self, from: Data(r.stdout.utf8)).entries
        #expect(entries.map { "\($0.commit.prefix(7)) \($0.applied.map { "\($0.applied)" } ?? "never")" } == [
            "\(second.prefix(7)) true", "\(first.prefix(7)) never",
        ])
        shop.cleanup()
        #expect(try shop.leftovers() == "")
    }
}
