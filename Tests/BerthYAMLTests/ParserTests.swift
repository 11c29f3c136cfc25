import Testing
import BerthYAML

@Suite struct ParserTests {
    @Test func blockMappingWithMarks() {
        let r = parse("""
            apiVersion: berth/v1
            kind: Service
            metadata:
              name: booking
            spec:
              replicas: 3
              ports:
                - containerPort: 8080
                  publish: 8081
            """)
        #expect(r.errors.isEmpty)
        #expect(r.documents.count == 1)
        #expect(show(r.documents[0].root) == "{apiVersion@1:1: berth/v1@1:13, kind@2:1: Service@2:7, metadata@3:1: {name@4:3: booking@4:9}@4:3, spec@5:1: {replicas@6:3: 3@6:13, ports@7:3: [{containerPort@8:7: 8080@8:22, publish@9:7: 8081@9:16}@8:7]@8:5}@6:3}@1:1")
        #expect(r.documents[0].start == Mark(line: 1, column: 1))
        guard case .mapping(let m) = r.documents[0].root, case .mapping(let spec) = m["spec"] else {
            Issue.record("not a mapping"); return
        }
        guard case .scalar(let replicas) = spec["replicas"] else { Issue.record("no replicas"); return }
        #expect(replicas.resolved == .int(3))
        #expect(m["missing"] == nil)
    }

    @Test func flowStylesAndComments() {
        let r = parse("""
            # leading comment
            labels: {team: travel, tier: "web"}   # trailing
            command: ["/bin/httpd", -f, '-p']
            # between
            empty: []
            none: {}
            """)
        #expect(r.errors.isEmpty)
        #expect(show(r.documents[0].root) == #"{labels@2:1: f{team@2:10: travel@2:16, tier@2:24: "web"@2:30}@2:9, command@3:1: f["/bin/httpd"@3:11, -f@3:25, '-p'@3:29]@3:10, empty@5:1: f[]@5:8, none@6:1: f{}@6:7}@2:1"#)
    }

    @Test func allFiveScalarStyles() {
        let r = parse("""
            plain: a b
            single: 'it''s'
            double: "tab\\there\\u00e9"
            literal: |
              line 1
              line 2
            folded: >
              word
              word
            """)
        #expect(r.errors.isEmpty)
        #expect(show(r.documents[0].root) == "{plain@1:1: a b@1:8, single@2:1: 'it's'@2:9, double@3:1: \"tab\there\u{e9}\"@3:9, literal@4:1: |line 1\nline 2\n@4:10, folded@7:1: >word word@7:9}@1:1")  // clip: no line break at the end of input
    }

    @Test func quotedKeys() {
        let r = parse("""
            "a b": 1
            'c': 2
            ? d
            : 3
            """)
        #expect(r.errors.isEmpty)
        #expect(show(r.documents[0].root) == #"{"a b"@1:1: 1@1:8, 'c'@2:1: 2@2:6, d@3:3: 3@4:3}@1:1"#)
    }

    @Test func explicitTags() {
        let r = parse("""
            a: !!str 8080
            b: !!int "12"
            c: ! 12
            d: !local x
            e: !!map {k: v}
            f: !!seq [1]
            """)
        #expect(r.errors.isEmpty)
        #expect(show(r.documents[0].root) == #"{a@1:1: !<tag:yaml.org,2002:str> 8080@1:4, b@2:1: !<tag:yaml.org,2002:int> "12"@2:4, c@3:1: !<!> 12@3:4, d@4:1: !<!local> x@4:4, e@5:1: !<tag:yaml.org,2002:map> f{k@5:11: v@5:14}@5:4, f@6:1: !<tag:yaml.org,2002:seq> f[1@6:11]@6:4}@1:1"#)
        guard case .mapping(let m) = r.documents[0].root else { Issue.record("no mapping"); return }
        func resolved(_ k: String) -> ResolvedScalar? {
            if case .scalar(let s) = m[k] { s.resolved } else { nil }
        }
        #expect(resolved("a") == .string("8080"))
        #expect(resolved("b") == .int(12))
        #expect(resolved("c") == .string("12"))  // the non-specific tag `!` means string
        #expect(resolved("d") == .string("x"))
        #expect(m["e"]?.tag == YAMLTag.map)
    }

    @Test func multiDocumentStream() {
        let r = parse("""
            a: 1
            ---
            b: 2
            ...
            --- c
            ---
            # only a comment
            ---
            - x
            """)
        #expect(r.errors.isEmpty)
        #expect(r.documents.map { show($0.root) } == ["{a@1:1: 1@1:4}@1:1", "{b@3:1: 2@3:4}@3:1", "c@5:5", "nil", "[x@9:3]@9:1"])
        #expect(r.documents.map(\.start) == [Mark(line: 1, column: 1), Mark(line: 2, column: 1), Mark(line: 5, column: 1), Mark(line: 6, column: 1), Mark(line: 8, column: 1)])
    }

    @Test func emptyInputs() {
        for text in ["", "\n\n", "# just a comment\n# another\n", "   \n"] {
            let r = parse(text)
            #expect(r.errors.isEmpty)
            #expect(r.documents.isEmpty, "\(text.debugDescription)")
        }
        let explicit = parse("---\n")
        #expect(explicit.errors.isEmpty)
        #expect(explicit.documents.map { show($0.root) } == ["nil"])
        let quoted = parse("--- ''\n")
        #expect(quoted.documents.map { show($0.root) } == ["''@1:5"])
    }

    @Test func crlfLineEndings() {
        let r = parse("a: 1\r\nb:\r\n  - x\r\n  - \"y\"\r\nc: |\r\n  t\r\n")
        #expect(r.errors.isEmpty)
        #expect(show(r.documents[0].root) == "{a@1:1: 1@1:4, b@2:1: [x@3:5, \"y\"@4:5]@3:3, c@5:1: |t\n@5:4}@1:1")
        let bad = parse("a: 1\r\nb: 2\r\n  c: 3\r\n")
        #expect(describe(bad.errors) == ["scanner 3:3 this line is indented by 2 spaces, deeper than b: on line 2 (0), so YAML reads it as more of b's value; line it up with its siblings (0 spaces)"])
    }

    @Test func utf8BOM() {
        let r = YAML.parse([0xEF, 0xBB, 0xBF] + Array("a: 1\nb: [x]\n".utf8))
        #expect(r.errors.isEmpty)
        #expect(show(r.documents[0].root) == "{a@1:1: 1@1:4, b@2:1: f[x@2:5]@2:4}@1:1")
    }

    @Test func nonASCIIColumnsCountCharacters() {
        let r = parse("städte: [zürich, 東京, \"🚢\"]\nnext: ok\n")
        #expect(r.errors.isEmpty)
        #expect(show(r.documents[0].root) == "{städte@1:1: f[zürich@1:10, 東京@1:18, \"🚢\"@1:22]@1:9, next@2:1: ok@2:7}@1:1")
        let bad = parse("é: [a\n")
        #expect(describe(bad.errors) == ["parser 1:4 (1:4) the [ opened here is not closed: add ] at its end, and a ',' between its items"])
    }

    @Test func nodesCompareWithoutMarks() {
        let a = parse("{a: 1, b: [x]}").documents[0].root
        let b = parse("a:   1\nb:\n  - x\n").documents[0].root
        #expect(a == b)
        #expect(a != parse("{a: 1, b: [y]}").documents[0].root)
    }
}
