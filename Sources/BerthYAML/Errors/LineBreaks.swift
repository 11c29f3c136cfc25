/// Line breaks as libyaml counts them — LF, CRLF, a lone CR, NEL, LS and PS — so that a
/// place libyaml reports (or one counted from a byte offset) finds its line again.
public enum LineBreaks {
    /// The length in bytes of the line break that starts at `i`, looking no further than
    /// `end`; 0 when none starts there.
    static func length(at i: Int, in bytes: UnsafeBufferPointer<UInt8>, end: Int) -> Int {
        switch bytes[i] {
        case 0x0A: return 1
        case 0x0D: return i + 1 < end && bytes[i + 1] == 0x0A ? 2 : 1
        case 0xC2 where i + 1 < end && bytes[i + 1] == 0x85: return 2
        case 0xE2 where i + 2 < end && bytes[i + 1] == 0x80 && (bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9):
            return 3
        default: return 0
        }
    }

    /// Where each line of a file lies, without its line break and without a leading BOM:
    /// line N (1-based, as in a `Mark`) is `lineRanges(bytes)[N - 1]`.
    public static func lineRanges(_ bytes: [UInt8]) -> [Range<Int>] {
        bytes.withUnsafeBufferPointer { b in
            var ranges: [Range<Int>] = []
            var start = b.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
            var i = start
            while i < b.count {
                let n = length(at: i, in: b, end: b.count)
                if n == 0 {
                    i += 1
                    continue
                }
                ranges.append(start..<i)
                i += n
                start = i
            }
            ranges.append(start..<b.count)
            return ranges
        }
    }
}
