public import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Who runs a command by hand, as the journal records it: `user@host`.
public enum OperatorIdentity {
    /// `$USER` (else `$LOGNAME`, else the account of the process's user id) `@` the host name.
    public static func current(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let user = [environment["USER"], environment["LOGNAME"]].compactMap { $0 }.first { !$0.isEmpty }
            ?? getpwuid(getuid()).flatMap { $0.pointee.pw_name.map { String(cString: $0) } }
            ?? "uid\(getuid())"
        var buffer = [CChar](repeating: 0, count: 256)
        let host = gethostname(&buffer, buffer.count) == 0
            ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "localhost"
        return "\(user)@\(host)"
    }
}
