import Testing
import BerthYAML

@Suite struct ErrorTests {
    // The words of the errors a rule explains: ErrorWordingTests.
    @Test func scannerErrorWithContext() {
        let r = parse("a: 1\nb: @x\n")
        #expect(describe(r.errors) == ["scanner 2:4 (2:4) a value cannot start with @: put the value in quotes"])
        #expect(r.errors[0].description == "2:4: a value cannot start with @: put the value in quotes")
    }

    @Test func fatalErrorKeepsEarlierDocuments() {
        let r = parse("a: 1\n---\nb: 2\n---\nc: [\n")
        #expect(r.documents.map { show($0.root) } == ["{a@1:1: 1@1:4}@1:1", "{b@3:1: 2@3:4}@3:1"])
        #expect(describe(r.errors) == ["parser 6:1 (6:1) did not find expected node content (while parsing a flow node)"])
    }

    @Test func invalidUTF8() {
        let r = YAML.parse(Array("a: ok\nb: caf".utf8) + [0xC3, 0x28] + Array("\n".utf8))
        #expect(describe(r.errors) == ["reader 2:8 invalid trailing UTF-8 octet (byte 0x28); the file must be UTF-8 (or UTF-16) text"])
        let lead = YAML.parse(Array("é: x\nb: ".utf8) + [0xFF])
        #expect(describe(lead.errors) == ["reader 2:4 invalid leading UTF-8 octet (byte 0xFF); the file must be UTF-8 (or UTF-16) text"])
    }

    @Test func controlCharacter() {
        let r = YAML.parse(Array("a: b".utf8) + [0x07])
        #expect(describe(r.errors) == ["reader 1:5 control characters are not allowed (U+0007); the file must be UTF-8 (or UTF-16) text"])
    }

    @Test func truncatedFiles() {
        let full = """
            apiVersion: berth/v1
            kind: Service
            metadata: {name: booking, labels: {team: travel}}
            spec:
              image: "shop/booking:1.4.2"
              command: ['/bin/httpd', "-f"]
              env: &env
                A: |
                  text
              health: {http: {path: /healthz, port: 8080}}
            """
        let bytes = Array(full.utf8)
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for n in 0...bytes.count {
                let r = YAML.parse(Array(bytes[..<n]))
                // Either a clean parse or a located error; never a crash.
                for e in r.errors {
                    #expect(e.mark.line >= 1 && e.mark.line <= 11 && e.mark.column >= 1)
                }
            }
        }
        #expect(elapsed < .seconds(1))
        let cut = Array(full.utf8.prefix(while: { $0 != UInt8(ascii: "\"") })).count + 5  // inside "shop/…
        #expect(describe(YAML.parse(Array(bytes[..<cut])).errors) == ["scanner 5:10 (5:10) a quoted value that never ends: the \" opened here has no closing \""])
    }
}

@Suite struct LimitTests {
    @Test func deepFlowNesting() {
        let text = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let clock = ContinuousClock()
        var r: ParseResult!
        let elapsed = clock.measure { r = parse(text) }
        #expect(describe(r.errors) == ["tooDeep 1:257 collections nested more than 256 levels deep; flatten the document"])
        #expect(r.documents.isEmpty)
        #expect(elapsed < .seconds(1))
    }

    @Test func deepBlockMappings() {
        // Line i is i spaces then `k:` (≈ 50 MB): fill with spaces, then write the keys.
        let levels = 10_000
        var bytes = [UInt8](repeating: UInt8(ascii: " "), count: levels * (levels - 1) / 2 + 3 * levels)
        var at = 0
        for i in 0..<levels {
            at += i
            bytes[at] = UInt8(ascii: "k"); bytes[at + 1] = UInt8(ascii: ":"); bytes[at + 2] = 0x0A
            at += 3
        }
        let clock = ContinuousClock()
        var r: ParseResult!
        let elapsed = clock.measure { r = YAML.parse(bytes) }
        #expect(describe(r.errors) == ["tooDeep 257:257 collections nested more than 256 levels deep; flatten the document"])
        #expect(elapsed < .seconds(1))
    }

    @Test func deepBlockSequences() {
        let text = String(repeating: "- ", count: 10_000) + "x\n"
        let r = parse(text)
        #expect(describe(r.errors) == ["tooDeep 1:513 collections nested more than 256 levels deep; flatten the document"])
    }

    @Test func depthLimitIsInclusive() {
        let ok = parse(String(repeating: "[", count: 256) + String(repeating: "]", count: 256))
        #expect(ok.errors.isEmpty)
        #expect(ok.documents.count == 1)
    }

    @Test func tenMegabyteScalar() {
        let bytes = Array("big: \"".utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: 10_000_000)
            + Array("\"\nafter: 1\n".utf8)
        let clock = ContinuousClock()
        var r: ParseResult!
        let elapsed = clock.measure { r = YAML.parse(bytes) }
        #expect(r.errors.isEmpty)
        guard case .mapping(let m) = r.documents.first?.root, case .scalar(let s) = m["big"] else {
            Issue.record("shape"); return
        }
        #expect(s.value.utf8.count == 10_000_000)
        #expect(m["after"]?.mark == Mark(line: 2, column: 8))
        #expect(elapsed < .seconds(1))
    }
}

@Suite struct StreamTests {
    /// libyaml decodes its input in 16 KiB chunks, so a reader error ends the stream at the
    /// chunk it is in: documents in earlier chunks were delivered.
    @Test func readerErrorLateInALongStream() {
        var bytes: [UInt8] = []
        for i in 0..<3_000 { bytes += Array("k: \(i)\n---\n".utf8) }
        bytes += [0xFF]
        var delivered = 0
        let errors = YAML.parseDocuments(bytes) { _ in delivered += 1 }
        #expect(describe(errors) == ["reader 6001:1 invalid leading UTF-8 octet (byte 0xFF); the file must be UTF-8 (or UTF-16) text"])
        #expect(delivered >= 1_000 && delivered < 3_000)
    }

    @Test func documentsStreamOneAtATime() {
        var seen: [String] = []
        let errors = YAML.parseDocuments(Array("a: 1\n---\n- b\n".utf8)) { seen.append(show($0.root)) }
        #expect(errors.isEmpty)
        #expect(seen == ["{a@1:1: 1@1:4}@1:1", "[b@3:3]@3:1"])
    }
}
