/// Where a runtime gets the decrypted values of the secrets a service uses, just before it
/// starts the service's instances: the values go into the containers and nowhere else.
public protocol SecretSource: Sendable {
    /// The value of every secret in `spec.container.secretNames`, each the file whose git id
    /// is in `spec.container.secretVersions`. Throws a `SecretError` naming the secret when
    /// one cannot be had (no key, a wrong key, a damaged file).
    func values(for spec: ServiceSpec) async throws -> SecretValues
}

/// Why a secret could not be decrypted: names the secret and the service, never a value.
public struct SecretError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
