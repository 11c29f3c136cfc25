import Testing
@testable import BerthCore

/// The checks across files: duplicate names, unknown dependencies, cycles, shared host ports.
@Suite struct ManifestAssembleTests {
    @Test func duplicateNamesNameTheOtherPlace() {
        let state = loadManifests([
            ("manifests/a.yaml", service("booking")),
            ("manifests/b.yaml", "# another copy\n" + service("booking")),
            ("manifests/c.yaml", service("customer")),
        ])
        #expect(state.diagnostics.map(\.rendered) == [
            #"manifests/a.yaml:4:9: error: metadata.name: service "booking" is also defined at manifests/b.yaml:5:9"#,
            #"manifests/b.yaml:5:9: error: metadata.name: service "booking" is also defined at manifests/a.yaml:4:9"#,
        ])
        // Neither copy is trusted; the other services stay.
        #expect(state.services.keys.sorted() == ["customer"])
    }

    @Test func unknownDependenciesWithSuggestions() {
        let state = loadManifests([
            ("a.yaml", service("gateway", "dependsOn: [bookng, customer, payments]")),
            ("b.yaml", service("booking")),
            ("c.yaml", service("customer")),
        ])
        #expect(state.diagnostics.map(\.rendered) == [
            #"a.yaml:7:15: error: spec.dependsOn[0]: unknown service "bookng"; did you mean "booking"?"#,
            #"a.yaml:7:33: error: spec.dependsOn[2]: unknown service "payments": no manifest defines it"#,
        ])
        #expect(state.services.keys.sorted() == ["booking", "customer"])
    }

    @Test func cyclesAreSpelledOut() {
        let state = loadManifests([
            ("booking.yaml", service("booking", "dependsOn: [gateway]")),
            ("gateway.yaml", service("gateway", "dependsOn: [booking]")),
            ("self.yaml", service("loop", "dependsOn: [loop]")),
            ("web.yaml", service("web", "dependsOn: [gateway]")),
            ("ok.yaml", service("ok")),
        ])
        #expect(state.diagnostics.map(\.rendered) == [
            "booking.yaml:7:15: error: spec.dependsOn[0]: dependency cycle: booking → gateway → booking; remove one of these dependsOn entries",
            "self.yaml:7:15: error: spec.dependsOn[0]: dependency cycle: loop → loop; remove one of these dependsOn entries",
            #"web.yaml:7:15: warning: spec.dependsOn[0]: service "web" is held back: it depends on "gateway", which has errors"#,
        ])
        #expect(state.services.keys.sorted() == ["ok"])
    }

    @Test func servicesWithErrorsAreLeftOutAndTheirDependentsHeldBack() {
        let state = loadManifests([
            ("a.yaml", service("customer", "replicas: many")),
            ("b.yaml", service("booking", "dependsOn: [customer]")),
            ("c.yaml", service("gateway", "dependsOn: [booking]")),
            ("d.yaml", service("search")),
        ])
        #expect(state.diagnostics.map(\.rendered) == [
            #"a.yaml:7:13: error: spec.replicas: expected an integer, found "many""#,
            #"b.yaml:7:15: warning: spec.dependsOn[0]: service "booking" is held back: it depends on "customer", which has errors"#,
            #"c.yaml:7:15: warning: spec.dependsOn[0]: service "gateway" is held back: it depends on "booking", which is held back"#,
        ])
        #expect(state.services.keys.sorted() == ["search"])
        #expect(state.hasErrors)
    }

    @Test func aHeldBackServiceNamesTheDependencyWithErrorsFirst() {
        // web depends on api (held back, later in file order) and db (has errors): the
        // warning points at db, the one to fix, whatever the order of dependsOn.
        let state = loadManifests([
            ("a.yaml", service("web", "dependsOn: [api, db]")),
            ("b.yaml", service("api", "dependsOn: [db]")),
            ("c.yaml", service("db", "replicas: -1")),
        ])
        #expect(state.diagnostics.map(\.rendered) == [
            #"a.yaml:7:20: warning: spec.dependsOn[1]: service "web" is held back: it depends on "db", which has errors"#,
            #"b.yaml:7:15: warning: spec.dependsOn[0]: service "api" is held back: it depends on "db", which has errors"#,
            "c.yaml:7:13: error: spec.replicas: expected an integer of at least 0, found -1",
        ])
        #expect(state.services.isEmpty)
    }

    /// Thousands of services in a chain whose far end is broken, and thousands of dangling
    /// dependsOn names: every one is reported, in time linear in the services (the checks
    /// used to take minutes here: a pass over all services per link of the chain, and an
    /// edit distance to every service name per dangling name).
    @Test func largeRepositoriesWithManyProblemsAreCheckedInOnePass() {
        let chain = 5_000, dangling = 1_000
        func padded(_ i: Int) -> String { String(repeating: "0", count: 5 - String(i).count) + "\(i).yaml" }
        var files: [(String, String)] = []
        for i in 0..<chain {
            let next = i + 1 < chain ? "dependsOn: [svc-\(i + 1)]" : "replicas: -1"
            files.append(("chain/" + padded(i), service("svc-\(i)", next)))
        }
        for i in 0..<dangling {
            files.append(("dangling/" + padded(i), service("web-\(i)", "dependsOn: [retired-service-\(i)]")))
        }
        let state = loadManifests(files)
        // Membership checked as Bools: a failure should not print 6,000 lines.
        let rendered = Set(state.diagnostics.map(\.rendered))
        #expect(state.services.isEmpty)
        #expect(rendered.count == chain + dangling)
        #expect(rendered.filter { $0.hasSuffix("which is held back") }.count == chain - 2)
        let nearEnd = rendered.contains(
            #"chain/04998.yaml:7:15: warning: spec.dependsOn[0]: service "svc-4998" is held back: it depends on "svc-4999", which has errors"#)
        let farEnd = rendered.contains(
            #"chain/00000.yaml:7:15: warning: spec.dependsOn[0]: service "svc-0" is held back: it depends on "svc-1", which is held back"#)
        #expect(nearEnd && farEnd)
        // No dangling name is within two edits of a service name; the first ones are
        // compared with every name, the rest (past the budget of comparisons) say why not.
        #expect(rendered.filter { $0.contains("no manifest defines it") }.count == dangling)
        let first = rendered.contains(
            #"dangling/00000.yaml:7:15: error: spec.dependsOn[0]: unknown service "retired-service-0": no manifest defines it"#)
        let last = rendered.contains(
            #"dangling/00999.yaml:7:15: error: spec.dependsOn[0]: unknown service "retired-service-999": no manifest defines it (too many unknown services to look for a close name)"#)
        #expect(first && last)
    }

    @Test func suggestionsForDanglingNamesWithinTheBudget() {
        var budget = 3
        #expect(Suggestion.closest(to: "bookng", among: ["booking", "customer", "gateway"], budget: &budget) == "booking")
        #expect(budget == 0)
        // Not enough budget left for every candidate: no suggestion rather than a partial one.
        #expect(Suggestion.closest(to: "bookng", among: ["booking"], budget: &budget) == nil)
        var plenty = Int.max
        #expect(Suggestion.closest(to: "CUSTOMER", among: ["booking", "customer"], budget: &plenty) == "customer")
        #expect(Suggestion.closest(to: "custmer-2", among: ["customer-1", "customer-2"], budget: &plenty) == "customer-2")
        #expect(Suggestion.closest(to: "über", among: ["Uber", "ÜBER"], budget: &plenty) == "ÜBER")
    }

    @Test func anInvalidNameIsNotAlsoAnUnknownService() {
        let state = loadManifests([
            ("a.yaml", service("Customer")),
            ("b.yaml", service("booking", "dependsOn: [Customer]")),
        ])
        #expect(state.diagnostics.map(\.rendered) == [
            #"a.yaml:4:9: error: metadata.name: invalid service name "Customer": use lowercase letters, digits and '-', starting and ending with a letter or digit (RFC 1123)"#,
            #"b.yaml:7:15: warning: spec.dependsOn[0]: service "booking" is held back: it depends on "Customer", which has errors"#,
        ])
        #expect(state.services.isEmpty)
    }

    @Test func aHostPortPublishedTwice() {
        let state = loadManifests([
            ("a.yaml", service("booking", "ports: [{containerPort: 80, publish: 8080}]")),
            ("b.yaml", service("gateway", "ports: [{containerPort: 80, publish: 8080}]")),
        ])
        #expect(state.diagnostics.map(\.rendered) == [
            #"a.yaml:7:40: error: spec.ports[0].publish: host port 8080 is also published by service "gateway" at b.yaml:7:40"#,
            #"b.yaml:7:40: error: spec.ports[0].publish: host port 8080 is also published by service "booking" at a.yaml:7:40"#,
        ])
        #expect(state.services.isEmpty)
    }

    @Test func handBuiltFilesAssembleToo() {
        let a = FileManifests(path: "x", services: [ServiceSpec(name: "a", image: "i", dependsOn: ["b"])])
        let b = FileManifests(path: "y", services: [ServiceSpec(name: "b", image: "i", dependsOn: ["a"])])
        let state = ManifestLoader.assemble([a, b], commit: "abc")
        #expect(state.diagnostics.map(\.rendered) == [
            "x:1:1: error: spec.dependsOn[0]: dependency cycle: a → b → a; remove one of these dependsOn entries"
        ])
        #expect(state.commit == "abc")
    }

    @Test func sameInputSameOutputWhateverTheFileOrder() {
        let files = [
            ("a.yaml", service("booking", "dependsOn: [gateway, nope]")),
            ("b.yaml", service("gateway", "dependsOn: [booking]")),
            ("c.yaml", service("booking")),
        ]
        let forward = loadManifests(files), backward = loadManifests(files.reversed())
        #expect(forward == backward)
        #expect(forward.diagnostics.count == 4)
    }
}

