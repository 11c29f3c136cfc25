/// "Did you mean" for unknown field names, enum values and service names.
public enum Suggestion {
    /// The candidate equal ignoring case, else the one within edit distance 2 (closest
    /// first, then alphabetical); nil when none is close.
    public static func closest(to word: String, among candidates: [String]) -> String? {
        var budget = Int.max
        return closest(to: word, among: candidates, budget: &budget)
    }

    /// `closest`, charged to `budget` (one unit per candidate). With fewer units left than
    /// candidates it compares nothing and answers nil, so thousands of unknown names among
    /// thousands of services cost a bounded time instead of their product.
    static func closest(to word: String, among candidates: [String], budget: inout Int) -> String? {
        var prepared = Candidates(candidates)
        if case .found(let name) = prepared.lookup(word, budget: &budget) { return name }
        return nil
    }

    /// What a look-up found: a close name, none, or nothing because the budget ran out.
    enum Lookup: Equatable {
        case found(String)
        case none
        case overBudget
    }

    /// Candidates lowercased once, for many look-ups among the same names.
    struct Candidates {
        let names: [String]
        private let lowered: [[UInt32]]
        private let ascii: [Bool]
        private let longest: Int
        private var rows = ([Int](), [Int]())

        init(_ names: [String]) {
            self.names = names
            lowered = names.map { name in
                var out: [UInt32] = []
                Suggestion.lowered(name, into: &out)
                return out
            }
            ascii = names.map { $0.utf8.allSatisfy { $0 < 0x80 } }
            longest = names.lazy.map(\.utf8.count).max() ?? 0
        }

        mutating func lookup(_ word: String, budget: inout Int) -> Lookup {
            guard budget >= names.count else { return .overBudget }
            budget -= names.count
            // A word far longer than every name is close to none (and a 10 MB value is
            // not lowercased for nothing).
            if word.utf8.count > 4 * longest + 8 { return .none }
            var w: [UInt32] = []
            Suggestion.lowered(word, into: &w)
            let wordIsASCII = word.utf8.allSatisfy { $0 < 0x80 }
            let wordLowered = word.lowercased()
            var caseless: String?
            var best: (distance: Int, word: String)?
            for (k, c) in lowered.enumerated() {
                // Equal ignoring case: scalar by scalar for ASCII; as Strings (canonical
                // equivalence: "é" precomposed or not) otherwise.
                let same = wordIsASCII && ascii[k] ? c == w : names[k].lowercased() == wordLowered
                if same {
                    if caseless == nil { caseless = names[k] }
                    continue
                }
                guard abs(c.count - w.count) <= 2 else { continue }
                guard caseless == nil, let d = boundedDistance(w, c, limit: 2, rows: &rows),
                    d < max(names[k].count, word.count)
                else { continue }
                if best == nil || d < best!.distance || (d == best!.distance && names[k] < best!.word) {
                    best = (d, names[k])
                }
            }
            return (caseless ?? best?.word).map(Lookup.found) ?? .none
        }
    }

    /// The lowercased text's Unicode scalars (ASCII mapped byte by byte, without a String).
    static func lowered(_ text: String, into out: inout [UInt32]) {
        out.removeAll(keepingCapacity: true)
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            for b in text.utf8 { out.append(UInt32(b >= 0x41 && b <= 0x5A ? b | 0x20 : b)) }
        } else {
            for u in text.lowercased().unicodeScalars { out.append(u.value) }
        }
    }

    /// Levenshtein distance when it is at most `limit`, else nil (stops at the first row
    /// whose every cell is above the limit). `rows` are reused buffers.
    static func boundedDistance(_ a: [UInt32], _ b: [UInt32], limit: Int, rows: inout ([Int], [Int])) -> Int? {
        if a.isEmpty { return b.count <= limit ? b.count : nil }
        if b.isEmpty { return a.count <= limit ? a.count : nil }
        rows.0.removeAll(keepingCapacity: true)
        rows.0.append(contentsOf: 0...b.count)
        rows.1.removeAll(keepingCapacity: true)
        rows.1.append(contentsOf: repeatElement(0, count: b.count + 1))
        for i in 1...a.count {
            rows.1[0] = i
            var smallest = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                let cell = min(rows.0[j] + 1, rows.1[j - 1] + 1, rows.0[j - 1] + cost)
                rows.1[j] = cell
                smallest = min(smallest, cell)
            }
            if smallest > limit { return nil }
            swap(&rows.0, &rows.1)
        }
        return rows.0[b.count] <= limit ? rows.0[b.count] : nil
    }

    /// Levenshtein distance over Unicode scalars.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
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
