import Testing
import BerthYAML
@testable import BerthCore

/// The reader's mechanisms that no berth/v1 field uses yet.
@Suite struct ManifestFieldReaderTests {
    private func node(_ text: String) throws -> Node {
        let result = YAML.parse(Array("v: \(text)\n".utf8))
        guard case .mapping(let m) = try #require(result.documents.first?.root) else {
            Issue.record("not a mapping")
            throw CancellationError()
        }
        return try #require(m["v"])
    }

    @Test func booleansWarnOnYAML11Spellings() throws {
        var r = FieldReader(file: "f.yaml")
        #expect(r.bool(try node("true"), "spec.flag") == true)
        #expect(r.bool(try node("False"), "spec.flag") == false)
        #expect(r.diagnostics == [])
        #expect(r.bool(try node("yes"), "spec.flag") == true)
        #expect(r.bool(try node("off"), "spec.flag") == false)
        #expect(r.bool(try node("\"yes\""), "spec.flag") == nil)
        #expect(r.bool(try node("1"), "spec.flag") == nil)
        #expect(r.diagnostics.map(\.rendered) == [
            #"f.yaml:1:4: warning: spec.flag: "yes" is a string in YAML 1.2, read here as true; write true instead"#,
            #"f.yaml:1:4: warning: spec.flag: "off" is a string in YAML 1.2, read here as false; write false instead"#,
            #"f.yaml:1:4: error: spec.flag: expected true or false, found "yes""#,
            "f.yaml:1:4: error: spec.flag: expected true or false, found 1",
        ])
    }

    @Test func suggestions() {
        #expect(Suggestion.closest(to: "replica", among: ["image", "replicas"]) == "replicas")
        #expect(Suggestion.closest(to: "IMAGE", among: ["image", "replicas"]) == "image")
        #expect(Suggestion.closest(to: "healthcheck", among: ["health"]) == nil)
        #expect(Suggestion.closest(to: "x", among: ["a", "b"]) == nil)
        #expect(Suggestion.distance("kitten", "sitting") == 3)
        #expect(Suggestion.distance("", "abc") == 3)
    }
}
