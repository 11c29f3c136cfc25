import Testing
import BerthCore

@Suite struct RevisionTests {
    @Test func replicasDoNotChangeTheRevision() {
        let a = ServiceSpec(name: "booking", image: "shop/booking:1.4.2", replicas: 2)
        var b = a
        b.replicas = 5
        b.autoscale = Autoscale(min: 1, max: 4)
        #expect(a.revision == b.revision)
        var c = a
        c.image = "shop/booking:1.4.3"
        #expect(a.revision != c.revision)
        #expect(a.revision.id.count == 10)
    }

    @Test func sourceIsNotPartOfEquality() {
        var a = ServiceSpec(name: "x", image: "x:1")
        var b = a
        a.source = SourceRef(file: "a.yaml", line: 1, column: 1)
        b.source = SourceRef(file: "b/a.yaml", line: 7, column: 1)
        #expect(a == b)
    }

    @Test func durations() {
        #expect(Millis(parsing: "1m30s") == Millis(90_000))
        #expect(Millis(parsing: "250ms") == Millis(250))
        #expect(Millis(parsing: "1.5s") == Millis(1500))
        #expect(Millis(parsing: "2") == nil)
        #expect(Millis(parsing: "2d") == nil)
        #expect(Millis(90_000).description == "1m30s")
        #expect(Millis(250).description == "250ms")
    }
}
