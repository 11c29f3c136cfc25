import BerthCore
import BerthDocker
import Foundation
import Testing

/// The pure mapping of a Berth service onto a Swarm service spec: exact engine JSON.
@Suite struct SwarmMappingTests {
    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// The spec's JSON without the `berth.spec` label (checked on its own: it is the whole
    /// spec as JSON, long and tested elsewhere).
    static func jsonWithoutRecordedSpec(_ spec: Engine.SwarmServiceSpec) throws -> String {
        var spec = spec
        spec.Labels?[BerthLabel.spec] = nil
        return try json(spec)
    }

    static let booking = ServiceSpec(
        name: "booking", labels: ["team": "travel"], image: "shop/booking:1.0", replicas: 3,
        command: ["/entry.sh", "--verbose"], env: ["B": "2", "A": "it's"],
        ports: [PortSpec(containerPort: 8080, publish: 8081), PortSpec(containerPort: 9090)],
        dependsOn: ["customer"],
        health: HealthCheck(
            probe: .http(path: "/healthz", port: 8080), interval: Millis(200), timeout: .seconds(1),
            startPeriod: .seconds(2), failureThreshold: 2),
        update: UpdatePolicy(maxSurge: .count(1), maxUnavailable: .count(0), progressDeadline: .seconds(60)),
        stopGracePeriod: .seconds(2), restart: .always, resources: Resources(milliCPUs: 500, memory: 64 << 20))

