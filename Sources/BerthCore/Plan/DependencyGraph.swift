/// The `dependsOn` graph: pure, deterministic, with readable cycles and parallel waves.
///
/// Edges point from a service to the services it depends on. Unknown targets are ignored
/// here (the manifest checks report them).
public struct DependencyGraph: Sendable, Hashable {
    /// service → the services it depends on, each list sorted and without duplicates.
    public let dependencies: [String: [String]]
    public let nodes: [String]

    public init(_ dependencies: [String: [String]]) {
        var clean: [String: [String]] = [:]
        for (name, deps) in dependencies {
            clean[name] = Array(Set(deps.filter { dependencies[$0] != nil })).sorted()
        }
        self.dependencies = clean
        self.nodes = clean.keys.sorted()
    }

    public init(services: some Swift.Sequence<ServiceSpec>) {
        var map: [String: [String]] = [:]
        for s in services { map[s.name] = s.dependsOn }
        self.init(map)
    }

    /// Every cycle, each spelled from its smallest name back to itself
    /// (`["a", "b", "c", "a"]`), sorted. Found with Tarjan's strongly connected components,
    /// iteratively (no recursion, so a long chain cannot overflow the stack).
    public func cycles() -> [[String]] {
        var result: [[String]] = []
        for component in stronglyConnectedComponents() {
            if component.count == 1 {
                let n = component[0]
                if dependencies[n]?.contains(n) == true { result.append([n, n]) }
                continue
            }
            result.append(cyclePath(within: Set(component)))
        }
        return result.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// A simple cycle inside one component, starting from its smallest member.
    private func cyclePath(within members: Set<String>) -> [String] {
        let start = members.min()!
        // Breadth-first search back to `start`, preferring smaller names for a stable answer.
        var previous: [String: String] = [:]
        var queue = [start]
        var head = 0
        var seen: Set<String> = [start]
        while head < queue.count {
            let node = queue[head]; head += 1
            for next in dependencies[node] ?? [] where members.contains(next) {
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

    func stronglyConnectedComponents() -> [[String]] {
        var index: [String: Int] = [:]
        var low: [String: Int] = [:]
        var onStack: Set<String> = []
        var stack: [String] = []
        var components: [[String]] = []
        var counter = 0

        for root in nodes where index[root] == nil {
            // Each frame: the node and the position of the next edge to visit.
            var work: [(node: String, edge: Int)] = [(root, 0)]
            index[root] = counter; low[root] = counter; counter += 1
            stack.append(root); onStack.insert(root)
            while !work.isEmpty {
                let (node, edge) = work[work.count - 1]
                let deps = dependencies[node] ?? []
                if edge < deps.count {
                    work[work.count - 1].edge += 1
                    let next = deps[edge]
                    if index[next] == nil {
                        index[next] = counter; low[next] = counter; counter += 1
                        stack.append(next); onStack.insert(next)
                        work.append((next, 0))
                    } else if onStack.contains(next) {
                        low[node] = min(low[node]!, index[next]!)
                    }
                    continue
                }
                work.removeLast()
                if let parent = work.last?.node { low[parent] = min(low[parent]!, low[node]!) }
                if low[node] == index[node] {
                    var component: [String] = []
                    while let top = stack.popLast() {
                        onStack.remove(top)
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
        var wave: [String: Int] = [:]
        var remaining: [String: Int] = [:]  // unresolved dependency count
        var dependents: [String: [String]] = [:]
        for n in nodes {
            let deps = dependencies[n] ?? []
            remaining[n] = deps.count
            for d in deps { dependents[d, default: []].append(n) }
        }
        var ready = nodes.filter { remaining[$0] == 0 }
        for n in ready { wave[n] = 0 }
        var head = 0
        while head < ready.count {
            let n = ready[head]; head += 1
            for dependent in dependents[n] ?? [] {
                wave[dependent] = max(wave[dependent] ?? 0, wave[n]! + 1)
                remaining[dependent]! -= 1
                if remaining[dependent] == 0 { ready.append(dependent) }
            }
        }
        return ready.count == nodes.count ? wave : nil
    }
}
