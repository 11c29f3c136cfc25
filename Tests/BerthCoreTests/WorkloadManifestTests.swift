import Foundation
import Testing
@testable import BerthCore

/// The workload fields (volumes, secrets, env files, entrypoint, user, workingDir, readOnly,
/// capabilities, init, pullPolicy, UDP ports): what they read into, every error at its
/// exact place, and their effect on the revision.
@Suite struct WorkloadManifestTests {
    func spec(_ lines: String) throws -> ServiceSpec {
        let state = loadManifests([("m.yaml", service("booking", lines))])
        #expect(state.diagnostics.map(\.rendered) == [])
        return try #require(state.services["booking"])
    }

    @Test func everyFieldReadsIntoTheModel() throws {
        let s = try spec("""
            pullPolicy: Always
            entrypoint: ["/bin/sh", "-c"]
            user: "1000:1000"
            workingDir: /app
            readOnly: true
            init: true
            capabilities: {drop: [ALL], add: [CAP_NET_BIND_SERVICE, CHOWN]}
            volumes:
              - {name: notes, mountPath: /data}
              - {hostPath: /srv//uploads/, mountPath: /uploads}
              - {hostPath: /srv/cache, mountPath: /cache, readOnly: false}
            env:
              PLAIN: "x"
              DB_PASSWORD: {secret: db-password}
            secrets:
              - {name: tls-key, mountPath: /run/secrets/tls.key}
            envFrom: [{file: env/common.env}, {file: ./env/common.env}]
            ports: [{containerPort: 53, protocol: udp}, {containerPort: 53}]
            """)
        let c = s.container
        #expect(c.pullPolicy == .always)
        #expect(c.entrypoint == ["/bin/sh", "-c"])
        #expect(c.user == "1000:1000")
        #expect(c.workingDir == "/app")
        #expect(c.readOnlyRootFilesystem && c.initProcess)
        #expect(c.capabilities == Capabilities(add: ["CHOWN", "NET_BIND_SERVICE"], drop: ["ALL"]))
        #expect(c.volumes == [
            VolumeMount(source: .named("notes"), mountPath: "/data"),
            VolumeMount(source: .host("/srv/uploads"), mountPath: "/uploads", readOnly: true),
            VolumeMount(source: .host("/srv/cache"), mountPath: "/cache", readOnly: false),
        ])
        #expect(s.env == ["PLAIN": "x"])
        #expect(c.secretEnv == ["DB_PASSWORD": "db-password"])
        #expect(c.secretFiles == [SecretMount(name: "tls-key", mountPath: "/run/secrets/tls.key")])
        #expect(c.secretNames == ["db-password", "tls-key"])
        #expect(c.envFiles == ["env/common.env"])
        #expect(s.ports == [PortSpec(containerPort: 53), PortSpec(containerPort: 53, protocol: .udp)])
    }

    @Test func errorsAtTheirPlace() {
        #expect(problems(service("booking", """
            volumes:
              - {mountPath: /data}
              - {name: Data, mountPath: data}
              - {name: a, hostPath: /srv, mountPath: /x}
              - {hostPath: /var/run/docker.sock, mountPath: /var/run/docker.sock}
              - {hostPath: ../etc, mountPath: /y}
              - {hostPath: /srv/a/../b, mountPath: /z}
              - {name: ok, mountPath: /}
            """)) == [
            #"m.yaml:8:7: error: spec.volumes[0]: expected one source: name (a volume of the project) or hostPath, found none; add e.g. "name: data""#,
            #"m.yaml:9:14: error: spec.volumes[1].name: invalid volume name "Data": use at most 63 lowercase letters, digits, '-', '_' and '.', starting and ending with a letter or digit"#,
            #"m.yaml:9:31: error: spec.volumes[1].mountPath: expected an absolute path starting with '/', found "data""#,
            #"m.yaml:10:17: error: spec.volumes[2].hostPath: expected one source, found name and hostPath; keep only one"#,
            #"m.yaml:11:18: error: spec.volumes[3].hostPath: refusing to mount "/var/run/docker.sock": it is (or holds) the Docker engine's socket: a container with it controls the host; if that is really intended, add "allowSensitive: true" to this volume"#,
            #"m.yaml:12:18: error: spec.volumes[4].hostPath: expected an absolute path starting with '/', found "../etc""#,
            #"m.yaml:13:18: error: spec.volumes[5].hostPath: a path cannot contain "..", found "/srv/a/../b""#,
            #"m.yaml:14:29: error: spec.volumes[6].mountPath: cannot mount over the container's root "/"; choose a folder such as /data"#,
        ])
        #expect(problems(service("booking", """
            env: {A: {secret: Bad_Name}, B: {secrt: x}}
            secrets: [{name: k}]
            envFrom: [{file: /etc/passwd}, {file: a/../../b}]
            user: "a b"
            workingDir: app
            readOnly: yes please
            capabilities: {drop: [all, NET_ADMN]}
            pullPolicy: always
            ports: [{containerPort: 53, protocol: udp, publish: 53}, {containerPort: 54, protocol: sctp}]
            """)) == [
            #"m.yaml:7:21: error: spec.env.A.secret: invalid secret name "Bad_Name": use at most 63 lowercase letters, digits, '-', '_' and '.', starting and ending with a letter or digit"#,
            #"m.yaml:7:35: error: spec.env.B.secret: required field is missing; add the secret's name, e.g. {secret: db-password}"#,
            #"m.yaml:7:36: error: spec.env.B.secrt: unknown field "secrt"; did you mean "secret"?"#,
            #"m.yaml:8:13: error: spec.secrets[0].mountPath: required field is missing; add the file's path inside the container, e.g. "mountPath: /run/secrets/tls.key""#,
            #"m.yaml:9:20: error: spec.envFrom[0].file: expected a path relative to the repository's root (no leading '/'), found "/etc/passwd""#,
            #"m.yaml:9:41: error: spec.envFrom[1].file: a path cannot contain "..", found "a/../../b""#,
            #"m.yaml:10:9: error: spec.user: expected a user name or id, optionally with ":group", such as "1000:1000" or app, found "a b""#,
            #"m.yaml:11:15: error: spec.workingDir: expected an absolute path starting with '/', found "app""#,
            #"m.yaml:12:13: error: spec.readOnly: expected true or false, found "yes please""#,
            #"m.yaml:13:25: error: spec.capabilities.drop[0]: unknown capability "all"; did you mean "ALL"?"#,
            #"m.yaml:13:30: error: spec.capabilities.drop[1]: unknown capability "NET_ADMN"; did you mean "NET_ADMIN"?"#,
            #"m.yaml:14:15: error: spec.pullPolicy: expected IfNotPresent or Always, found "always"; did you mean "Always"?"#,
            #"m.yaml:15:55: error: spec.ports[0].publish: a UDP port cannot be published: Berth's balancer forwards TCP only; remove publish (other services still reach UDP port 53 by the service's name)"#,
            #"m.yaml:15:90: error: spec.ports[1].protocol: expected tcp or udp, found "sctp"; did you mean "tcp"?"#,
        ])
    }

    @Test func aSingleWriterVolumeNeverRunsTwoContainers() throws {
        #expect(problems(service("db", """
            replicas: 2
            volumes: [{name: data, mountPath: /data, singleWriter: true}]
            """)) == [
            #"m.yaml:7:13: error: spec.replicas: volume "data" is singleWriter: run at most 1 replica"#,
            #"m.yaml:8:12: error: spec.volumes: volume "data" is singleWriter, and a rolling update would run the old and the new container on it at once; add "update: {strategy: recreate}""#,
        ])
        let s = try spec("""
            volumes: [{name: data, mountPath: /data, singleWriter: true}]
            update: {strategy: recreate}
            """)
        #expect(s.container.volumes.first?.singleWriter == true)
        #expect(problems(service("db", """
            volumes: [{name: data, mountPath: /data}, {name: logs, mountPath: /data}]
            secrets: [{name: k, mountPath: /data}]
            """)) == [
            #"m.yaml:7:12: error: spec.volumes[1].mountPath: "/data" is already mounted by spec.volumes[0]"#,
            #"m.yaml:8:12: error: spec.secrets[0].mountPath: "/data" is already mounted by spec.volumes[1]"#,
        ])
    }

    @Test func defaultsKeepTheRevisionAndEachSettingChangesIt() throws {
        let plain = try spec("")
        #expect(plain.container == .standard)
        #expect(plain.canonicalTemplate.contains("pullPolicy") == false)
        var revisions: Set<Revision> = [plain.revision]
        for lines in [
            "pullPolicy: Always", "entrypoint: [/bin/sh]", "user: \"1000\"", "workingDir: /app", "readOnly: true",
            "init: true", "capabilities: {drop: [ALL]}", "volumes: [{name: a, mountPath: /a}]",
            "env: {A: {secret: a}}", "secrets: [{name: a, mountPath: /a}]", "envFrom: [{file: a.env}]",
            "ports: [{containerPort: 53, protocol: udp}]",
        ] {
            let s = try spec(lines)
            #expect(Revision(hashingTemplateOf: s) == s.revision, "the streamed hash matches the canonical text for \(lines)")
            #expect(revisions.insert(s.revision).inserted, "\(lines) changes the revision")
        }
        // Spelled-out defaults are no change.
        #expect(try spec("pullPolicy: IfNotPresent\nreadOnly: false\ninit: false").revision == plain.revision)
    }

    @Test func aSecretsVersionRollsOutAndDiffsWithoutShowingIt() throws {
        var a = try spec("env: {DB_PASSWORD: {secret: db-password}}")
        a.container.secretVersions = ["db-password": "1111111111111111111111111111111111111111"]
        var b = a
        b.container.secretVersions = ["db-password": "2222222222222222222222222222222222222222"]
        #expect(a.revision != b.revision)
        let diff = DesiredStateDiff(from: ["booking": a], to: ["booking": b])
        #expect(diff.changes.map(\.fields) == [[FieldChange(path: "secret.db-password", from: .string("(secret)"), to: .string("(secret changed)"))]])
    }

    @Test func theRecordedSpecRoundTripsThroughJSONAndOldLabelsStillRead() throws {
        let s = try spec("volumes: [{name: a, mountPath: /a}]\nentrypoint: [/bin/sh]\nports: [{containerPort: 53, protocol: udp}]")
        let data = try JSONEncoder().encode(s)
        #expect(try JSONDecoder().decode(ServiceSpec.self, from: data) == s)
        // A spec with default settings encodes no "container" key: labels written before these
        // fields existed are the same JSON, and read back the same.
        let plain = try spec("ports: [{containerPort: 80}]")
        let text = String(decoding: try JSONEncoder().encode(plain), as: UTF8.self)
        #expect(!text.contains("\"container\"") && !text.contains("protocol"))
        let decoded = try JSONDecoder().decode(ServiceSpec.self, from: Data(text.utf8))
        #expect(decoded.container == .standard)
        #expect(decoded.ports == [PortSpec(containerPort: 80)])
    }
}
