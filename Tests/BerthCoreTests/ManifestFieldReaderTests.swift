import Testing
import BerthYAML
@testable import BerthCore

/// The reader's mechanisms that no berth/v1 field uses yet.
@Suite struct ManifestFieldReaderTests {
    /// Reads `v: TEXT` as a boolean; its diagnostics go to `diagnostics`.
    private func bool(_ text: String, _ diagnostics: inout [Diagnostic]) throws -> Bool? {
        var document: FlatDocument?
        _ = YAML.parseFlatDocuments(Array("v: \(text)\n".utf8)) { document = $0 }
        let doc = try #require(document)
        let root = try #require(doc.root)
        let value = try #require(doc.value(root, forKey: "v"))
        var r = FieldReader(file: "f.yaml", document: doc)
        defer { diagnostics += r.diagnostics }
        return r.bool(value, { "spec.flag" })
    }

    @Test func booleansWarnOnYAML11Spellings() throws {
        var diagnostics: [Diagnostic] = []
        #expect(try bool("true", &diagnostics) == true)
        #expect(try bool("False", &diagnostics) == false)
        #expect(diagnostics == [])
        #expect(try bool("yes", &diagnostics) == true)
        #expect(try bool("off", &diagnostics) == false)
        #expect(try bool("\"yes\"", &diagnostics) == nil)
        #expect(try bool("1", &diagnostics) == nil)
        #expect(diagnostics.map(\.rendered) == [
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
