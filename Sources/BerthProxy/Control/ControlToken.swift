/// The secret a `berth proxy` takes its control calls with (`POST /v1/drain`, `/v1/ready`,
/// and every other call that changes something): 32 random bytes, hex, made at start and
/// written only to the proxy's state file (0600, in a 0700 folder). A client sends it as
/// `Authorization: Bearer TOKEN`; whoever can read the state file is its owner (the user
/// running `berth watch`), so another local user, who can still connect to the loopback
/// port, is refused (issue 18, finding 3). Reads (`GET`) stay open on the control address.
public enum ControlToken {
    /// A new token (the system's CSPRNG: `getrandom` on Linux).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for _ in 0..<4 {
            let word = generator.next()
            for shift in stride(from: 60, through: 0, by: -4) { text.append(hex[Int((word >> UInt64(shift)) & 0xf)]) }
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// True when `authorization` (the header's value) is `Bearer <token>`; compares in time
    /// independent of where the first difference is.
    public static func accepts(_ authorization: String?, token: String) -> Bool {
        guard let authorization else { return false }
        let sent = Array(authorization.utf8)
        let expected = Array("Bearer \(token)".utf8)
        guard sent.count == expected.count else { return false }
        var difference: UInt8 = 0
        for index in sent.indices { difference |= sent[index] ^ expected[index] }
        return difference == 0
    }
}
