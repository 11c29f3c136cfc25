extension FlatDocument {
    /// The node as a `Node` tree. An anchored node used by several aliases is built once
    /// and shared (copy on write), as the alias budget assumes.
    public func node(_ n: NodeID) -> Node {
        var shared: [Int: Node] = [:]
        return node(n, shared: &shared)
    }

    /// The document as a `Document` (its root as a tree).
    public var tree: Document { Document(root: root.map { node($0) }, start: start) }

    private func node(_ n: NodeID, shared: inout [Int: Node]) -> Node {
        let i = Int(n.index)
        if nodes[i].kind == .alias {
            let t = Int(nodes[i].a)
            if let built = shared[t] { return built }
            let built = node(NodeID(t), shared: &shared)
            shared[t] = built
            return built
        }
        let mark = self.mark(n)
        let tag = self.tag(n)
        switch nodes[i].kind {
        case .sequence:
            var items: [Node] = []
            items.reserveCapacity(Int(nodes[i].b))
            forEachItem(n) { items.append(node($0, shared: &shared)) }
            return .sequence(Sequence(items: items, tag: tag, style: collectionStyle(n), mark: mark))
        case .mapping:
            var entries: [Mapping.Entry] = []
            forEachEntry(n) { e in
                entries.append(Mapping.Entry(key: node(e.key, shared: &shared), value: node(e.value, shared: &shared), mergedFrom: e.mergedFrom))
            }
            return .mapping(Mapping(entries: entries, tag: tag, style: collectionStyle(n), mark: mark))
        default:
            return .scalar(Scalar(value: text(n), tag: tag, style: style(n), mark: mark))
        }
    }
}
