/// Why an alert is held back instead of sent (SPEC §14): its flip came during a maintenance
/// window of its check, or while checks it depends on were down. A held alert waits in the
/// queue, due never, until the runtime settles it: sent once nothing holds the check any more
/// and its status still says what the alert says, withdrawn otherwise.
public struct AlertHold: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The flip came during a maintenance window.
    public var maintenance: Bool
    /// The checks (`project/key`) it depends on that were down.
    public var dependencies: [String]

    public init(maintenance: Bool = false, dependencies: [String] = []) {
        self.maintenance = maintenance
        self.dependencies = dependencies
    }

    /// "maintenance", "ops/db is down", "maintenance; ops/db and ops/net are down".
    public var description: String {
        var parts: [String] = []
        if maintenance { parts.append("maintenance") }
        if !dependencies.isEmpty {
            parts.append("\(dependencies.joined(separator: ", ")) \(dependencies.count == 1 ? "is" : "are") down")
        }
        return parts.joined(separator: "; ")
    }
}
