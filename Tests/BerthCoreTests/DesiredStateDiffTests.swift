import Testing
import BerthCore

@Suite struct DesiredStateDiffTests {
    let booking = ServiceSpec(name: "booking", image: "shop/booking:1.4.1", replicas: 2, env: ["API_TOKEN": "a", "MODE": "x"])

    @Test func fieldChangesWithDottedPathsSortedAndMasked() {
        var next = booking
        next.image = "shop/booking:1.4.2"
        next.replicas = 3
        next.env = ["API_TOKEN": "b", "MODE": "y", "NEW": "1"]
        next.ports = [PortSpec(containerPort: 8080, publish: 8081)]
        next.source = SourceRef(file: "elsewhere.yaml", line: 9, column: 1)
        let diff = DesiredStateDiff(from: ["booking": booking], to: ["booking": next])
        #expect(diff.changes == [ServiceChange(service: "booking", kind: .changed, fields: [
            FieldChange(path: "spec.env.API_TOKEN", from: .string("(sensitive)"), to: .string("(sensitive)")),
            FieldChange(path: "spec.env.MODE", from: .string("x"), to: .string("y")),
            FieldChange(path: "spec.env.NEW", from: .null, to: .string("1")),
            FieldChange(path: "spec.image", from: .string("shop/booking:1.4.1"), to: .string("shop/booking:1.4.2")),
            FieldChange(path: "spec.ports", from: .null, to: .array([.object(["containerPort": .int(8080), "publish": .int(8081)])])),
            FieldChange(path: "spec.replicas", from: .int(2), to: .int(3)),
        ])])
    }

    @Test func pairsByNameAndIgnoresSourcePlaces() {
        var moved = booking
        moved.source = SourceRef(file: "manifests/shop/booking.yaml", line: 1, column: 1)
        #expect(DesiredStateDiff(from: ["booking": booking], to: ["booking": moved]).isEmpty)
    }

    @Test func addedAndRemovedSortedByService() {
        let web = ServiceSpec(name: "web", image: "web:1")
        let diff = DesiredStateDiff(from: ["web": web], to: ["booking": booking])
        #expect(diff.changes.map(\.service) == ["booking", "web"])
        #expect(diff.changes.map(\.kind) == [.added, .removed])
        #expect(diff.changes[0].fields.first { $0.path == "spec.image" } == FieldChange(path: "spec.image", from: .null, to: .string("shop/booking:1.4.1")))
        #expect(diff.changes[1].fields.allSatisfy { $0.to == .null })
        #expect(diff.summary == (1, 1, 0))
        #expect(diff.only("web").changes.map(\.service) == ["web"])
    }

    @Test func explicitDefaultsAreNoChange() {
        let implicit = ServiceSpec(name: "a", image: "a:1")
        let explicit = ServiceSpec(name: "a", image: "a:1", replicas: 1, update: UpdatePolicy(strategy: .rolling, maxSurge: .count(1)), stopGracePeriod: .seconds(10), restart: .always)
        #expect(DesiredStateDiff(from: ["a": implicit], to: ["a": explicit]).isEmpty)
    }

    @Test func flattensCPUsAndPercentages() {
        var s = ServiceSpec(name: "a", image: "a:1", update: UpdatePolicy(maxSurge: .percent(25)))
        s.resources = Resources(milliCPUs: 1250, memory: 268_435_456)
        let flat = FieldFlattener.flatten(s)
        #expect(flat["spec.resources.cpus"] == .string("1.25"))
        #expect(flat["spec.resources.memory"] == .int(268_435_456))
        #expect(flat["spec.update.maxSurge"] == .string("25%"))
        #expect(flat["spec.stopGracePeriod"] == .string("10s"))
    }
}

@Suite struct RelocatedTests {
    @Test func rewritesEveryPlaceOfTheFile() {
        let file = ManifestLoader.parse(ManifestFile(path: "a.yaml", bytes: Array("""
            apiVersion: berth/v1
            kind: Service
            metadata: {name: web}
            spec: {image: web:1, dependsOn: [db], replicas: three}
            """.utf8)))
        let moved = file.relocated(to: "b/a.yaml")
        #expect(moved.path == "b/a.yaml")
        #expect(moved.diagnostics.map(\.file) == file.diagnostics.map { _ in "b/a.yaml" })
        #expect(!moved.diagnostics.isEmpty)
        #expect(moved.declared.map(\.source.file) == ["b/a.yaml"])
        #expect(moved.declared.flatMap(\.dependsOn).map(\.source.file) == ["b/a.yaml"])
    }
}
