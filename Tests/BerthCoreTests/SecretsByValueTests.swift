import Testing
import BerthCore

/// Values that look like credentials are masked like secret-named keys, and text from
/// outside is escaped before it reaches a terminal (issue 18, finding 7).
@Suite struct SecretsByValueTests {
    static let credentials = [
        "postgres://u:pw@db:5432/shop",
        "mysql://root:hunter2@10.0.0.5/app?ssl=true",
        "redis://:s3cret@cache:6379/0",
        "https://0123456789abcdef0123456789abcdef@o123456.ingest.sentry.io/4504",
        "amqp://guest@rabbit:5672",
        "primary=http://a:8080, replica=postgres://ro:x@replica/db",
        "host=db user=shop password=hunter2 dbname=shop",
        "Server=db;Database=shop;User Id=sa;Pwd=Passw0rd!;",
        "https://api.example.com/v1?api_key=abc&x=1",
        "token: abc",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
        "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    ]

    static let plain = [
        "", "8080", "true", "production", "info", "en_US.UTF-8", "Europe/Berlin",
        "http://customer:8080", "https://api.example.com/v1/items?limit=20&page=2",
        "shop/booking:1.4.2", "registry.local:5000/shop/booking:1.0",
        "/usr/local/lib/python3.11/site-packages", "-Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=200",
        "kafka-0.kafka-headless.default.svc.cluster.local:9092", "my_service_name_production_2",
        "projects/my-project-123456/locations/us-central1/keyRings/ring1", "2026-01-31T10:00:00Z",
        "The quick brown fox jumps over the lazy dog", "PASSWORD_MIN_LENGTH", "tokenizer=whitespace",
        "mailto:ops@example.com", "user@example.com", "ops@example.com:8080",
    ]

    @Test(arguments: credentials)
    func credentialLookingValuesAreMasked(_ value: String) {
        #expect(Secrets.looksLikeCredential(value), "\(value)")
        #expect(Secrets.display(envKey: "SOMETHING", value: value) == Secrets.mask)
    }

    @Test(arguments: plain)
    func plainValuesShow(_ value: String) {
        #expect(!Secrets.looksLikeCredential(value), "\(value)")
        #expect(Secrets.display(envKey: "SOMETHING", value: value) == value)
    }

    @Test func planAndDiffMaskByValue() throws {
        let spec = ServiceSpec(
            name: "api", image: "shop/api:1.0", command: ["/bin/app", "--db", "postgres://u:pw@db/x"],
            env: ["DATABASE_URL": "postgres://u:pw@db/x", "SENTRY_DSN": "https://k3y@o1.ingest.sentry.io/2", "MODE": "live"])
        let plan = try Planner.plan(desired: DesiredState(services: ["api": spec]), observed: ObservedState(project: "shop", services: []))
        #expect(plan.steps.first?.to?.env == ["DATABASE_URL": "(sensitive)", "SENTRY_DSN": "(sensitive)", "MODE": "live"])
        let diff = DesiredStateDiff(from: [:], to: ["api": spec])
        let shown = diff.changes.flatMap(\.fields).map { "\($0.path)=\($0.to)" }
        #expect(shown.contains("spec.env.DATABASE_URL=(sensitive)"))
        #expect(shown.contains("spec.env.SENTRY_DSN=(sensitive)"))
        #expect(shown.contains("spec.env.MODE=live"))
        #expect(shown.contains("spec.command=[/bin/app, --db, (sensitive)]"))
        #expect(!shown.joined().contains("pw@"))
    }

    @Test func controlCharactersAreEscaped() {
        #expect(SafeText.escaped("plain text, ünïcödé, 🚢") == "plain text, ünïcödé, 🚢")
        #expect(SafeText.escaped("a\nNo changes.") == "a\\nNo changes.")
        #expect(SafeText.escaped("\u{1B}[31mred\u{1B}[0m") == "\\x1b[31mred\\x1b[0m")
        #expect(SafeText.escaped("tab\there\rCR\u{0}\u{7F}") == "tab\\there\\rCR\\x00\\x7f")
        #expect(SafeText.escaped("c1\u{85}\u{9B}31m") == "c1\\u{85}\\u{9b}31m")
        #expect(SafeText.escaped("bidi \u{202E}txt.exe\u{2066}") == "bidi \\u{202e}txt.exe\\u{2066}")
        #expect(SafeText.escaped("line\u{2028}sep") == "line\\u{2028}sep")
        #expect(SafeText.escaped("keep\ttabs", keepingTabs: true) == "keep\ttabs")
    }
}
