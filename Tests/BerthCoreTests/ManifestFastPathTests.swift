import Testing
import BerthYAML
@testable import BerthCore

/// The byte-level fast paths of the manifest decoder give the general paths' answers:
/// whatever a fast path accepts, the general path accepts with the same value, and what
/// it declines is left to the general path.
@Suite struct ManifestFastPathTests {
    static let durations = [
        "0s", "2s", "500ms", "1m30s", "1h2m3s", "90s", "10m5ms", "120s", "1.5s", "2sec", "2S", "ms", "1m s", "",
        "+1s", "-1s", "999999999999h", "1234567890123s", "1\u{301}s", "2s\u{301}", "1mm", "1msx", "1m2", "5", "s5",
        "１s", "2s ", " 2s", "1h1h", "0ms",
    ]

    @Test func durationsMatchMillisParsing() {
        for text in Self.durations {
            let fast = FieldReader.simpleDuration(text)
            if let fast { #expect(fast == Millis(parsing: text), "\(text.debugDescription)") }
        }
        for text in ["0s", "2s", "500ms", "1m30s", "1h2m3s", "90s", "10m5ms", "1h1h", "0ms"] {
            #expect(FieldReader.simpleDuration(text) != nil, "\(text.debugDescription)")
        }
        for text in ["1.5s", "2sec", "2S", "ms", "", "+1s", "1234567890123s", "1\u{301}s", "1mm", "1msx", "5", "2s "] {
            #expect(FieldReader.simpleDuration(text) == nil, "\(text.debugDescription)")
        }
    }

    static let images = [
        "nginx", "nginx:1.25", "shop/booking:1.0", "registry.local/travel/booking:1.2.3", "localhost:5000/x:y",
        "localhost/x", "Registry.example.com/a/b", "a__b/c.d-e---f:tag_1", "ex.com:65535/a", "ex.com:65536/a",
        "ex.com:0/a", "ex.com:/a", ":5000/a", "a.-b.com/x", "a..b.com/x", "-a/b", "a-/b", "A/b", "a/B", "a//b", "/a",
        "a/", "a:", "a:.x", "a:-x", "a:_x", "a@sha256:" + String(repeating: "a", count: 64),
        "a:1@sha256:" + String(repeating: "0", count: 64), "a@sha256:" + String(repeating: "A", count: 64),
        "a@sha256:" + String(repeating: "a", count: 63), "a@md5:00", "@sha256:" + String(repeating: "a", count: 64),
        "a b", "a\tb", "é/x", "x/é", "a:" + String(repeating: "t", count: 128), "a:" + String(repeating: "t", count: 129),
        String(repeating: "a", count: 255), String(repeating: "a", count: 256), "a._b", "a.b", "a_b", "a___b", "a-.b",
        "ex.com:5000", "ex.com:5000:tag", "host:abc/x", "UPPER:1/x", "", "a@b@sha256:" + String(repeating: "a", count: 64),
    ]

    @Test func imageReferencesMatchTheGeneralCheck() {
        for ref in Self.images {
            #expect(Formats.imageProblem(ref) == Formats.generalImageProblem(ref), "\(ref.debugDescription)")
            if Formats.isSimpleValidImage(ref) {
                #expect(Formats.generalImageProblem(ref) == nil, "\(ref.debugDescription)")
            }
        }
        for ref in ["nginx", "shop/booking:1.0", "registry.local/travel/booking:1.2.3", "localhost:5000/x:y", "a__b/c.d-e---f:tag_1"] {
            #expect(Formats.isSimpleValidImage(ref), "\(ref.debugDescription)")
        }
    }

    @Test func memorySizesMatchTheGeneralParser() {
        let sizes = [
            "1024", "256Mi", "1Gi", "512M", "64k", "64Ki", "1G", "64K", "64ki", "Mi", "", "12x", "1 Mi", "1Mi ",
            "999999999999999999", "9999999999999999999", "99999999999Gi", "０Mi", "1\u{301}Mi", "1e3",
        ]
        for text in sizes {
            #expect(Formats.memoryBytes(text) == Formats.generalMemoryBytes(text), "\(text.debugDescription)")
            if let fast = Formats.simpleMemoryBytes(text) { #expect(fast == Formats.generalMemoryBytes(text)) }
        }
        #expect(Formats.simpleMemoryBytes("256Mi") == 256 << 20)
    }

    @Test func cpusPercentagesAndVariableNames() {
        #expect(ServiceDecoder.simpleMilliCPUs("0.5") == 500)
        #expect(ServiceDecoder.simpleMilliCPUs("1") == 1000)
        #expect(ServiceDecoder.simpleMilliCPUs("2.250") == 2250)
        #expect(ServiceDecoder.simpleMilliCPUs("0.001") == 1)
        for text in ["0", "0.000", "0.0001", "1234567", ".5", "1.", "+1", "1e3", "0x1", "1.5.1"] {
            #expect(ServiceDecoder.simpleMilliCPUs(text) == nil, "\(text.debugDescription)")
        }
        #expect(FieldReader.simplePercent("25%") == 25)
        #expect(FieldReader.simplePercent("100%") == 100)
        #expect(FieldReader.simplePercent("0%") == 0)
        for text in ["101%", "%", "1000%", "25", "2 5%", "-5%", "25%%"] {
            #expect(FieldReader.simplePercent(text) == nil, "\(text.debugDescription)")
        }
        #expect(!ServiceDecoder.isInvalidVariableName("LOG_LEVEL"))
        #expect(ServiceDecoder.isInvalidVariableName(""))
        #expect(ServiceDecoder.isInvalidVariableName("A=B"))
        #expect(ServiceDecoder.isInvalidVariableName("A\0"))
        #expect(!ServiceDecoder.isInvalidVariableName("ÉTÉ"))
        #expect(ServiceDecoder.isInvalidVariableName("É=T"))
        // '=' followed by a combining mark is not the Character "=" (as String.contains says).
        #expect(ServiceDecoder.isInvalidVariableName("A=\u{301}") == "A=\u{301}".contains("="))
    }

    @Test func fieldNamesCompareAsStrings() throws {
        struct Model: Sendable { var a = 0 }
        let schema = Schema<Model>([.field("image", .port) { $0.a = $1 }, .field("ports", .port) { $0.a = $1 }, .field("K", .port) { $0.a = $1 }])
        func index(of key: String) throws -> Int? {
            var document: FlatDocument?
            _ = YAML.parseFlatDocuments(Array("\"\(key)\": 1\n".utf8)) { document = $0 }
            let doc = try #require(document)
            var key: NodeID?
            doc.forEachEntry(try #require(doc.root)) { key = $0.key }
            return schema.index(of: try #require(key), in: doc)
        }
        #expect(try index(of: "image") == 0)
        #expect(try index(of: "ports") == 1)
        #expect(try index(of: "imag") == nil)
        #expect(try index(of: "\u{212A}") == 2)  // KELVIN SIGN is canonically "K"
    }

    @Test func resolvedShortcutsAgreeWithResolved() {
        let texts = ["", "~", "null", "Null", "NULL", "nul", "true", "1", "-1", "+7", "0x1F", "0o17", "1.5", ".inf", "abc", "0755", "9223372036854775808", "-9223372036854775808"]
        let tags: [String?] = [nil, "!", YAMLTag.str, YAMLTag.int, YAMLTag.null, YAMLTag.float]
        for text in texts {
            for tag in tags {
                for style in [ScalarStyle.plain, .doubleQuoted] {
                    let s = Scalar(value: text, tag: tag, style: style, mark: Mark(line: 1, column: 1))
                    let label = "\(text.debugDescription) \(tag ?? "-") \(style)"
                    #expect(s.resolvesToNull == (s.resolved == .null), "\(label)")
                    if case .int(let n) = s.resolved {
                        #expect(s.resolvedInt == n, "\(label)")
                    } else {
                        #expect(s.resolvedInt == nil, "\(label)")
                    }
                }
            }
        }
    }
}
