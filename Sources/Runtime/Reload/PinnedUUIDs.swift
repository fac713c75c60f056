import CheckCatalog
import Foundation
import Monitoring
import PingStore

/// `uuid:` pins against what a data directory (or database) has assigned (SPEC §13). A pin
/// gives a check that is new to the store the UUID it had elsewhere (Healthchecks), so its ping
/// URL keeps answering. What a pin cannot do yet is refused at its position, never ignored:
/// change the UUID of a check the store already knows under another one, take a UUID another
/// check holds, or bring back one a removed check left (retired UUIDs never answer again).
public enum PinnedUUIDs {
    public static func conflicts(_ catalog: Catalog, registry: Registry) -> [Diagnostic] {
        var holders: [UUID: CheckIdentity] = [:]
        for (identity, uuid) in registry.checks { holders[uuid] = identity }
        var diagnostics: [Diagnostic] = []
        for definition in catalog.checks {
            guard let pin = definition.pinnedUUID else { continue }
            let text = pin.uuidString.lowercased()
            if let assigned = registry.uuid(for: definition.id) {
                guard assigned != pin else { continue }
                diagnostics.append(Diagnostic(
                    .error, .invalidValue,
                    "check '\(definition.id)' pins the UUID \(text), but this store already gave it \(assigned.uuidString.lowercased()); changing the UUID of a known check is not supported",
                    at: definition.location,
                    notes: [Diagnostic.Note("remove 'uuid:' to keep \(assigned.uuidString.lowercased()), or give the check a new key (a new check)")]))
            } else if let holder = holders[pin] {
                diagnostics.append(Diagnostic(
                    .error, .invalidValue, "check '\(definition.id)' pins the UUID \(text), which check '\(holder)' has in this store",
                    at: definition.location, notes: [Diagnostic.Note("a UUID names one check; pin another, or remove 'uuid:'")]))
            } else if registry.isRetired(pin) {
                diagnostics.append(Diagnostic(
                    .error, .invalidValue, "check '\(definition.id)' pins the UUID \(text), which a removed check had in this store; removed UUIDs never answer again",
                    at: definition.location, notes: [Diagnostic.Note("pin another UUID, or remove 'uuid:'")]))
            }
        }
        return diagnostics
    }

    /// The pins of the catalog's checks.
    static func of(_ catalog: Catalog) -> [CheckIdentity: UUID] {
        var pins: [CheckIdentity: UUID] = [:]
        for definition in catalog.checks { if let pin = definition.pinnedUUID { pins[definition.id] = pin } }
        return pins
    }
}
