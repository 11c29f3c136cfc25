import Foundation
import Testing
import BerthCore

/// Valid manifests in every YAML spelling decode to the same, exactly known services.
@Suite struct ManifestCorpusTests {
    static let booking = ServiceSpec(
        name: "booking", labels: ["team": "travel"], image: "shop/booking:1.0", replicas: 3,
        env: ["PORT": "8080"], ports: [PortSpec(containerPort: 8080, publish: 8081)], dependsOn: ["customer"],
        health: HealthCheck(probe: .http(path: "/healthz", port: 8080)))
    static let customer = ServiceSpec(name: "customer", image: "shop/customer:1.0")

    private func expectValid(_ text: String, _ expected: [ServiceSpec], sourceLocation: SourceLocation = #_sourceLocation) {
        let state = loadManifests([("m.yaml", text)])
        #expect(state.diagnostics.map(\.rendered) == [], sourceLocation: sourceLocation)
        #expect(state.sortedServices == expected, sourceLocation: sourceLocation)
    }

    @Test func blockStyle() {
        expectValid("""
            apiVersion: berth/v1
            kind: Service
            metadata:
              name: booking
              labels:
                team: travel
            spec:
              image: shop/booking:1.0
              replicas: 3
              env:
                PORT: 8080
              ports:
                - containerPort: 8080
                  publish: 8081
              dependsOn:
                - customer
              health:
                http:
                  path: /healthz
                  port: 8080
            ---
            apiVersion: berth/v1
            kind: Service
            metadata: {name: customer}
            spec: {image: shop/customer:1.0}

            """, [Self.booking, Self.customer])
    }

    @Test func flowStyleCommentsAndQuotedKeys() {
        expectValid("""
            # The whole object in flow style, keys quoted three ways.
            {"apiVersion": "berth/v1", 'kind': Service,   # a comment inside a flow mapping
             metadata: {name: "booking", labels: {team: 'travel'}},
             spec: {image: "shop/booking:1.0", replicas: 3, env: {"PORT": "8080"},
                    ports: [{containerPort: 8080, publish: 8081}], dependsOn: [customer],
                    health: {http: {path: "/healthz", port: 8080}}}}
            --- # a second document
            apiVersion: berth/v1 # trailing comment
            kind: Service
            metadata: {name: customer}
            spec:
              image: shop/customer:1.0   # comments everywhere
            ...
            ---
            # an empty document is skipped

            """, [Self.booking, Self.customer])
    }

    @Test func anchorsAliasesAndMergeKeys() {
        expectValid("""
            apiVersion: berth/v1
            kind: Service
            metadata:
              name: booking
              labels: &labels {team: travel}
            spec:
              image: shop/booking:1.0
              replicas: 3
              env: {PORT: &port 8080}
              ports: [{containerPort: *port, publish: 8081}]
              dependsOn: [customer]
              health:
                <<: &probe {http: {path: /healthz, port: *port}, interval: 5s}
                interval: 2s        # local keys win over merged ones
            ---
            apiVersion: berth/v1
            kind: Service
            metadata: {name: customer}
            spec:
              <<: [{image: shop/customer:1.0}, {image: ignored/earlier-wins:1}]

            """, [Self.booking, Self.customer])
    }

    @Test func crlfLineEndingsAndByteOrderMark() {
        let text = "\u{FEFF}apiVersion: berth/v1\r\nkind: Service\r\nmetadata:\r\n  name: customer\r\nspec:\r\n  image: shop/customer:1.0\r\n"
        expectValid(text, [Self.customer])
        // Places stay right: a problem on line 4 of a CRLF file is reported on line 4.
        let bad = "\u{FEFF}apiVersion: berth/v1\r\nkind: Service\r\nmetadata:\r\n  name: Customer\r\nspec:\r\n  image: a\r\n"
        #expect(problems(bad).first?.hasPrefix("m.yaml:4:9: error: metadata.name: ") == true)
    }

    @Test func nonASCIIText() throws {
        let text = """
            apiVersion: berth/v1
            kind: Service
            metadata: {name: customer, labels: {équipe: "voyages ✈"}}
            spec:
              image: shop/customer:1.0
              env: {GREETING: "こんにちは", NAME: Zoë}
              replicas: 漢字

            """
        // Columns count Unicode scalars: 漢字 starts at column 13.
        #expect(problems(text) == [#"m.yaml:7:13: error: spec.replicas: expected an integer, found "漢字""#])
        let file = parseManifest(text.replacingOccurrences(of: "  replicas: 漢字\n", with: ""))
        let spec = try #require(file.services.first)
        #expect(spec.labels == ["équipe": "voyages ✈"])
        #expect(spec.env == ["GREETING": "こんにちは", "NAME": "Zoë"])
    }

