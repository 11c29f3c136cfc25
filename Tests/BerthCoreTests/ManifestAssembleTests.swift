import Testing
import BerthCore

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
            #"c.yaml:7:15: warning: spec.dependsOn[0]: service "gateway" is held back: it depends on "booking", which has errors"#,
        ])
        #expect(state.services.keys.sorted() == ["search"])
        #expect(state.hasErrors)
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
