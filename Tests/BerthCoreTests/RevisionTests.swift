import Testing
import BerthCore
import Foundation

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

@Suite struct RevisionMemoTests {
    static let yaml = """
        apiVersion: berth/v1
        kind: Service
        metadata: {name: web}
        spec:
          image: shop/web:1.0
          replicas: 2
          env: {A: "1"}

        """

    func loaded() throws -> ServiceSpec {
        let state = ManifestLoader.load([ManifestFile(path: "web.yaml", bytes: Array(Self.yaml.utf8))])
        return try #require(state.services["web"])
    }

    @Test func aLoadedRevisionFollowsEveryTemplateChange() throws {
        let spec = try loaded()
        #expect(spec.revision == Revision(of: spec))
        var image = spec
        image.image = "shop/web:1.1"
        #expect(image.revision == Revision(of: image))
        #expect(image.revision != spec.revision)
        var env = spec
        env.env["A"] = "2"
        #expect(env.revision == Revision(of: env))
        #expect(env.revision != spec.revision)
        var health = spec
        health.health = HealthCheck(probe: .tcp(port: 8080))
        #expect(health.revision != spec.revision)
        var replicas = spec
        replicas.replicas = 5
        #expect(replicas.revision == spec.revision)
    }

    @Test func theMemoIsNeitherEncodedNorCompared() throws {
        let spec = try loaded()
        let data = try JSONEncoder().encode(spec)
        #expect(!String(decoding: data, as: UTF8.self).contains("cachedRevision"))
        let decoded = try JSONDecoder().decode(ServiceSpec.self, from: data)
        #expect(decoded == spec)
        #expect(decoded.revision == spec.revision)
    }
}