    @Test func spelledOutDefaultsAreTheSameDesiredState() throws {
        let minimal = parseManifest(service("booking", "health: {http: {port: 8080}}"))
        let explicit = parseManifest(service("booking", """
            replicas: 1
            env: {}
            ports: []
            dependsOn: []
            health:
              http: {path: /, port: 8080}
              interval: 2s
              timeout: 1000ms
              startPeriod: 0s
              failureThreshold: 3
            update:
              strategy: rolling
              maxSurge: 1
              maxUnavailable: 0
              progressDeadline: 2m
              onFailure: rollback
            stopGracePeriod: 10s
            restart: always
            """))
        #expect(explicit.diagnostics == [])
        let a = try #require(minimal.services.first), b = try #require(explicit.services.first)
        #expect(a == b)
        #expect(a.revision == b.revision)
        #expect(a == ServiceSpec(name: "booking", image: "shop/booking:1.0", health: HealthCheck(probe: .http(path: "/", port: 8080))))
        // Order of ports and dependsOn does not matter either.
        let one = parseManifest(service("gateway", "ports: [{containerPort: 80}, {containerPort: 81}]\ndependsOn: [b, a]"))
        let two = parseManifest(service("gateway", "ports: [{containerPort: 81}, {containerPort: 80}]\ndependsOn: [a, b]"))
        #expect(one.services == two.services)
        #expect(one.services.first?.dependsOn == ["a", "b"])
    }

    @Test func everyFieldOfTheDesignExample() throws {
        let file = parseManifest("""
            apiVersion: berth/v1
            kind: Service
            metadata:
              name: booking
              labels: {team: travel}
            spec:
              image: shop/booking:1.4.2
              replicas: 3
              command: ["/bin/httpd", "-f", "-p", "8080", "-h", "/www"]
              env: {CUSTOMER_URL: "http://customer:8080"}
              ports:
                - containerPort: 8080
                  publish: 8081
              dependsOn: [customer]
              health:
                http: {path: /healthz, port: 8080}
                interval: 2s
                timeout: 1s
                startPeriod: 0s
                failureThreshold: 3
              update:
                strategy: rolling
                maxSurge: 1
                maxUnavailable: 0
                progressDeadline: 120s
                onFailure: rollback
              stopGracePeriod: 10s
              restart: always
              resources: {cpus: 0.5, memory: 256Mi}
              autoscale: {min: 2, max: 10, targetRequestsPerSecond: 50, scaleDownDelay: 60s}

            """, path: "manifests/booking.yaml")
        #expect(file.diagnostics == [])
        let spec = try #require(file.services.first)
        #expect(spec == ServiceSpec(
            name: "booking", labels: ["team": "travel"], image: "shop/booking:1.4.2", replicas: 3,
            command: ["/bin/httpd", "-f", "-p", "8080", "-h", "/www"], env: ["CUSTOMER_URL": "http://customer:8080"],
            ports: [PortSpec(containerPort: 8080, publish: 8081)], dependsOn: ["customer"],
            health: HealthCheck(probe: .http(path: "/healthz", port: 8080)),
            update: UpdatePolicy(), stopGracePeriod: .seconds(10), restart: .always,
            resources: Resources(milliCPUs: 500, memory: 268_435_456),
            autoscale: Autoscale(min: 2, max: 10, targetRequestsPerSecond: 50, scaleDownDelay: .seconds(60))))
        #expect(spec.source == SourceRef(file: "manifests/booking.yaml", line: 4, column: 9))
        let other = parseManifest(service("x", "restart: on-failure\nupdate: {strategy: recreate, onFailure: pause}\nhealth: {exec: {command: [/bin/check, \"--quick\"]}}\n"))
        #expect(other.services.first?.restart == .onFailure)
        #expect(other.services.first?.update.strategy == .recreate)
        #expect(other.services.first?.update.onFailure == .pause)
        #expect(other.services.first?.health?.probe == .exec(command: ["/bin/check", "--quick"]))
    }

    @Test func theSampleShopIsValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let folder = root.appendingPathComponent("manifests")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(names == ["booking.yaml", "customer.yaml", "gateway.yaml"])
        let files = try names.map {
            ManifestFile(path: "manifests/\($0)", bytes: Array(try Data(contentsOf: folder.appendingPathComponent($0))))
        }
        let state = ManifestLoader.load(files)
        #expect(state.diagnostics.map(\.rendered) == [])
        #expect(state.services.keys.sorted() == ["booking", "customer", "gateway"])
        let gateway = try #require(state.services["gateway"])
        #expect(gateway.image == "shop/gateway:1.0")
        #expect(gateway.dependsOn == ["booking", "customer"])
        #expect(gateway.ports == [PortSpec(containerPort: 8080, publish: 8080)])
        #expect(gateway.health?.probe == .http(path: "/healthz", port: 8080))
        #expect(state.services["booking"]?.update == UpdatePolicy(progressDeadline: .seconds(60)))
        #expect(state.services["booking"]?.env["MAX_SEATS"] == "40")
    }
}