/// Warnings for held-back services, and "did you mean" for many unknown names.
@Suite struct ManifestHoldBackTests {
    /// One strongly connected group reported as the cycle a → b → a: following the
    /// warnings from any held-back service ends at a service with errors (x → y → z → b),
    /// never in a loop between two held-back services.
    @Test func warningsLeadToTheServiceWithErrors() {
        let state = loadManifests([
            ("a.yaml", service("a", "dependsOn: [b, x]")),
            ("b.yaml", service("b", "dependsOn: [a]")),
            ("x.yaml", service("x", "dependsOn: [y]")),
            ("y.yaml", service("y", "dependsOn: [x, z]")),
            ("z.yaml", service("z", "dependsOn: [b]")),
        ])
        #expect(state.diagnostics.map(\.rendered) == [
            "a.yaml:7:15: error: spec.dependsOn[0]: dependency cycle: a → b → a; remove one of these dependsOn entries",
            #"x.yaml:7:15: warning: spec.dependsOn[0]: service "x" is held back: it depends on "y", which is held back"#,
            #"y.yaml:7:18: warning: spec.dependsOn[1]: service "y" is held back: it depends on "z", which is held back"#,
            #"z.yaml:7:15: warning: spec.dependsOn[0]: service "z" is held back: it depends on "b", which has errors"#,
        ])
        #expect(state.services.isEmpty)
        // The same warnings whatever the order of the files.
        let shuffled = loadManifests([
            ("z.yaml", service("z", "dependsOn: [b]")),
            ("y.yaml", service("y", "dependsOn: [x, z]")),
            ("b.yaml", service("b", "dependsOn: [a]")),
            ("x.yaml", service("x", "dependsOn: [y]")),
            ("a.yaml", service("a", "dependsOn: [b, x]")),
        ])
        #expect(shuffled.diagnostics == state.diagnostics)
    }

    /// Past the budget of comparisons, an unknown name gets no suggestion and the error
    /// says why; the names looked up before still get theirs.
    @Test func suggestionsStopAtTheBudget() {
        var files: [(String, String)] = []
        for i in 0..<20 { files.append(("svc/\(i).yaml", service("svc-\(i)"))) }
        for i in 0..<4 { files.append(("web/\(i).yaml", service("web-\(i)", "dependsOn: [svc-\(i)x]"))) }
        // 24 names: a budget of 50 pays for two look-ups.
        let parsed = files.map { ManifestLoader.parse(ManifestFile(path: $0.0, bytes: Array($0.1.utf8))) }
        let state = ManifestLoader.assemble(parsed, commit: nil, suggestionBudget: 50)
        #expect(state.diagnostics.map(\.rendered) == [
            #"web/0.yaml:7:15: error: spec.dependsOn[0]: unknown service "svc-0x"; did you mean "svc-0"?"#,
            #"web/1.yaml:7:15: error: spec.dependsOn[0]: unknown service "svc-1x"; did you mean "svc-1"?"#,
            #"web/2.yaml:7:15: error: spec.dependsOn[0]: unknown service "svc-2x": no manifest defines it (too many unknown services to look for a close name)"#,
            #"web/3.yaml:7:15: error: spec.dependsOn[0]: unknown service "svc-3x": no manifest defines it (too many unknown services to look for a close name)"#,
        ])
        // With the default budget every one gets its suggestion.
        #expect(ManifestLoader.assemble(parsed).diagnostics.allSatisfy { $0.message.contains("did you mean") })
    }

    @Test func suggestionsCompareCanonicallyEquivalentText() {
        // "é" precomposed and decomposed are the same text; so are K and KELVIN SIGN.
        #expect(Suggestion.closest(to: "\u{E9}", among: ["e\u{301}", "f"]) == "e\u{301}")
        #expect(Suggestion.closest(to: "k", among: ["\u{212A}"]) == "\u{212A}")
    }
}
