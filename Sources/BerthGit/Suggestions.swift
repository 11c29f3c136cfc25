/// "Did you mean" by edit distance.
enum Suggestions {
    /// Names within a small edit distance of `word` (at most 3), nearest first, then by name.
    static func nearest(to word: String, among names: [String], limit: Int = 3) -> [String] {
        let target = Array(word.lowercased().unicodeScalars)
        let threshold = max(2, target.count / 3)
        let scored = names.compactMap { name -> (Int, String)? in
            let d = distance(target, Array(name.lowercased().unicodeScalars))
            return d <= threshold ? (d, name) : nil
        }
        return scored.sorted { $0 < $1 }.prefix(limit).map(\.1)
    }

    /// Names that are `word` with or without a leading `remote/` (or folder) part: a
    /// remote-tracking `origin/feature` for `feature`, and `feature` for `origin/feature`
    /// (in a mirror the remote's branches are plain `refs/heads/…`). Edit distance misses
    /// them: the prefix alone is too long.
    static func sameBranch(as word: String, among names: [String]) -> [String] {
        names.filter { $0 != word && ($0.hasSuffix("/" + word) || word.hasSuffix("/" + $0)) }
    }

    /// Levenshtein distance.
    static func distance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
