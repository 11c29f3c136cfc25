import Testing
import BerthYAML

@Suite struct AnchorMergeTests {
    /// A node with properties (`&anchor`, `!tag`) starts where its properties start.
    @Test func anchorsAndAliasesKeepTheAnchorsMarks() {
        let r = parse("""
            base: &b {x: 1}
            copy: *b
            list: [&s scalar, *s]
            """)
        #expect(r.errors.isEmpty)
        #expect(show(r.documents[0].root) == "{base@1:1: f{x@1:11: 1@1:14}@1:7, copy@2:1: f{x@1:11: 1@1:14}@1:7, list@3:1: f[scalar@3:8, scalar@3:8]@3:7}@1:1")
    }

    @Test func singleMerge() {
        let r = parse("""
            defaults: &d
              restart: always
              replicas: 1
            svc:
              <<: *d
              replicas: 3
              image: x
            """)
        #expect(r.errors.isEmpty)
        #expect(show(r.documents[0].root) == "{defaults@1:1: {restart@2:3: always@2:12, replicas@3:3: 1@3:13}@1:11, svc@4:1: {replicas@6:3: 3@6:13, image@7:3: x@7:10, restart@2:3: always@2:12}@5:3}@1:1")
        guard case .mapping(let root) = r.documents[0].root, case .mapping(let svc) = root["svc"] else {
            Issue.record("shape"); return
        }
        #expect(svc.entries.map(\.mergedFrom) == [nil, nil, Mark(line: 5, column: 3)])
    }

    @Test func listMergeEarlierWinsAndLocalOverrides() {
        let r = parse("""
            a: &a {x: a, y: a}
            b: &b {x: b, z: b}
            c:
              <<: [*a, *b]
              y: local
            d: {<<: {k: inline}, <<x: not a merge}
            """)
        #expect(r.errors.isEmpty)
        #expect(show(r.documents[0].root) == "{a@1:1: f{x@1:8: a@1:11, y@1:14: a@1:17}@1:4, b@2:1: f{x@2:8: b@2:11, z@2:14: b@2:17}@2:4, c@3:1: {y@5:3: local@5:6, x@1:8: a@1:11, z@2:14: b@2:17}@4:3, d@6:1: f{<<x@6:22: not a merge@6:27, k@6:10: inline@6:13}@6:4}@1:1")
    }

    @Test func quotedOrTaggedMergeKeys() {
        let r = parse("""
            a: {"<<": {k: v}}
            b: {!!merge <<: {k: v}}
            """)
        #expect(r.errors.isEmpty)
        #expect(show(r.documents[0].root) == #"{a@1:1: f{"<<"@1:5: f{k@1:12: v@1:15}@1:11}@1:4, b@2:1: f{k@2:18: v@2:21}@2:4}@1:1"#)
    }

