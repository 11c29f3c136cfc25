/// A git object id (SHA-1), held by value.
public struct ObjectID: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    let a: UInt64, b: UInt64, c: UInt32

    init(a: UInt64, b: UInt64, c: UInt32) {
        self.a = a
        self.b = b
        self.c = c
    }

    /// Parses 40 hex digits; nil otherwise.
    public init?(hex: String) {
        let bytes = Array(hex.utf8)
        guard bytes.count == 40 else { return nil }
        var values = [UInt8]()
        values.reserveCapacity(20)
        var i = 0
        while i < 40 {
            guard let hi = ObjectID.nibble(bytes[i]), let lo = ObjectID.nibble(bytes[i + 1]) else { return nil }
            values.append(hi << 4 | lo)
            i += 2
        }
        self.init(bytes: values)
    }

    init(bytes: some Collection<UInt8>) {
        var a: UInt64 = 0, b: UInt64 = 0, c: UInt32 = 0
        for (i, byte) in bytes.enumerated() {
            switch i {
            case 0..<8: a = a << 8 | UInt64(byte)
            case 8..<16: b = b << 8 | UInt64(byte)
            default: c = c << 8 | UInt32(byte)
            }
        }
        self.init(a: a, b: b, c: c)
    }

    var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(20)
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: a >> UInt64(shift))) }
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: b >> UInt64(shift))) }
        for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: c >> UInt32(shift))) }
        return out
    }

    /// The first 8 bytes of a SHA-1 are already uniformly spread: hashing them alone makes
    /// the id tables of a history walk (tens of thousands of lookups) cheaper. Equality
    /// still compares all 20 bytes.
    public func hash(into hasher: inout Hasher) { hasher.combine(a) }

    /// Appends the 20 bytes to `out` (no intermediate array: an index write appends ~20,000).
    func append(to out: inout [UInt8]) {
        withUnsafeBytes(of: a.bigEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: b.bigEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: c.bigEndian) { out.append(contentsOf: $0) }
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// 40 lowercase hex digits.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(40)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var short: String { String(hex.prefix(7)) }
    public var description: String { hex }

    public static func < (x: ObjectID, y: ObjectID) -> Bool { (x.a, x.b, x.c) < (y.a, y.b, y.c) }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = ObjectID(hex: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an object id: \(text)"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

/// Who made a commit, and when (seconds since the epoch, and the UTC offset in minutes that
/// the author's clock showed).
public struct Signature: Sendable, Hashable {
    public var name: String
    public var email: String
    public var time: Int64
    public var offsetMinutes: Int

    public init(name: String, email: String, time: Int64, offsetMinutes: Int) {
        self.name = name
        self.email = email
        self.time = time
        self.offsetMinutes = offsetMinutes
    }

    /// RFC 3339 in the signature's own offset: `2026-11-25T03:48:56+01:00` (`Z` for UTC).
    /// Both numbers come from the commit object as written, so they are clamped before any
    /// arithmetic: the offset to ±99:59, the local time to the years 0001–9999 (a commit
    /// dated 2^63 − 1 seconds trapped `berth history`).
    public var rfc3339: String {
        let offset = Int64(min(max(offsetMinutes, -5999), 5999))
        let local = min(max(time, CivilDate.earliestSecond - 360_000), CivilDate.latestSecond + 360_000) + offset * 60
        var text = CivilDate.dateTime(seconds: local)
        if offset == 0 {
            text += "Z"
        } else {
            let magnitude = Swift.abs(offset)
            text += (offset < 0 ? "-" : "+") + CivilDate.padded(magnitude / 60, 2) + ":" + CivilDate.padded(magnitude % 60, 2)
        }
        return text
    }
}

/// A commit, copied out of libgit2.
public struct Commit: Sendable, Hashable {
    public var id: ObjectID
    public var parents: [ObjectID]
    public var tree: ObjectID
    public var author: Signature
    public var committer: Signature
    public var message: String
    /// The first paragraph of the message, on one line.
    public var summary: String

    public init(id: ObjectID, parents: [ObjectID], tree: ObjectID, author: Signature, committer: Signature, message: String, summary: String) {
        self.id = id
        self.parents = parents
        self.tree = tree
        self.author = author
        self.committer = committer
        self.message = message
        self.summary = summary
    }
}

/// One entry of a tree listing.
public struct TreeEntry: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable { case blob, tree, submodule }
    /// The entry's own name (`booking.yaml`).
    public var name: String
    /// Path relative to the repository root (`manifests/shop/booking.yaml`).
    public var path: String
    public var id: ObjectID
    public var kind: Kind

    public init(name: String, path: String, id: ObjectID, kind: Kind) {
        self.name = name
        self.path = path
        self.id = id
        self.kind = kind
    }
}

/// A changed file between two trees (paths relative to the trees compared).
public struct TreeChange: Sendable, Hashable {
    public var path: String
    /// nil when the file was added.
    public var old: ObjectID?
    /// nil when the file was deleted.
    public var new: ObjectID?
    public init(path: String, old: ObjectID?, new: ObjectID?) {
        self.path = path
        self.old = old
        self.new = new
    }
}
