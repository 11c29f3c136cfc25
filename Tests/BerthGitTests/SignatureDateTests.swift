import BerthGit
import Testing

/// Commit dates are numbers from the commit object as written: any of them formats.
@Suite struct SignatureDateTests {
    func date(_ time: Int64, _ offset: Int) -> String {
        Signature(name: "", email: "", time: time, offsetMinutes: offset).rfc3339
    }

    @Test func everyTimeAndOffsetFormatsWithinYearsOneTo9999() {
        #expect(date(0, 0) == "1970-01-01T00:00:00Z")
        #expect(date(1_767_220_260, -150) == "2025-12-31T20:01:00-02:30")
        #expect(date(-1, 60) == "1970-01-01T00:59:59+01:00")
        #expect(date(.max, 60) == "9999-12-31T23:59:59+01:00")
        #expect(date(.min, -60) == "0001-01-01T00:00:00-01:00")
        #expect(date(.max, .max) == "9999-12-31T23:59:59+99:59")
        #expect(date(.min, .min) == "0001-01-01T00:00:00-99:59")
        #expect(date(-62_135_596_800, 0) == "0001-01-01T00:00:00Z")
        #expect(date(253_402_300_799, 0) == "9999-12-31T23:59:59Z")
    }
}