    @Test func badMergeDropsTheDocumentOnly() {
        let r = parse("""
            a:
              <<: 3
            ---
            b: {<<: [{k: v}, [x]]}
            ---
            ok: true
            """)
        #expect(describe(r.errors) == [
            "badMerge 2:7 (2:3) merge key \"<<\" expects a mapping or a list of mappings, found an integer",
            "badMerge 4:18 (4:5) merge key \"<<\" expects a list of mappings, found a list holding a list",
        ])
        #expect(r.documents.map { show($0.root) } == ["{ok@6:1: true@6:5}@6:1"])
    }

    @Test func unknownAlias() {
        let r = parse("""
            a: &x 1
            ---
            b: *x
            c: [*y]
            ---
            d: 2
            """)
        #expect(describe(r.errors) == [
            "unknownAlias 3:4 unknown alias \"*x\": no anchor \"&x\" before it in this document",
            "unknownAlias 4:5 unknown alias \"*y\": no anchor \"&y\" before it in this document",
        ])
        #expect(r.documents.map { show($0.root) } == ["{a@1:1: 1@1:4}@1:1", "{d@6:1: 2@6:4}@6:1"])
    }

    @Test func duplicateKeysKeepTheFirstValue() {
        let r = parse("""
            kind: Service
            spec:
              image: a
              replicas: 1
              image: b
            "kind": again
            """)
        #expect(describe(r.errors) == [
            "duplicateKey 5:3 (3:3) duplicate key \"image\" (first at 3:3); the first value is used, remove one of them",
            "duplicateKey 6:1 (1:1) duplicate key \"kind\" (first at 1:1); the first value is used, remove one of them",
        ])
        #expect(show(r.documents[0].root) == "{kind@1:1: Service@1:7, spec@2:1: {image@3:3: a@3:10, replicas@4:3: 1@4:13}@3:3}@1:1")
    }

    @Test func duplicateKeysInLargeMappingsAndByValue() {
        var text = ""
        // 40 keys: past the linear scan, into the dictionary.
        for i in 0..<40 { text += "k\(i): \(i)\n" }
        text += "k15: again\n0x10: hex\n16: dec\n"
        let r = parse(text)
        #expect(describe(r.errors) == [
            "duplicateKey 41:1 (16:1) duplicate key \"k15\" (first at 16:1); the first value is used, remove one of them",
            "duplicateKey 43:1 (42:1) duplicate key \"16\" (first at 42:1); the first value is used, remove one of them",
        ])
        guard case .mapping(let m) = r.documents[0].root else { Issue.record("shape"); return }
        #expect(m.entries.count == 41)
        // Below the threshold, the hashed linear scan.
        let small = parse("a: 1\nb: 2\n'a': 3\n")
        #expect(describe(small.errors) == ["duplicateKey 3:1 (1:1) duplicate key \"a\" (first at 1:1); the first value is used, remove one of them"])
        // Nested mappings keep their own key sets.
        let nested = parse("a: {x: 1, y: {x: 2, a: 3}}\nb: {x: 4}\n")
        #expect(nested.errors.isEmpty)
    }

    @Test func aliasBudgetStopsBillionLaughsFast() {
        var text = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for i in 1...9 {
            let refs = Array(repeating: "*a\(i - 1)", count: 9).joined(separator: ", ")
            text += "a\(i): &a\(i) [\(refs)]\n"
        }
        let clock = ContinuousClock()
        var r: ParseResult!
        let elapsed = clock.measure { r = parse(text) }
        #expect(describe(r.errors) == ["aliasBudget 6:10 aliases expand to more than 100000 nodes in this document (a \"billion laughs\" document?); use fewer or smaller aliases"])
        #expect(r.documents.isEmpty)
        #expect(elapsed < .milliseconds(50))
        // The same document under a budget big enough for it parses, sharing subtrees.
        let small = parse("a: &a [x, y]\nb: [*a, *a]\n", limits: YAMLLimits(maxAliasNodes: 6))
        #expect(small.errors.isEmpty)
        let over = parse("a: &a [x, y]\nb: [*a, *a, *a]\n", limits: YAMLLimits(maxAliasNodes: 6))
        #expect(describe(over.errors) == ["aliasBudget 2:13 aliases expand to more than 6 nodes in this document (a \"billion laughs\" document?); use fewer or smaller aliases"])
    }

    @Test func aliasesCountTowardsDepth() {
        let r = parse("a: &a [[[x]]]\nb: [[*a]]\n", limits: YAMLLimits(maxDepth: 5))
        #expect(describe(r.errors) == ["tooDeep 2:6 alias \"*a\" nests collections more than 5 levels deep; flatten the document"])
        let ok = parse("a: &a [[[x]]]\nb: [*a]\n", limits: YAMLLimits(maxDepth: 5))
        #expect(ok.errors.isEmpty)
    }
}

@Suite struct DuplicateKeyEdgeTests {
    @Test func aliasUsedAsKeyIsComparedByValue() {
        let r = parse("a: &k name\nm: {name: 1, *k : 2}\n")
        #expect(describe(r.errors) == ["duplicateKey 1:4 (2:5) duplicate key \"name\" (first at 2:5); the first value is used, remove one of them"])
    }

    @Test func differentSpellingsOfOneValueClash() {
        let r = parse("{1: a, 0x1: b, ~: c, null: d, \"x\": e, x: f, 'y': g}")
        #expect(describe(r.errors) == [
            "duplicateKey 1:8 (1:2) duplicate key \"0x1\" (first at 1:2); the first value is used, remove one of them",
            "duplicateKey 1:22 (1:16) duplicate key \"null\" (first at 1:16); the first value is used, remove one of them",
            "duplicateKey 1:39 (1:31) duplicate key \"x\" (first at 1:31); the first value is used, remove one of them",
        ])
    }
}

@Suite struct ComposerEdgeTests {
    @Test func complexKeysCompareByStructure() {
        let r = parse("? [a, b]\n: 1\n? [a, b]\n: 2\n")
        #expect(describe(r.errors) == ["duplicateKey 3:3 (1:3) duplicate key (a list) (first at 1:3); the first value is used, remove one of them"])
        #expect(show(r.documents[0].root) == "{f[a@1:4, b@1:7]@1:3: 1@2:3}@1:1")
    }

    @Test func aliasOfAMappingThatMerged() {
        let r = parse("""
            base: &base {a: 1}
            mid: &mid {<<: *base, b: 2}
            top: {<<: *mid, c: 3}
            """)
        #expect(r.errors.isEmpty)
        #expect(show(r.documents[0].root) == "{base@1:1: f{a@1:14: 1@1:17}@1:7, mid@2:1: f{b@2:23: 2@2:26, a@1:14: 1@1:17}@2:6, top@3:1: f{c@3:17: 3@3:20, b@2:23: 2@2:26, a@1:14: 1@1:17}@3:6}@1:1")
    }

    @Test func errorsAreValuesWithAReadableDescription() {
        let e = parse("a: [1,\n").errors
        #expect(e.map(\.description) == ["2:1: did not find expected node content (while parsing a flow node)"])
        #expect(e.map(\.kind) == [.parser])
    }
}
