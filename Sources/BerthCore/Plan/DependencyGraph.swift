/// The `dependsOn` graph: pure, deterministic, with readable cycles and parallel waves.
///
/// Edges point from a service to the services it depends on. Unknown targets are ignored
/// here (the manifest checks report them).
public struct DependencyGraph: Sendable, Hashable {
    /// service → the services it depends on, each list sorted and without duplicates.
    /// service → the services it depends on, each list sorted and without duplicates
    /// (unknown targets dropped). Built on demand from `edges`.
    public var dependencies: [String: [String]] {
        var out: [String: [String]] = [:]
        out.reserveCapacity(nodes.count)
        for (i, n) in nodes.enumerated() { out[n] = edges[i].map { nodes[$0] } }
        return out
    }
    /// Every service, sorted by name.
    public let nodes: [String]
    /// The same graph over indices into `nodes`: `edges[i]` are the indices `nodes[i]`
    /// depends on, ascending (so in name order). All algorithms run on it.
    let edges: [[Int]]

    public init(_ dependencies: [String: [String]]) {
        self.init(pairs: dependencies.map { ($0.key, $0.value) })
    }

    public init(services: some Swift.Sequence<ServiceSpec>) {
        self.init(pairs: services.map { ($0.name, $0.dependsOn) })
    }

    /// (name, dependsOn) pairs; a repeated name keeps its last list.
    init(pairs: [(String, [String])]) {
        var index: [String: Int] = [:]
        index.reserveCapacity(pairs.count)
        for (name, _) in pairs { index[name] = 0 }
        let nodes = index.keys.sorted()
        for (i, n) in nodes.enumerated() { index[n] = i }
        var edges = [[Int]](repeating: [], count: nodes.count)
        for (name, deps) in pairs {
            var targets = deps.compactMap { index[$0] }
            if targets.count > 1 {
                targets.sort()
                var unique: [Int] = []
                unique.reserveCapacity(targets.count)
                for t in targets where unique.last != t { unique.append(t) }
                targets = unique
            }
            edges[index[name]!] = targets
        }
        self.nodes = nodes
        self.edges = edges
    }

    public static func == (a: DependencyGraph, b: DependencyGraph) -> Bool { a.nodes == b.nodes && a.edges == b.edges }
    public func hash(into h: inout Hasher) {
        h.combine(nodes)
        h.combine(edges)
    }

