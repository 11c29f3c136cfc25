import Testing
import BerthCore

/// Each class of manifest error, with its exact place and message.
@Suite struct ManifestErrorTests {
    @Test func wrongTypeNamesTheValueFound() {
        #expect(problems(service("booking", "replicas: three")) == [
            #"m.yaml:7:13: error: spec.replicas: expected an integer, found "three""#
        ])
        #expect(problems(service("booking", "replicas: \"3\"")) == [
            #"m.yaml:7:13: error: spec.replicas: expected an integer, found "3"; remove the quotes"#
        ])
        #expect(problems(service("booking", "replicas: 2.5")) == [
            "m.yaml:7:13: error: spec.replicas: expected an integer, found 2.5"
        ])
        #expect(problems(service("booking", "replicas: [1]")) == [
            "m.yaml:7:13: error: spec.replicas: expected an integer, found a list"
        ])
        #expect(problems(service("booking", "replicas:")) == [
            "m.yaml:7:12: error: spec.replicas: expected an integer, found null"
        ])
        #expect(problems(service("booking", "ports: {containerPort: 80}")) == [
            "m.yaml:7:10: error: spec.ports: expected a list of ports such as [{containerPort: 8080}], found a mapping"
        ])
    }

    @Test func missingRequiredFieldsPointAtTheMapping() {
        #expect(problems("kind: Service\nmetadata: {labels: {a: b}}\nspec: {replicas: 1}\n") == [
            #"m.yaml:1:1: error: apiVersion: required field is missing; add "apiVersion: berth/v1""#,
            #"m.yaml:2:11: error: metadata.name: required field is missing; add "name: SERVICE" under metadata"#,
            #"m.yaml:3:7: error: spec.image: required field is missing; add "image: REPOSITORY:TAG" under spec"#,
        ])
        #expect(problems("apiVersion: berth/v1\n\nmetadata:\n  name: a\n") == [
            #"m.yaml:1:1: error: kind: required field is missing; add "kind: Service""#,
            "m.yaml:1:1: error: spec: required field is missing; add a spec with at least the image to run",
        ])
        #expect(problems("apiVersion: berth/v1\nkind: Service\nspec: {image: a}\n") == [
            "m.yaml:1:1: error: metadata: required field is missing; add metadata with the service's name"
        ])
    }

    @Test func foreignObjectsAreNamedNotPickedApart() {
        let deployment = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web}
            spec: {template: {}}

            """
        #expect(problems(deployment) == [
            #"m.yaml:1:13: error: apiVersion: unsupported apiVersion "apps/v1": Berth reads berth/v1"#
        ])
        #expect(problems("apiVersion: berth/v1\nkind: service\nmetadata: {name: a}\nspec: {image: a}\n") == [
            #"m.yaml:2:7: error: kind: unsupported kind "service": berth/v1 defines only kind Service (mind the capital S)"#
        ])
        #expect(problems("- a\n- b\n") == [
            "m.yaml:1:1: error: expected a berth/v1 object (a mapping with apiVersion, kind, metadata and spec), found a list"
        ])
    }

    @Test func unknownFieldsAtTheKeyWithSuggestions() {
        #expect(problems(service("booking", "replica: 2\nRestart: never\nhealthcheck: {}\nimgae: x")) == [
            #"m.yaml:7:3: error: spec.replica: unknown field "replica"; did you mean "replicas"?"#,
            #"m.yaml:8:3: error: spec.Restart: unknown field "Restart"; did you mean "restart"?"#,
            #"m.yaml:9:3: error: spec.healthcheck: unknown field "healthcheck"; did you mean "health"? (Compose's name)"#,
            #"m.yaml:10:3: error: spec.imgae: unknown field "imgae"; did you mean "image"?"#,
        ])
        #expect(problems("apiVersion: berth/v1\nkind: Service\nmetdata: {name: a}\nspec: {image: a}\n") == [
            #"m.yaml:1:1: error: metadata: required field is missing; add metadata with the service's name"#,
            #"m.yaml:3:1: error: metdata: unknown field "metdata"; did you mean "metadata"?"#,
        ])
    }

    @Test func ranges() {
        let text = service("booking", """
            replicas: -1
            ports:
              - containerPort: 0
                publish: 70000
              - {containerPort: 8080, publish: 8080}
              - {containerPort: 8080, publish: 8080}
            health:
              tcp: {port: 65536}
              failureThreshold: 0
            update: {maxSurge: 0, maxUnavailable: 0%}
            resources: {cpus: 0}
            autoscale: {min: 5, max: 2, targetRequestsPerSecond: 0}
            """)
        #expect(problems(text) == [
            "m.yaml:7:13: error: spec.replicas: expected an integer of at least 0, found -1",
            "m.yaml:9:22: error: spec.ports[0].containerPort: expected a port number from 1 to 65535, found 0",
            "m.yaml:10:16: error: spec.ports[0].publish: expected a port number from 1 to 65535, found 70000",
            "m.yaml:12:23: error: spec.ports[2].containerPort: container port 8080 is listed twice (first at 11:23)",
            "m.yaml:12:38: error: spec.ports[2].publish: host port 8080 is published twice (first at 11:38)",
            "m.yaml:14:17: error: spec.health.tcp.port: expected a port number from 1 to 65535, found 65536",
            "m.yaml:15:23: error: spec.health.failureThreshold: expected an integer of at least 1, found 0",
            "m.yaml:16:22: error: spec.update.maxSurge: maxSurge and maxUnavailable cannot both be 0: a rolling update could never replace a replica; set maxSurge to 1",
            "m.yaml:17:21: error: spec.resources.cpus: expected a number of CPUs greater than 0 such as 0.5 or 2, found 0",
            "m.yaml:18:20: error: spec.autoscale.min: expected at most max (2), found 5",
            "m.yaml:18:56: error: spec.autoscale.targetRequestsPerSecond: expected an integer of at least 1, found 0",
        ])
    }

    @Test func percentages() {
        #expect(problems(service("booking", "update: {maxSurge: 150%, maxUnavailable: \"-5%\"}")) == [
            #"m.yaml:7:22: error: spec.update.maxSurge: expected a count or a percentage from 0% to 100% such as 1 or 25%, found "150%""#,
            #"m.yaml:7:44: error: spec.update.maxUnavailable: expected a count or a percentage from 0% to 100% such as 1 or 25%, found "-5%""#,
        ])
        let ok = parseManifest(service("booking", "update: {maxSurge: 25%, maxUnavailable: \"100%\"}"))
        #expect(ok.diagnostics == [])
        #expect(ok.services.first?.update.maxSurge == .percent(25))
        #expect(ok.services.first?.update.maxUnavailable == .percent(100))
        // Both zero is fine when updates recreate.
        #expect(problems(service("booking", "update: {strategy: recreate, maxSurge: 0}")) == [])
    }

    @Test func serviceNames() {
        #expect(problems(service("Booking")) == [
            #"m.yaml:4:9: error: metadata.name: invalid service name "Booking": use lowercase letters, digits and '-', starting and ending with a letter or digit (RFC 1123)"#
        ])
        #expect(problems(service("-booking-")).count == 1)
        let long = String(repeating: "a", count: 64)
        #expect(problems(service(long)) == [
            #"m.yaml:4:9: error: metadata.name: invalid service name "\#(long)": a name has at most 63 characters (this one has 64)"#
        ])
        #expect(problems(service(String(repeating: "a", count: 63))) == [])
        #expect(problems(service("a-1")) == [])
        #expect(problems(service("web_1")).count == 1)
    }

    @Test(arguments: [
        "busybox", "shop/booking:1.0", "localhost:5000/shop/booking:1.4.2", "registry.example.com/a/b/c",
        "a__b.c-d---e:v1_2.3-rc", "shop/booking@sha256:" + String(repeating: "ab", count: 32),
        "reg.io:443/shop/booking:1.0@sha256:" + String(repeating: "0", count: 64),
        "shop/booking:" + String(repeating: "t", count: 128),
    ])
    func validImageReferences(_ image: String) {
        #expect(problems(service("booking", image: image)) == [])
    }

    @Test(arguments: [
        ("shop/Booking:1", "repository names must be lowercase"),
        ("shop/booking:.1", #"the tag ".1" must be 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'"#),
        ("shop//booking", "the repository name has an empty part between '/'"),
        ("shop/booking:v!", #"the tag "v!" must be 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'"#),
        ("shop/booking@sha256:abc", "the digest after '@' must be sha256: followed by 64 lowercase hexadecimal digits"),
        ("shop/booking@md5:abc", "the digest after '@' must be sha256: followed by 64 hexadecimal digits"),
        ("shop/-booking", "each part of the repository name must start and end with a lowercase letter or digit"),
        ("shop/a..b", "the repository name may hold only lowercase letters, digits and single separators (. _ __ -)"),
        ("reg.io:99999/a", #"the registry port "99999" must be a number from 1 to 65535"#),
        ("shop/booking:" + String(repeating: "t", count: 129), nil),
    ] as [(String, String?)])
    func invalidImageReferences(_ image: String, _ reason: String?) {
        let got = problems(service("booking", image: image))
        #expect(got.count == 1)
        if let reason {
            #expect(got == [#"m.yaml:6:10: error: spec.image: invalid image reference "\#(image)": \#(reason)"#])
        }
    }

    @Test func durationsAndMemory() {
        let text = service("booking", """
            stopGracePeriod: 10
            health: {exec: {command: [/bin/true]}, interval: 0s, timeout: 2 seconds, startPeriod: -1s}
            update: {progressDeadline: 1x}
            resources: {cpus: 0.0001, memory: 512mb}
            autoscale: {min: 1, max: 2, scaleDownDelay: soon}
            """)
        #expect(problems(text) == [
            "m.yaml:7:20: error: spec.stopGracePeriod: expected a duration such as 250ms, 2s or 1m30s, found 10",
            "m.yaml:8:52: error: spec.health.interval: expected a duration greater than 0 such as 250ms, 2s or 1m30s, found \"0s\"",
            "m.yaml:8:65: error: spec.health.timeout: expected a duration greater than 0 such as 250ms, 2s or 1m30s, found \"2 seconds\"",
            "m.yaml:8:89: error: spec.health.startPeriod: expected a duration such as 250ms, 2s or 1m30s, found \"-1s\"",
            "m.yaml:9:30: error: spec.update.progressDeadline: expected a duration greater than 0 such as 250ms, 2s or 1m30s, found \"1x\"",
            "m.yaml:10:21: error: spec.resources.cpus: expected a number of CPUs with at most 3 decimal places, found 0.0001",
            "m.yaml:10:37: error: spec.resources.memory: expected a memory size such as 256Mi, 1Gi or 512M (suffixes k, Ki, M, Mi, G, Gi), found \"512mb\"",
            "m.yaml:11:47: error: spec.autoscale.scaleDownDelay: expected a duration such as 250ms, 2s or 1m30s, found \"soon\"",
        ])
    }

    @Test(arguments: [
        ("8388608", Int64(8_388_608)), ("64000k", 64_000_000), ("8192Ki", 8_388_608), ("512M", 512_000_000),
        ("256Mi", 268_435_456), ("1G", 1_000_000_000), ("1Gi", 1_073_741_824), ("6291456", 6_291_456),
    ])
    func memorySizes(_ text: String, _ bytes: Int64) throws {
        let file = parseManifest(service("booking", "resources: {memory: \(text)}"))
        #expect(file.diagnostics == [])
        #expect(try #require(file.services.first).resources?.memory == bytes)
    }

    @Test func memoryBelowDockersMinimum() {
        #expect(problems(service("booking", "resources: {memory: 1Mi}")) == [
            #"m.yaml:7:23: error: spec.resources.memory: expected at least 6Mi (Docker's smallest memory limit), found "1Mi""#
        ])
        #expect(problems(service("booking", "resources: {memory: 99999999999Gi}")).count == 1)
    }

    @Test(arguments: [("0.5", 500), ("2", 2000), ("1.25", 1250), ("0.001", 1), ("3.0000", 3000)])
    func cpus(_ text: String, _ milli: Int) throws {
        let file = parseManifest(service("booking", "resources: {cpus: \(text)}"))
        #expect(file.diagnostics == [])
        #expect(try #require(file.services.first).resources?.milliCPUs == milli)
    }

    @Test func healthProbes() {
        #expect(problems(service("booking", "health: {interval: 2s}")) == [
            #"m.yaml:7:11: error: spec.health: expected one probe: http, tcp or exec, found none; add e.g. "http: {path: /healthz, port: 8080}""#
        ])
        #expect(problems(service("booking", "health:\n  http: {path: /healthz, port: 8080}\n  exec: {command: [a]}\n  tcp: {port: 1}")) == [
            "m.yaml:9:5: error: spec.health.exec: expected one probe, found http, exec and tcp; keep only one",
            "m.yaml:10:5: error: spec.health.tcp: expected one probe, found http, exec and tcp; keep only one",
        ])
        #expect(problems(service("booking", "health: {http: {path: healthz}, exec: {command: []}}")) == [
            "m.yaml:7:35: error: spec.health.exec: expected one probe, found http and exec; keep only one"
        ])
        #expect(problems(service("booking", "health: {http: {path: healthz}}")) == [
            "m.yaml:7:18: error: spec.health.http.port: required field is missing; add the container port to probe",
            "m.yaml:7:25: error: spec.health.http.path: expected a URL path starting with '/' such as /healthz, found \"healthz\"",
        ])
        #expect(problems(service("booking", "health: {exec: {command: []}}")) == [
            #"m.yaml:7:28: error: spec.health.exec.command: expected a list of at least one string such as ["/bin/true"], found an empty list"#
        ])
    }

    @Test func enumsNameTheAllowedValues() {
        #expect(problems(service("booking", "restart: onfailure\nupdate: {strategy: blue-green, onFailure: retry}")) == [
            #"m.yaml:7:12: error: spec.restart: expected always, on-failure or never, found "onfailure"; did you mean "on-failure"?"#,
            #"m.yaml:8:22: error: spec.update.strategy: expected rolling or recreate, found "blue-green""#,
            #"m.yaml:8:45: error: spec.update.onFailure: expected rollback or pause, found "retry""#,
        ])
    }

    @Test func envTakesScalarsAsWrittenAndRejectsCollections() throws {
        let file = parseManifest(service("booking", """
            env:
              PORT: 8080
              DEBUG: yes
              RATIO: 0.50
              MODE: 0755
              EMPTY:
              QUOTED: "a: b"
              TIME: 22:22
            """))
        #expect(file.diagnostics == [])
        #expect(try #require(file.services.first).env == [
            "PORT": "8080", "DEBUG": "yes", "RATIO": "0.50", "MODE": "0755", "EMPTY": "", "QUOTED": "a: b",
            "TIME": "22:22",
        ])
        #expect(problems(service("booking", "env: {A: [1], B: {c: d}, C: ok}")) == [
            "m.yaml:7:12: error: spec.env.A: expected a string, found a list; quote it to keep it as text",
            "m.yaml:7:20: error: spec.env.B: expected a string or {secret: NAME}, found a mapping; quote it to keep it as text",
        ])
        #expect(problems(service("booking", "env: [A=1]")) == [
            "m.yaml:7:8: error: spec.env: expected a mapping of names to strings, found a list (Compose's KEY=value list); did you mean {A: 1}?"
        ])
        #expect(problems(service("booking", "env: [A, B]")) == [
            "m.yaml:7:8: error: spec.env: expected a mapping of names to strings, found a list"
        ])
    }

    @Test func labelsAndCommand() {
        #expect(problems(service("booking", "command: /bin/httpd -f\n")) == [
            #"m.yaml:7:12: error: spec.command: expected a list of strings such as ["/bin/httpd", "-f"], found "/bin/httpd -f""#
        ])
        let text = """
            apiVersion: berth/v1
            kind: Service
            metadata:
              name: booking
              labels: {berth.service: x, team: travel, n: 1}
            spec: {image: a}

            """
        #expect(problems(text) == [
            #"m.yaml:5:12: error: metadata.labels.berth.service: label names starting with "berth." are reserved for Berth's own labels; choose another name"#
        ])
    }

    @Test func yamlErrorsBecomeDiagnosticsAtTheirMark() {
        let text = service("booking", "replicas: 1\nreplicas: 2")
        #expect(problems(text) == [
            #"m.yaml:8:3: error: duplicate key "replicas" (first at 7:3); the first value is used, remove one of them"#
        ])
        // A duplicate key makes its document's service invalid; other documents still count.
        let state = loadManifests([("m.yaml", text + "---\n" + service("customer"))])
        #expect(state.services.keys.sorted() == ["customer"])
        let broken = problems("apiVersion: berth/v1\nkind: [\n")
        #expect(broken.count == 1)
        #expect(broken.first?.hasPrefix("m.yaml:3:1: error: ") == true)
    }

    @Test func everyProblemIsReportedNotJustTheFirst() {
        let text = service("Booking", image: "Shop/Booking", "replicas: x\nfoo: 1") + "---\n" + service("b", "ports: 1")
        #expect(problems(text).count == 5)
    }
}
