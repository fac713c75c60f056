import CheckCatalog
import Foundation
import Monitoring
import PingStore

/// `uuid:` pins against what a data directory (or database) has assigned (SPEC §13). A pin
/// gives a check that is new to the store the UUID it had elsewhere (Healthchecks), so its ping
/// URL keeps answering; a check the store knows under another UUID takes the pinned one (its
/// old UUID is retired, its pings kept). What a pin cannot do is refused at its position, never
/// ignored: take a UUID another check holds, or bring back one a removed check left (retired
/// UUIDs never answer again).
public enum PinnedUUIDs {
    public static func conflicts(_ catalog: Catalog, registry: Registry) -> [Diagnostic] {
        // (The index of every UUID the store holds only when some check pins one.)
        guard catalog.checks.contains(where: { $0.pinnedUUID != nil }) else { return [] }
        var holders: [UUID: CheckIdentity] = [:]
        for (identity, uuid) in registry.checks { holders[uuid] = identity }
        var diagnostics: [Diagnostic] = []
        for definition in catalog.checks {
            guard let pin = definition.pinnedUUID else { continue }
            let text = pin.uuidString.lowercased()
            // A known check pinning another UUID takes it (`CatalogChange.repinned`).
            if registry.uuid(for: definition.id) == pin { continue }
            if let holder = holders[pin] {
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
        // (Read in place: binding each definition would copy, and retain, all of it.)
        for index in catalog.checks.indices { if let pin = catalog.checks[index].pinnedUUID { pins[catalog.checks[index].id] = pin } }
        return pins
    }
}