    /// Every cycle, each spelled from its smallest name back to itself
    /// (`["a", "b", "c", "a"]`), sorted. Found with Tarjan's strongly connected components,
    /// iteratively (no recursion, so a long chain cannot overflow the stack).
    public func cycles() -> [[String]] {
        var result: [[String]] = []
        for component in stronglyConnectedComponents() {
            if component.count == 1 {
                let n = component[0]
                if edges[n].contains(n) { result.append([nodes[n], nodes[n]]) }
                continue
            }
            result.append(cyclePath(within: Set(component)).map { nodes[$0] })
        }
        return result.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// A simple cycle inside one component, starting from its smallest member (indices
    /// follow name order, so the smallest index is the smallest name).
    private func cyclePath(within members: Set<Int>) -> [Int] {
        let start = members.min()!
        // Breadth-first search back to `start`, preferring smaller names for a stable answer.
        var previous: [Int: Int] = [:]
        var queue = [start]
        var head = 0
        var seen: Set<Int> = [start]
        while head < queue.count {
            let node = queue[head]; head += 1
            for next in edges[node] where members.contains(next) {
                if next == start {
                    var path = [node]
                    var cur = node
                    while let p = previous[cur] { path.append(p); cur = p }
                    return path.reversed() + [start]
                }
                if seen.insert(next).inserted {
                    previous[next] = node
                    queue.append(next)
                }
            }
        }
        return [start, start]
    }

    /// Components as sorted index lists.
    func stronglyConnectedComponents() -> [[Int]] {
        let count = nodes.count
        var index = [Int](repeating: -1, count: count)
        var low = [Int](repeating: 0, count: count)
        var onStack = [Bool](repeating: false, count: count)
        var stack: [Int] = []
        var components: [[Int]] = []
        var counter = 0

        for root in 0..<count where index[root] < 0 {
            // Each frame: the node and the position of the next edge to visit.
            var work: [(node: Int, edge: Int)] = [(root, 0)]
            index[root] = counter; low[root] = counter; counter += 1
            stack.append(root); onStack[root] = true
            while !work.isEmpty {
                let (node, edge) = work[work.count - 1]
                let deps = edges[node]
                if edge < deps.count {
                    work[work.count - 1].edge += 1
                    let next = deps[edge]
                    if index[next] < 0 {
                        index[next] = counter; low[next] = counter; counter += 1
                        stack.append(next); onStack[next] = true
                        work.append((next, 0))
                    } else if onStack[next] {
                        low[node] = min(low[node], index[next])
                    }
                    continue
                }
                work.removeLast()
                if let parent = work.last?.node { low[parent] = min(low[parent], low[node]) }
                if low[node] == index[node] {
                    var component: [Int] = []
                    while let top = stack.popLast() {
                        onStack[top] = false
                        component.append(top)
                        if top == node { break }
                    }
                    components.append(component.sorted())
                }
            }
        }
        return components
    }

    /// The wave of every service: 0 for those that depend on nothing, else one more than
    /// the highest wave among its dependencies. Nil when the graph has a cycle.
    public func waves() -> [String: Int]? {
        guard let byIndex = waveIndices() else { return nil }
        var wave: [String: Int] = [:]
        wave.reserveCapacity(nodes.count)
        for (i, w) in byIndex.enumerated() { wave[nodes[i]] = w }
        return wave
    }

    /// `waves()` by index into `nodes`. Nil when the graph has a cycle.
    public func waveIndices() -> [Int]? {
        var flat: [(dependent: Int, dependency: Int)] = []
        for n in edges.indices { for d in edges[n] { flat.append((n, d)) } }
        return Self.waves(count: nodes.count, edges: flat)
    }

    /// Waves counted only among the services that have a step (`Self.stepWaves`), by index
    /// into `nodes`; `reversed` turns every edge around (the order of deletes: a service
    /// before the services it depends on). Nil when the graph has a cycle.
    public func stepWaveIndices(hasStep: [Bool], reversed: Bool = false) -> [Int]? {
        precondition(hasStep.count == nodes.count, "one hasStep flag per node")
        var flat: [(dependent: Int, dependency: Int)] = []
        for n in edges.indices { for d in edges[n] { flat.append(reversed ? (d, n) : (n, d)) } }
        return Self.stepWaves(count: nodes.count, edges: flat, hasStep: hasStep)
    }

    /// Kahn's algorithm over nodes `0..<count`: each node's wave is 0 when it depends on
    /// nothing, else one more than the highest wave among its dependencies. Repeated edges
    /// are harmless. Nil when the graph has a cycle (a self-edge included).
    static func waves(count: Int, edges: [(dependent: Int, dependency: Int)]) -> [Int]? {
        stepWaves(count: count, edges: edges, hasStep: [Bool](repeating: true, count: count))
    }

    /// Waves counted only among the nodes that have a step (the planner's rule): a node with a
    /// step is in wave 0 when no node it depends on, directly or through nodes without
    /// steps, has a step; else one more than the highest wave among those. Chains through
    /// nodes without steps still order (c → b → a with steps on a and c: a 0, c 1), and
    /// every wave from 0 to the highest holds a step. For a node without a step the answer
    /// is the highest wave among the steps below it (-1 for none). Kahn's algorithm, in
    /// linear time; nil when the graph has a cycle (a self-edge included), steps or not.
    static func stepWaves(count: Int, edges: [(dependent: Int, dependency: Int)], hasStep: [Bool]) -> [Int]? {
        // Dependents of each node as one flat adjacency array (`start[n]..<start[n + 1]`).
        var unresolved = [Int](repeating: 0, count: count)
        var start = [Int](repeating: 0, count: count + 1)
        for e in edges {
            unresolved[e.dependent] += 1
            start[e.dependency + 1] += 1
        }
        for n in 0..<count { start[n + 1] += start[n] }
        var next = start
        var dependents = [Int](repeating: 0, count: edges.count)
        for e in edges {
            dependents[next[e.dependency]] = e.dependent
            next[e.dependency] += 1
        }
        // `level[n]`: first the highest wave among the steps below n, then (once n is
        // ready) n's own wave when it has a step.
        var level = [Int](repeating: -1, count: count)
        var ready: [Int] = []
        ready.reserveCapacity(count)
        for n in 0..<count where unresolved[n] == 0 { ready.append(n) }
        var head = 0
        while head < ready.count {
            let n = ready[head]
            head += 1
            if hasStep[n] { level[n] += 1 }
            for k in start[n]..<start[n + 1] {
                let dependent = dependents[k]
                level[dependent] = max(level[dependent], level[n])
                unresolved[dependent] -= 1
                if unresolved[dependent] == 0 { ready.append(dependent) }
            }
        }
        return ready.count == count ? level : nil
    }
}
