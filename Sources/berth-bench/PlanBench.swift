import BerthTestSupport
import BerthCore
import BerthYAML
import Foundation

/// `berth-bench plan`: plans 10,000 services against 50,000 observed instances with a
/// realistic mix of changes (1% new, 2% new image, 2% rescaled, 1% with a crashed
/// instance, 100 services gone from git and pruned), and prints the planning time next to
/// the time to load the same services from YAML, in the same run. Target: planning under
/// 10% of loading.
///
/// Loading is timed twice: YAML parsing alone (`YAML.parse` on every file, a lower bound),
/// and the full `ManifestLoader.load` in a child process (so a loader that is not built
/// yet shows as "not available" instead of ending the run). Every figure is printed as
/// wall-clock median and thread-CPU minimum; the ratios use CPU minimums, which stay put
/// on a machine shared with other work.
let planBenchmark = Benchmark(
    name: "plan",
    summary: "planning 10,000 services / 50,000 instances vs loading their manifests",
    run: PlanBench.run,
    phases: ["load": PlanBench.loadPhase, "repeat": PlanBench.repeatPhase, "json": PlanBench.jsonPhase])

enum PlanBench {
    static let serviceCount = 10_000
    static let orphanCount = 100
    static let replicasPerService = 5

    struct World {
        var desired: DesiredState
        var observed: ObservedState
        var files: [ManifestFile]
    }


    static func name(_ i: Int) -> String { String(format: "svc-%05d", i) }

    static func makeWorld() -> World {
        var rng = SeededRandom(seed: 0x0B3A_7417)  // SplitMix64: every run plans the same world
        var specs: [String: ServiceSpec] = [:]
        var files: [ManifestFile] = []
        var services: [ObservedService] = []
        for i in 0..<serviceCount {
            let n = name(i)
            let deps = i == 0 ? [] : Array(Set((0..<rng.below(3)).map { _ in name(rng.below(i)) })).sorted()
            let spec = ServiceSpec(
                name: n, labels: ["team": "team-\(i % 40)"], image: "shop/\(n):1.\(i % 7).0",
                replicas: replicasPerService,
                env: ["PORT": "8080", "DB_PASSWORD": "pw-\(i)", "PEER_URL": "http://\(deps.first ?? n):8080"],
                ports: [PortSpec(containerPort: 8080)], dependsOn: deps,
                health: HealthCheck(probe: .http(path: "/healthz", port: 8080)))
            specs[n] = spec
            files.append(ManifestFile(path: "manifests/\(n).yaml", bytes: Array(yaml(spec).utf8)))

            // What runs: most services converged; a realistic mix of changes.
            let roll = rng.below(100)
            if roll == 0 { continue }  // 1%: new service → create
            var running = spec
            var crashed = false
            switch roll {
            case 1...2: running.image = "shop/\(n):0.9.0"  // 2%: new image → update
            case 3...4: running.replicas = replicasPerService - 1 - rng.below(2)  // 2%: rescaled → scale
            case 5: crashed = true  // 1%: a crashed instance → heal
            default: break
            }
            let revision = running.revision
            var instances = (0..<running.replicas).map { r in
                Instance(id: "\(n)-\(r)", service: n, revision: revision, commit: "c0ffee", image: running.image,
                         state: .running, created: "2026-11-25T00:00:00Z")
            }
            if crashed {
                instances[0].state = .exited
                instances[0].exitCode = 137
                instances[0].restartCount = 3
            }
            services.append(ObservedService(name: n, instances: instances))
        }
        for o in 0..<orphanCount {
            let n = "gone-\(o)"
            services.append(ObservedService(name: n, instances: (0..<replicasPerService).map {
                Instance(id: "\(n)-\($0)", service: n, revision: Revision("0123456789"), image: "shop/\(n):1", state: .running)
            }))
        }
        return World(
            desired: DesiredState(services: specs, commit: "0123456789abcdef0123456789abcdef01234567"),
            observed: ObservedState(project: "bench", services: services),
            files: files)
    }

    /// The manifest a person would write for `spec`.
    static func yaml(_ spec: ServiceSpec) -> String {
        var out = """
            apiVersion: berth/v1
            kind: Service
            metadata:
              name: \(spec.name)
              labels: {team: \(spec.labels["team"]!)}
            spec:
              image: \(spec.image)
              replicas: \(spec.replicas)
              env:

            """
        for k in spec.env.keys.sorted() { out += "    \(k): \"\(spec.env[k]!)\"\n" }
        out += "  ports:\n    - containerPort: 8080\n"
        if !spec.dependsOn.isEmpty { out += "  dependsOn: [\(spec.dependsOn.joined(separator: ", "))]\n" }
        out += "  health:\n    http: {path: /healthz, port: 8080}\n"
        return out
    }

