import Testing
@testable import BerthYAML

@Suite struct ResolverTests {
    func plain(_ s: String) -> ResolvedScalar { Scalar(value: s, mark: Mark(line: 1, column: 1)).resolved }

    @Test func coreSchemaBooleansOnly() {
        #expect(plain("true") == .bool(true))
        #expect(plain("FALSE") == .bool(false))
        for s in ["yes", "no", "on", "off", "Yes", "OFF", "y", "n"] {
            #expect(plain(s) == .string(s))
        }
    }

    @Test func nulls() {
        for s in ["null", "Null", "NULL", "~", ""] { #expect(plain(s) == .null) }
        #expect(plain("nil") == .string("nil"))
    }

    @Test func integers() {
        #expect(plain("8080") == .int(8080))
        #expect(plain("-3") == .int(-3))
        #expect(plain("+3") == .int(3))
        #expect(plain("0o17") == .int(15))
        #expect(plain("0x1F") == .int(31))
        #expect(plain("0755") == .int(755))  // decimal in YAML 1.2: a String field keeps "0755"
        #expect(plain("99999999999999999999") == .float(1e20))
        #expect(plain("22:22") == .string("22:22"))
        #expect(plain("1_000") == .string("1_000"))
    }

    @Test func floats() {
        #expect(plain("0.5") == .float(0.5))
        #expect(plain(".5") == .float(0.5))
        #expect(plain("1e3") == .float(1000))
        #expect(plain("-.inf") == .float(-.infinity))
        #expect(plain("1.2.3") == .string("1.2.3"))
        #expect(plain("e3") == .string("e3"))
    }

    @Test func quotedAndTagged() {
        let quoted = Scalar(value: "8080", style: .doubleQuoted, mark: Mark(line: 1, column: 1))
        #expect(quoted.resolved == .string("8080"))
        let tagged = Scalar(value: "8080", tag: YAMLTag.str, mark: Mark(line: 1, column: 1))
        #expect(tagged.resolved == .string("8080"))
        let int = Scalar(value: "12", tag: YAMLTag.int, style: .singleQuoted, mark: Mark(line: 1, column: 1))
        #expect(int.resolved == .int(12))
    }
}
