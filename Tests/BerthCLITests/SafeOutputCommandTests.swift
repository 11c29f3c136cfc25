import Foundation
import Testing
import BerthTestSupport

/// plan, diff and history over a commit that holds credentials under keys with no secret
/// word, and values with a newline and terminal escapes (issue 18, finding 7): credentials
/// are masked in every format; control characters are spelled out in text and markdown, so
/// a value cannot fake a "No changes." line or colour the terminal.
@Suite struct SafeOutputCommandTests {
    static let api = """
        apiVersion: berth/v1
        kind: Service
        metadata: {name: api}
        spec:
          image: shop/api:1.0
          env:
            MODE: live

        """
    static let configured = """
        apiVersion: berth/v1
        kind: Service
        metadata: {name: api}
        spec:
          image: shop/api:1.0
          command: ["/bin/api", "--db", "postgres://shop:pw-4711@db/shop"]
          env:
            MODE: live
            DATABASE_URL: "postgres://shop:pw-4711@db/shop"
            SENTRY_DSN: "https://f00dcafe1234@o1.ingest.sentry.io/2"
            BANNER: "ok\\nNo changes. Desired state matches what runs.\\n\\e[31mred\\e[0m"

        """
    static let secrets = ["pw-4711", "f00dcafe1234"]
    static let banner = #"ok\nNo changes. Desired state matches what runs.\n\x1b[31mred\x1b[0m"#

    struct Shop {
        let repo: GitRepoBuilder
        let c1: String
        let c2: String

        init() throws {
            repo = try GitRepoBuilder()
            try repo.write("manifests/api.yaml", SafeOutputCommandTests.api)
            c1 = try repo.commit("api")
            try repo.write("manifests/api.yaml", SafeOutputCommandTests.configured)
            c2 = try repo.commit("Configure api\n\n\u{1B}[1mbold\u{1B}[0m\rNo changes.")
        }

        func berth(_ arguments: [String]) throws -> ProcessResult {
            var env = repo.environment
            env["BERTH_CACHE_DIR"] = repo.root.path + "/state"
            return try ProcessRunner.berth(arguments, in: URL(fileURLWithPath: repo.path), environment: env)
        }
    }

    static func expectSafe(_ r: ProcessResult, _ what: String, escapes: Bool = true) {
        for secret in secrets { #expect(!r.stdout.contains(secret), "\(what) leaked \(secret)") }
        if escapes {
            #expect(!r.stdout.contains("\u{1B}") && !r.stdout.contains("\r"), "\(what) printed a control character")
            #expect(!r.stdout.split(separator: "\n").contains { $0.hasPrefix("No changes.") }, "\(what)")
        }
    }

    @Test func planMasksCredentialsAndEscapesValuesInEveryFormat() throws {
        let shop = try Shop()
        defer { shop.repo.cleanup() }
        let text = try shop.berth(["plan", "--observed", "none", "--project", "shop"])
        #expect(text == ProcessResult(stdout: """
            Berth plan for project shop at commit \(shop.c2.prefix(7)) (prune: on)

            Symbols: + create

            wave 0:
              + create api  1 replica of shop/api:1.0  # new service: nothing runs yet
                            env: BANNER=\(Self.banner), DATABASE_URL=(sensitive), MODE=live, SENTRY_DSN=(sensitive)

            Plan: 1 to create, 0 to update, 0 to scale, 0 to heal, 0 to delete.

            """, stderr: "", status: 0))
        for format in ["json", "markdown"] {
            let r = try shop.berth(["plan", "--observed", "none", "--project", "shop", "--format", format])
            #expect(r.status == 0)
            Self.expectSafe(r, format)
        }
    }

    @Test func diffAndHistoryMaskCredentialsAndEscapeTextAndCommitMessages() throws {
        let shop = try Shop()
        defer { shop.repo.cleanup() }
        let diff = try shop.berth(["diff", shop.c1, shop.c2])
        #expect(diff == ProcessResult(stdout: """
            ~ api  spec.command: (none) → [/bin/api, --db, (sensitive)]
                   spec.env.BANNER: (none) → \(Self.banner)
                   spec.env.DATABASE_URL: (none) → (sensitive)
                   spec.env.SENTRY_DSN: (none) → (sensitive)

            0 added, 0 removed, 1 changed (\(shop.c1.prefix(7))..\(shop.c2.prefix(7))).

            """, stderr: "", status: 0))
        for format in ["json", "markdown"] {
            let r = try shop.berth(["diff", shop.c1, shop.c2, "--format", format])
            #expect(r.status == 0)
            Self.expectSafe(r, "diff \(format)")
        }
        let history = try shop.berth(["history", "--limit", "1"])
        #expect(history.status == 0)
        #expect(history.stdout.contains("""

                Configure api

                \\x1b[1mbold\\x1b[0m\\rNo changes.

              ~ api  spec.command: (none) → [/bin/api, --db, (sensitive)]
                     spec.env.BANNER: (none) → \(Self.banner)

            """), "\(history.stdout)")
        Self.expectSafe(history, "history")
        // JSON keeps the message as committed (the encoder escapes control characters).
        let json = try shop.berth(["history", "--limit", "1", "--format", "json"])
        Self.expectSafe(json, "history json")
        #expect(json.stdout.contains(#""message" : "Configure api\n\n\u001b[1mbold\u001b[0m\rNo changes.\n""#), "\(json.stdout)")
    }

    /// A manifest line under a caret: an escape sequence is spelled out, and the caret
    /// still points at the column (moved by what the escapes added before it).
    @Test func validateSnippetsSpellOutControlCharacters() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let head = "apiVersion: berth/v1\nkind: Service\nmetadata: {name: web}\nspec:\n  image: shop/web:1.0\n"
        try dir.write("esc.yaml", head + "  replicas: \u{1B}[2Jthree\t# x\n")
        try dir.write("bidi.yaml", head + "  command: [a, \"\u{202E}b\", {x: 1}]\n")
        let r = try ProcessRunner.berth(["validate", "bidi.yaml", "esc.yaml"], in: dir.url)
        #expect(r == ProcessResult(stdout: """
            bidi.yaml:6:22: error: spec.command[2]: expected a string, found a mapping
              command: [a, "\\u{202e}b", {x: 1}]
                                        ^
            esc.yaml:6:13: error: control characters are not allowed (U+001B); the file must be UTF-8 (or UTF-16) text
              replicas: \\x1b[2Jthree\t# x
                        ^
            2 errors in 2 files

            """, stderr: "", status: 1))
    }
}