    static func run(_ args: [String]) throws {
        let world = makeWorld()
        let instanceCount = world.observed.services.reduce(0) { $0 + $1.instances.count }
        let bytes = world.files.reduce(0) { $0 + $1.bytes.count }
        print("berth-bench plan: \(serviceCount) services, \(instanceCount) observed instances, "
              + "\(world.files.count) manifests (\(Harness.fmt(Double(bytes) / 1_048_576)) MiB)")

        // Plan what `berth plan` plans: the desired state as the manifest loader produced it
        // (loaded once here, untimed; the timed load runs in a child process below).
        let desired = ManifestLoader.load(world.files, commit: world.desired.commit)
        guard desired.services == world.desired.services, !desired.hasErrors else {
            Harness.fail("the loaded manifests differ from the generated world")
        }
        let options = PlanOptions(prune: true, allowMassDelete: true)
        var plan: Plan?
        let planning = time(passes: 7) {
            plan = try? Planner.plan(desired: desired, observed: world.observed, options: options)
        }
        guard let plan else { Harness.fail("the benchmark world did not plan") }
        let s = plan.summary
        print("  plan: \(plan.steps.count) steps in \(plan.waveCount) waves "
              + "(create \(s.create), update \(s.update), scale \(s.scale), heal \(s.heal), delete \(s.delete))")
        let json = time(passes: 5) { _ = plan.jsonText() }
        let parse = time(passes: 5) { for f in world.files { _ = YAML.parse(f.bytes) } }

        // The full load in a child process, which regenerates the same world; it reports
        // its CPU-time minimum as `seconds`.
        let (load, why) = try Harness.runPhase("plan.load", [])

        func ms(_ s: Double) -> String { Harness.pad(Harness.fmt(s * 1000), 8) + " ms" }
        print("                                     wall median     CPU min")
        print("  Planner.plan                     \(ms(planning.wall))  \(ms(planning.cpu))")
        print("  plan JSON encoding               \(ms(json.wall))  \(ms(json.cpu))")
        print("  YAML.parse of every manifest     \(ms(parse.wall))  \(ms(parse.cpu))   planning = \(Harness.fmt(planning.cpu / parse.cpu * 100))% of it")
        if let load {
            print("  ManifestLoader.load of them all  \(Harness.pad("-", 11))  \(ms(load.seconds))   planning = \(Harness.fmt(planning.cpu / load.seconds * 100))% of it (target < 10%)")
        } else {
            print("  ManifestLoader.load              not available in this build (child: \(why))")
        }
    }

    /// Wall-clock median and thread-CPU minimum of `passes` runs after one warm-up. On a
    /// shared machine the CPU minimum is the stable figure; ratios use it.
    static func time(passes: Int, _ body: () -> Void) -> (wall: Double, cpu: Double) {
        body()
        let clock = ContinuousClock()
        var walls: [Double] = [], cpus: [Double] = []
        for _ in 0..<passes {
            let c0 = threadCPU()
            let d = clock.measure(body)
            cpus.append(threadCPU() - c0)
            walls.append(Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
        }
        return (walls.sorted()[passes / 2], cpus.min()!)
    }

    static func threadCPU() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// `berth-bench --phase plan.repeat [N]`: plans the loaded world N times (default 300)
    /// and nothing else, for a profiler (`perf record -e cpu-clock -g`).
    static func repeatPhase(_ args: [String]) throws -> PhaseResult {
        let world = makeWorld()
        let desired = ManifestLoader.load(world.files, commit: world.desired.commit)
        let options = PlanOptions(prune: true, allowMassDelete: true)
        let passes = args.first.flatMap { Int($0) } ?? 300
        let seconds = time(passes: passes) {
            _ = try? Planner.plan(desired: desired, observed: world.observed, options: options)
        }.cpu
        return PhaseResult(bytes: 0, documents: serviceCount, seconds: seconds, passes: passes)
    }

    /// `berth-bench --phase plan.json FILE`: writes the benchmark world's plan as JSON, to
    /// compare planners byte for byte across builds.
    static func jsonPhase(_ args: [String]) throws -> PhaseResult {
        guard let path = args.first else { Harness.fail("plan.json needs an output file") }
        let world = makeWorld()
        let desired = ManifestLoader.load(world.files, commit: world.desired.commit)
        let options = PlanOptions(prune: true, allowMassDelete: true)
        guard let plan = try? Planner.plan(desired: desired, observed: world.observed, options: options) else {
            Harness.fail("the benchmark world did not plan")
        }
        let text = plan.jsonText()
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return PhaseResult(bytes: text.utf8.count, documents: plan.steps.count, seconds: 0, passes: 1)
    }

    static func loadPhase(_ args: [String]) throws -> PhaseResult {
        let world = makeWorld()
        var loaded: DesiredState?
        let seconds = time(passes: 5) {
            loaded = ManifestLoader.load(world.files, commit: world.desired.commit)
        }.cpu
        if let loaded, loaded.services != world.desired.services || loaded.hasErrors {
            FileHandle.standardError.write(Data(
                "berth-bench: warning: loaded \(loaded.services.count) services with \(loaded.diagnostics.count) diagnostics; they differ from the generated ones\n".utf8))
        }
        return PhaseResult(
            bytes: world.files.reduce(0) { $0 + $1.bytes.count }, documents: world.files.count,
            seconds: seconds, passes: 5)
    }
}
