import BerthNet
public import Foundation
import NIOHTTP1

/// The other side of `berth watch`'s API, for the commands that change a project while a
/// watch holds it (`berth rollback`, `scale`, `suspend`, `resume`): ask it to sync now.
public struct WatchClient: Sendable {
    /// `http://host:port`, as the lease file names it.
    public let api: String

    public init(api: String) { self.api = api }

    /// `POST /api/v1/sync` with the token; true when the watch accepted it (202).
    public func requestSync(token: String, timeout: Duration = .seconds(5)) async -> Bool {
        guard let url = URL(string: api), let host = url.host, let port = url.port else { return false }
        let client = HTTPClient(.tcp(host: host, port: port), hostHeader: "\(host):\(port)")
        let response = try? await client.send(
            .POST, "/api/v1/sync", headers: [("Authorization", "Bearer \(token)")], timeout: timeout)
        return response?.status == 202
    }
}
