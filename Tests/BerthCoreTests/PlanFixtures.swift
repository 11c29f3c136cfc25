import BerthCore

/// Small builders for planner tests.
enum Fx {
    static let commit = "0123456789abcdef0123456789abcdef01234567"

    static func spec(
        _ name: String, image: String? = nil, replicas: Int = 1, dependsOn: [String] = [],
        env: [String: String] = [:], update: UpdatePolicy = .init(), restart: RestartPolicy = .always
    ) -> ServiceSpec {
        ServiceSpec(
            name: name, image: image ?? "shop/\(name):1.0", replicas: replicas, env: env,
            dependsOn: dependsOn, update: update, restart: restart)
    }

    static func desired(_ specs: [ServiceSpec], diagnostics: [Diagnostic] = []) -> DesiredState {
        DesiredState(
            services: Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0) }),
            diagnostics: diagnostics, commit: commit)
    }

    /// Instances `NAME-1 … NAME-n` of `spec`'s revision (or `revision`), all in `state`.
    static func instances(
        of spec: ServiceSpec, _ count: Int, state: Instance.State = .running, revision: String? = nil,
        image: String? = nil, firstIndex: Int = 1
    ) -> [Instance] {
        (0..<count).map { i in
            Instance(
                id: "\(spec.name)-\(firstIndex + i)", service: spec.name,
                revision: Revision(revision ?? spec.revision.id), image: image ?? spec.image, state: state)
        }
    }

    static func observed(_ groups: [[Instance]]) -> ObservedState {
        var byName: [String: [Instance]] = [:]
        for i in groups.joined() { byName[i.service, default: []].append(i) }
        return ObservedState(
            project: "shop",
            services: byName.keys.sorted().map { ObservedService(name: $0, instances: byName[$0]!) })
    }

    static func plan(
        _ desired: DesiredState, _ observed: ObservedState, prune: Bool = false, allowMassDelete: Bool = false
    ) throws -> Plan {
        try Planner.plan(
            desired: desired, observed: observed,
            options: PlanOptions(prune: prune, allowMassDelete: allowMassDelete))
    }
}

/// One line per step: "wave action service reason [instances]" — compact and exact.
func lines(_ plan: Plan) -> [String] {
    plan.steps.map { s in
        var line = "\(s.wave) \(s.action.rawValue) \(s.service): \(s.reason)"
        if let f = s.from { line += " | from \(f.image) x\(f.replicas)" }
        if let t = s.to { line += " | to \(t.image) x\(t.replicas)" }
        if let st = s.strategy { line += " | \(st.description)" }
        if let ids = s.instances { line += " | [\(ids.joined(separator: ", "))]" }
        return line
    }
}

import Foundation

enum JSONDecoding {
    static func plan(_ text: String) throws -> Plan {
        try JSONDecoder().decode(Plan.self, from: Data(text.utf8))
    }
    static func observed(_ text: String) throws -> ObservedState {
        try JSONDecoder().decode(ObservedState.self, from: Data(text.utf8))
    }
    static func encode(_ value: some Encodable) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(value), as: UTF8.self)
    }
}
