import BerthCore
import BerthEngine
import BerthNet
import BerthTestSupport
import Foundation
import Testing

/// `?since=`, `?limit=`, `?service=` and `--since`: every number that comes from outside is
/// range-checked before any arithmetic, so no query can trap `berth watch` (issue 18,
/// finding 1: `since=1e308d` crashed it in `Timestamp.string`).
@Suite struct JournalQueryTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func durationsBeyondAHundredYearsOrNotPlainDecimalsAreRefused() {
        for text in ["1e308d", "infd", "inf d", "nand", "200000000000000d", "1e15w", "0x10d", "1e3d", "-5d", "+5d",
                     ".5d", "5.d", "1..5d", "36526d", "5218w", "876601h", "d", "", "٣d", "5 d", "99999999999999999999999s"] {
            #expect(JournalQuery.since(text, now: Self.now) == nil, "\(text)")
        }
        #expect(JournalQuery.since("36525d", now: Self.now) == Self.now.addingTimeInterval(-36525 * 86400))
        #expect(JournalQuery.since("1.5h", now: Self.now) == Self.now.addingTimeInterval(-5400))
        #expect(JournalQuery.since("0s", now: Self.now) == Self.now)
        #expect(JournalQuery.since("2w", now: Self.now) == Self.now.addingTimeInterval(-14 * 86400))
    }

    @Test func timesOutsideYearsOneTo9999AreRefused() {
        #expect(JournalQuery.since("9999-12-31T23:59:59Z", now: Self.now).map(Timestamp.string) == "9999-12-31T23:59:59.000Z")
        #expect(JournalQuery.since("0001-01-01", now: Self.now).map(Timestamp.string) == "0001-01-01T00:00:00.000Z")
        #expect(JournalQuery.since("0000-12-31", now: Self.now) == nil)
    }

    /// Whatever `Date` it is given, `Timestamp.string` answers: the bounds of RFC 3339.
    @Test func timestampOfAnyDateIsTotal() {
        #expect(Timestamp.string(Date(timeIntervalSince1970: -.infinity)) == "0001-01-01T00:00:00.000Z")
        #expect(Timestamp.string(Date(timeIntervalSince1970: .infinity)) == "9999-12-31T23:59:59.999Z")
        #expect(Timestamp.string(Date(timeIntervalSince1970: .nan)) == "0001-01-01T00:00:00.000Z")
        #expect(Timestamp.string(Date(timeIntervalSince1970: -1e300)) == "0001-01-01T00:00:00.000Z")
        #expect(Timestamp.string(Date(timeIntervalSince1970: 1e300)) == "9999-12-31T23:59:59.999Z")
        #expect(Timestamp.string(Date(timeIntervalSince1970: 1_800_000_000.1234)) == "2027-01-15T08:00:00.123Z")
        #expect(Timestamp.string(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500Z")
    }

    /// Seeded: every millisecond of years 0001–9999 formats and parses back to itself, and
    /// from 1600 on (where Foundation's calendar is Gregorian too) agrees with Foundation.
    @Test func timestampsRoundTripAndAgreeWithFoundation() {
        let iterations = Int(ProcessInfo.processInfo.environment["BERTH_FUZZ_ITERATIONS"] ?? "") ?? 3_000
        var r = SeededRandom(seed: 0x7135_7A3B)
        let foundation = ISO8601DateFormatter()
        foundation.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let from1600: Int64 = -11_676_096_000_000
        for _ in 0..<iterations {
            let ms = Int64.random(in: Timestamp.earliestMilliseconds...Timestamp.latestMilliseconds, using: &r)
            let text = Timestamp.string(milliseconds: ms)
            #expect(Timestamp.milliseconds(text) == ms, "\(ms) → \(text)")
            if ms >= from1600 {
                let date = Date(timeIntervalSince1970: Double(ms) / 1000)
                #expect(foundation.string(from: date) == text, "\(ms)")
            }
        }
    }

    @Test func parametersSayWhatIsWrong() {
        func parse(_ uri: String) -> String {
            switch JournalQuery.parameters(APIRequest(method: "GET", uri: uri).query, now: Self.now) {
            case .success(let p): "service=\(p.service ?? "-") since=\(p.since ?? "-") limit=\(p.limit)"
            case .failure(let e): e.message
            }
        }
        #expect(parse("/api/v1/journal") == "service=- since=- limit=50")
        #expect(parse("/api/v1/journal?service=web&since=2026-01-31&limit=0") == "service=web since=2026-01-31T00:00:00.000Z limit=0")
        #expect(parse("/api/v1/journal?since=1e308d") == #"since: expected an RFC 3339 time (2026-01-31T10:00:00Z), a date (2026-01-31) or a duration of at most 100 years (90m, 24h, 7d), found "1e308d""#)
        #expect(parse("/api/v1/journal?limit=10001") == #"limit: expected an integer from 0 to 10000, found "10001""#)
        #expect(parse("/api/v1/journal?limit=99999999999999999999") == #"limit: expected an integer from 0 to 10000, found "99999999999999999999""#)
        #expect(parse("/api/v1/journal?limit=-1") == #"limit: expected an integer from 0 to 10000, found "-1""#)
    }

    /// The four queries of the finding, through the router and a real journal: 400, and the
    /// next request is answered.
    @Test func hostileSinceIsABadRequestNotACrash() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let journal = try Journal(path: dir.path + "/journal.sqlite")
        try await journal.append(JournalRecord(
            started: "2026-01-01T10:00:00.000Z", ended: "2026-01-01T10:00:01.000Z", commit: "c1", trigger: .commit,
            result: .succeeded))
        let router = APIRouter(loop: await Self.loop(), journal: journal, token: nil)
        for since in ["1e308d", "infd", "200000000000000d", "1e15w"] {
            let r = await router.handle(APIRequest(method: "GET", uri: "/api/v1/journal?since=\(since)"))
            #expect(r.status == 400)
            #expect(r.body.contains("found \\\"\(since)\\\""), "\(r.body)")
        }
        let ok = await router.handle(APIRequest(method: "GET", uri: "/api/v1/journal?since=36500d"))
        #expect(ok.status == 200)
        #expect(ok.body.contains("\"commit\" : \"c1\""))
    }

    static func loop() async -> ReconcileLoop {
        let source = ScriptedSource()
        source.set(LoopFx.desired([LoopFx.spec("web")], commit: "c1"))
        return LoopFx.loop(source: source, runtime: FakeRuntime(state: .none(project: "shop")))
    }

    /// Seeded random query strings (numbers of every size and spelling, percent-encoding,
    /// repeated and empty parameters) through the query parser, the parameter checks and a
    /// real journal: each ends in an answer or a 400 message, never a trap.
    /// `BERTH_FUZZ_ITERATIONS` runs longer by hand.
    @Test func fuzzedJournalQueriesNeverCrash() async throws {
        let iterations = Int(ProcessInfo.processInfo.environment["BERTH_FUZZ_ITERATIONS"] ?? "") ?? 3_000
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let journal = try Journal(path: dir.path + "/journal.sqlite")
        try await journal.append(JournalRecord(
            started: "2026-01-01T10:00:00.000Z", ended: "2026-01-01T10:00:01.000Z", commit: "c1", trigger: .commit,
            result: .succeeded, steps: [JournalStep(action: "create", service: "web", wave: 0, reason: "new", outcome: .succeeded, durationMs: 1)]))
        var r = SeededRandom(seed: 0x5EED_0018)
        var answered = 0, refused = 0
        for n in 0..<iterations {
            let uri = "/api/v1/journal?" + Self.randomQuery(&r)
            let query = APIRequest(method: "GET", uri: uri).query
            switch JournalQuery.parameters(query, now: Self.now) {
            case .success(let p):
                answered += 1
                if let since = p.since { #expect(Timestamp.date(since) != nil, "case \(n): \(uri)") }
                #expect((0...JournalQuery.maxLimit).contains(p.limit), "case \(n): \(uri)")
                // Every 16th accepted query also goes to SQLite.
                if answered % 16 == 0 {
                    _ = try await journal.records(service: p.service, since: p.since, limit: p.limit)
                }
            case .failure(let e):
                refused += 1
                #expect(e.message.hasPrefix("since: ") || e.message.hasPrefix("limit: "), "case \(n): \(uri)")
            }
        }
        #expect(answered + refused == iterations)
        if iterations >= 1000 {
            #expect(answered > iterations / 10 && refused > iterations / 10, "answered \(answered), refused \(refused)")
        }
    }

    static let numbers = [
        "0", "1", "7", "90", "36525", "36526", "1e308", "1e15", "inf", "-inf", "nan", "NaN", "-0", "0x1p10",
        "200000000000000", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
        "18446744073709551616", "1.5", ".5", "5.", "1e-300", "4.9e-324", "1_000", "١٢", "１２", "",
    ]
    static let units = ["s", "m", "h", "d", "w", "ms", "y", "", "D", " d"]
    static let dates = [
        "2026-01-31", "2026-01-31T10:00:00Z", "2026-01-31T10:00:00.123Z", "0000-01-01", "0001-01-01",
        "9999-12-31T23:59:59Z", "10000-01-01", "-2026-01-01", "2026-13-45", "2026-02-30T25:61:61Z",
        "2026-01-31T10:00:00+14:00", "2026-01-31T10:00:00-23:59",
    ]

    static func randomQuery(_ r: inout SeededRandom) -> String {
        var pairs: [String] = []
        for _ in 0..<r.int(0...4) {
            switch r.below(6) {
            case 0, 1:
                let value = r.chance(70)
                    ? numbers[r.below(numbers.count)] + units[r.below(units.count)]
                    : dates[r.below(dates.count)]
                pairs.append("since=" + encode(value, &r))
            case 2:
                pairs.append("limit=" + encode(numbers[r.below(numbers.count)], &r))
            case 3:
                pairs.append("service=" + encode(["web", "", "a'b", "%00", "x;DROP TABLE syncs"][r.below(5)], &r))
            case 4:
                pairs.append(["since", "limit", "=", "&", "since==", "limit=%", "%zz=1", "since=%2"][r.below(8)])
            default:
                // Random bytes, percent-encoded or not.
                var s = ""
                for _ in 0..<r.int(0...12) { s.append(Character(Unicode.Scalar(UInt8(r.below(128))))) }
                pairs.append((r.chance(50) ? "since=" : "limit=") + encode(s, &r))
            }
        }
        return pairs.joined(separator: r.chance(90) ? "&" : "&&")
    }

    static func encode(_ s: String, _ r: inout SeededRandom) -> String {
        guard r.chance(40) else { return s }
        return s.utf8.map { String(format: "%%%02X", $0) }.joined()
    }
}
