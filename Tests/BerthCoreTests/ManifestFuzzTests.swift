import Testing
import Foundation
import BerthCore
import BerthTestSupport

/// Seeded mutations of full manifests through the whole loader: whatever the bytes, a load
/// ends with services and located diagnostics, never a crash (a trap would take `berth
/// watch` down). `BERTH_FUZZ_ITERATIONS` runs longer by hand; the default keeps CI quick.
@Suite struct ManifestFuzzTests {
    static let seeds: [String] = [
        """
        # booking
        apiVersion: berth/v1
        kind: Service
        metadata:
          name: booking
          labels: {team: shop, tier: backend}
        spec:
          image: registry.local:5000/shop/booking:1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
          replicas: 2
          command: ["/bin/httpd", "-f", "-p", "8080"]
          env:
            CUSTOMER_URL: http://customer:8080
            MAX_SEATS: 40
            API_TOKEN: "s3cr3t"
          ports:
            - containerPort: &port 8080
              publish: 8081
          dependsOn: [customer]
          health:
            http: {path: /healthz, port: *port}
            interval: 2s
            timeout: 1s
            startPeriod: 1m30s
            failureThreshold: 3
          update:
            <<: &rolling {strategy: rolling, maxSurge: "25%", maxUnavailable: 0, onFailure: rollback}
            progressDeadline: 60s
          stopGracePeriod: 5s
          restart: on-failure
          resources: {cpus: 0.5, memory: 256Mi}
          autoscale: {min: 2, max: 10, targetRequestsPerSecond: 50, scaleDownDelay: 60s}
        ---
        apiVersion: berth/v1
        kind: Service
        metadata: {name: customer}
        spec:
          image: shop/customer:1.0
          health: {tcp: {port: 8080}}
          update: {strategy: recreate}
        """,
        """
        apiVersion: berth/v1
        kind: Service
        metadata:
          name: gateway
        spec:
          image: shop/gateway:1.1
          replicas: 3
          ports: [{containerPort: 80, publish: 8080}, {containerPort: 9090}]
          dependsOn: [booking, customer]
          health:
            exec: {command: [/bin/sh, -c, "test -f /tmp/ready"]}
          env: {DEBUG: yes, RATIO: 0.5, EMPTY: ""}
        """,
    ]

    /// Values that have broken parsers: huge and odd numbers, YAML specials, decorations.
    static let values: [String] = [
        String(repeating: "9", count: 20), String(repeating: "9", count: 400), "-1", "-0", "0", "+5", "0x10", "0o7",
        "1e400", "-1e400", ".inf", "-.inf", ".nan", "1.5e3", "9223372036854775807", "-9223372036854775808",
        "9223372036854775808", "99999999999999999999ms", "999999999999h999999999999h999999999999h", "1.9999999999s",
        "0.0001", "1000000.5", "99999999999999999999Gi", "1.5Gi", "100%", "101%", "-5%", "1000000000000%",
        "~", "null", "", "\"\"", "''", "yes", "no", "on", "true", "!!int 3", "!!str 3", "!!float x", "!!binary x",
        "&a 1", "*a", "*nope", "[]", "{}", "[1, [2, [3]]]", "{a: {b: {c: 1}}}", "é", "\u{202E}x", "\"\\u0000\"",
        "\"\\x7f\"", "'it''s'", "|\n  block", ">-\n  folded", "a: b", "- x", "? k", "@x", "`x", "%x", "\t1",
    ]

    static func mutate(_ text: String, _ r: inout SeededRandom) -> [UInt8] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for _ in 0...r.below(3) {
            let i = r.below(lines.count)
            switch r.below(9) {
            case 0, 1, 2:  // a value replaced
                if let colon = lines[i].firstIndex(of: ":") {
                    lines[i] = String(lines[i][...colon]) + " " + values[r.below(values.count)]
                }
            case 3: lines.remove(at: i)
            case 4: lines.insert(lines[r.below(lines.count)], at: i)
            case 5: lines.swapAt(i, r.below(lines.count))
            case 6: lines[i] = String(repeating: " ", count: r.below(6)) + lines[i]
            case 7: lines[i] = values[r.below(values.count)] + lines[i]
            default: lines.insert("---", at: i)
            }
            if lines.isEmpty { lines = [""] }
        }
        var bytes = Array(lines.joined(separator: r.below(10) == 0 ? "\r\n" : "\n").utf8)
        switch r.below(6) {
        case 0 where !bytes.isEmpty: bytes[r.below(bytes.count)] = UInt8(truncatingIfNeeded: r.next())
        case 1: bytes = Array(bytes.prefix(r.below(bytes.count + 1)))
        default: break
        }
        return bytes
    }

    @Test func mutatedManifestsNeverCrashTheLoader() {
        let iterations = Int(ProcessInfo.processInfo.environment["BERTH_FUZZ_ITERATIONS"] ?? "") ?? 1_500
        var r = SeededRandom(seed: 0xB3A7_F022)
        var withErrors = 0
        for n in 0..<iterations {
            let seed = Self.seeds[r.below(Self.seeds.count)]
            let files = [
                ManifestFile(path: "a.yaml", bytes: Self.mutate(seed, &r)),
                ManifestFile(path: "b.yaml", bytes: Self.mutate(Self.seeds[r.below(Self.seeds.count)], &r)),
            ]
            let state = ManifestLoader.load(files)
            if state.hasErrors { withErrors += 1 }
            for d in state.diagnostics where d.line < 1 || d.column < 1 || !["a.yaml", "b.yaml"].contains(d.file) {
                Issue.record("iteration \(n): a diagnostic without a place: \(d.rendered)")
            }
            // Loading the same bytes again gives the same answer.
            if n % 50 == 0 { #expect(ManifestLoader.load(files) == state, "iteration \(n)") }
        }
        // The mutations do reach the checks (not everything is a YAML syntax error).
        #expect(withErrors > iterations / 4 && withErrors < iterations)
    }
}