    @Test func aServiceMapsOntoOneSwarmServiceWithDNSRoundRobinAndHostModeEphemeralPorts() throws {
        let request = InstanceRequest(project: "shop", spec: Self.booking, commit: "c0ffee")
        let mapped = SwarmServiceMapping.spec(for: request)
        let revision = Self.booking.revision.id
        #expect(
            try Self.jsonWithoutRecordedSpec(mapped) == #"""
                {
                  "EndpointSpec" : {
                    "Mode" : "dnsrr",
                    "Ports" : [
                      {
                        "Protocol" : "tcp",
                        "PublishMode" : "host",
                        "TargetPort" : 8080
                      },
                      {
                        "Protocol" : "tcp",
                        "PublishMode" : "host",
                        "TargetPort" : 9090
                      }
                    ]
                  },
                  "Labels" : {
                    "berth.commit" : "c0ffee",
                    "berth.depends-on" : "customer",
                    "berth.health" : "{\"failureThreshold\":2,\"interval\":{\"milliseconds\":200},\"probe\":{\"http\":{\"path\":\"\\/healthz\",\"port\":8080}},\"startPeriod\":{\"milliseconds\":2000},\"timeout\":{\"milliseconds\":1000}}",
                    "berth.project" : "shop",
                    "berth.revision" : "\#(revision)",
                    "berth.service" : "booking",
                    "berth.stop-grace-ms" : "2000",
                    "com.docker.stack.namespace" : "shop",
                    "team" : "travel"
                  },
                  "Mode" : {
                    "Replicated" : {
                      "Replicas" : 3
                    }
                  },
                  "Name" : "shop_booking",
                  "RollbackConfig" : {
                    "Delay" : 0,
                    "FailureAction" : "pause",
                    "MaxFailureRatio" : 0,
                    "Monitor" : 1600000000,
                    "Order" : "start-first",
                    "Parallelism" : 1
                  },
                  "TaskTemplate" : {
                    "ContainerSpec" : {
                      "Args" : [
                        "/entry.sh",
                        "--verbose"
                      ],
                      "Env" : [
                        "A=it's",
                        "B=2"
                      ],
                      "Healthcheck" : {
                        "Interval" : 200000000,
                        "Retries" : 2,
                        "StartPeriod" : 2000000000,
                        "Test" : [
                          "CMD-SHELL",
                          "wget -q -O /dev/null 'http://127.0.0.1:8080/healthz' || curl -fsS -o /dev/null 'http://127.0.0.1:8080/healthz'"
                        ],
                        "Timeout" : 1000000000
                      },
                      "Image" : "shop/booking:1.0",
                      "Labels" : {
                        "berth.commit" : "c0ffee",
                        "berth.revision" : "\#(revision)",
                        "berth.service" : "booking",
                        "com.docker.stack.namespace" : "shop",
                        "team" : "travel"
                      },
                      "StopGracePeriod" : 2000000000
                    },
                    "Networks" : [
                      {
                        "Aliases" : [
                          "booking"
                        ],
                        "Target" : "berth-shop"
                      }
                    ],
                    "Resources" : {
                      "Limits" : {
                        "MemoryBytes" : 67108864,
                        "NanoCPUs" : 500000000
                      }
                    },
                    "RestartPolicy" : {
                      "Condition" : "any",
                      "Delay" : 500000000,
                      "MaxAttempts" : 0
                    }
                  },
                  "UpdateConfig" : {
                    "Delay" : 0,
                    "FailureAction" : "rollback",
                    "MaxFailureRatio" : 0,
                    "Monitor" : 1600000000,
                    "Order" : "start-first",
                    "Parallelism" : 1
                  }
                }
                """#)
    }

    @Test func theServiceLabelsRecordTheWholeSpecWithEnvValuesLeftToTheContainerSpec() throws {
        let mapped = SwarmServiceMapping.spec(for: InstanceRequest(project: "shop", spec: Self.booking, commit: nil))
        let labels = try #require(mapped.Labels)
        #expect(labels[BerthLabel.commit] == "")
        #expect(labels[BerthLabel.spec]?.contains("it's") == false)
        let recorded = BerthLabel.recordedSpec(labels, environment: mapped.TaskTemplate.ContainerSpec.Env ?? [])
        #expect(recorded == Self.booking)
    }

    @Test func workloadFieldsTheMappingDoesNotCarryAreNamed() {
        #expect(SwarmServiceMapping.unsupportedFields(Self.booking) == [])
        var spec = Self.booking
        spec.container.user = "app"
        spec.container.volumes = [VolumeMount(source: .named("data"), mountPath: "/data")]
        spec.container.initProcess = true
        spec.ports.append(PortSpec(containerPort: 53, protocol: .udp))
        #expect(SwarmServiceMapping.unsupportedFields(spec) == ["init", "ports (protocol: udp)", "user", "volumes"])
    }

    @Test func updatePolicyPicksOrderAndParallelism() {
        func config(_ update: UpdatePolicy, replicas: Int = 4) -> String {
            var spec = ServiceSpec(name: "s", image: "i", replicas: replicas, update: update)
            spec.health = nil
            let c = SwarmServiceMapping.updateConfig(spec)
            return "\(c.Order!) \(c.Parallelism) \(c.FailureAction!) \(c.Monitor!)"
        }
        #expect(config(UpdatePolicy()) == "start-first 1 rollback 2000000000")
        #expect(config(UpdatePolicy(maxSurge: .percent(50))) == "start-first 2 rollback 2000000000")
        #expect(config(UpdatePolicy(maxSurge: .count(0), maxUnavailable: .count(2))) == "stop-first 2 rollback 2000000000")
        #expect(config(UpdatePolicy(maxSurge: .count(0), maxUnavailable: .percent(10))) == "stop-first 1 rollback 2000000000")
        #expect(config(UpdatePolicy(strategy: .recreate, onFailure: .pause)) == "stop-first 0 pause 2000000000")
        // The monitor never outlasts the progress deadline.
        #expect(config(UpdatePolicy(progressDeadline: Millis(1500))) == "start-first 1 rollback 1500000000")
    }

    @Test func healthChecksRunInsideTheContainer() {
        func test(_ probe: HealthCheck.Probe) -> [String] {
            SwarmServiceMapping.healthcheck(HealthCheck(probe: probe)).Test ?? []
        }
        #expect(test(.tcp(port: 5432)) == ["CMD-SHELL", "nc -z 127.0.0.1 5432 2>/dev/null || nc 127.0.0.1 5432 </dev/null"])
        #expect(test(.exec(command: ["pg_isready", "-q"])) == ["CMD", "pg_isready", "-q"])
        #expect(
            test(.http(path: "/a'b?c=1", port: 80)) == [
                "CMD-SHELL",
                "wget -q -O /dev/null 'http://127.0.0.1:80/a'\\''b?c=1' || curl -fsS -o /dev/null 'http://127.0.0.1:80/a'\\''b?c=1'",
            ])
        let defaults = SwarmServiceMapping.healthcheck(HealthCheck(probe: .tcp(port: 1)))
        #expect(defaults.Interval == 2_000_000_000)
        #expect(defaults.Timeout == 1_000_000_000)
        #expect(defaults.Retries == 3)
        #expect(defaults.StartPeriod == 0)
    }

    @Test func restartPoliciesAndAMinimalService() throws {
        #expect(SwarmServiceMapping.restartPolicy(.onFailure).Condition == "on-failure")
        #expect(SwarmServiceMapping.restartPolicy(.never).Condition == "none")
        let minimal = SwarmServiceMapping.spec(
            for: InstanceRequest(project: "p", spec: ServiceSpec(name: "web", image: "busybox"), commit: nil))
        // No ports: no Ports key; no health: the image's own; no resources, env or command.
        #expect(minimal.EndpointSpec == Engine.EndpointSpec(Mode: "dnsrr", Ports: nil))
        #expect(minimal.TaskTemplate.ContainerSpec.Healthcheck == nil)
        #expect(minimal.TaskTemplate.ContainerSpec.Env == nil)
        #expect(minimal.TaskTemplate.ContainerSpec.Args == nil)
        #expect(minimal.TaskTemplate.Resources == nil)
        #expect(minimal.TaskTemplate.ContainerSpec.StopGracePeriod == 10_000_000_000)
        #expect(minimal.replicas == 1)
    }
}
