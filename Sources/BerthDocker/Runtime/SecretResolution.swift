public import BerthCore

/// Secrets' values, from `secretSource`, for the instances of services that use secrets:
/// checked before a step changes anything (`prepareImage`), handed to each container as it
/// is created (`startInstance`), kept nowhere else.
extension DockerRuntime {
    /// The values of `spec`'s secrets; none when it uses none.
    func secretValues(for spec: ServiceSpec) async throws -> SecretValues {
        let names = spec.container.secretNames
        guard !names.isEmpty else { return .none }
        guard let secretSource else {
            throw SecretError(
                "service \(spec.name) uses secret\(names.count == 1 ? "" : "s") \(names.map { "\"\($0)\"" }.joined(separator: ", ")), and this Berth has no key to decrypt them: set BERTH_AGE_KEY_FILE to the age identity file that opens secrets/NAME.age")
        }
        let values = try await secretSource.values(for: spec)
        if let missing = names.first(where: { values[$0] == nil }) {
            throw SecretError("secret \"\(missing)\" of service \(spec.name) has no value")
        }
        return values
    }
}
