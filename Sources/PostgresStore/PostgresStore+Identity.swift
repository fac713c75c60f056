import Foundation
import Monitoring
import PingStore
import PostgresNIO

/// Identity in the database: `kiothc_checks` is the UUID registry (a live row per
/// project/key, retired rows kept so their UUIDs never come back), `kiothc_ping_keys` the
/// generated ping keys, `kiothc_settings` the last applied catalog and the admin token.
/// Instances applying configurations at the same time agree: the first assignment wins
/// (`INSERT … ON CONFLICT DO NOTHING`, then read back), and every one adopts it.
extension PostgresStore {
    public func loadRegistry() async throws -> Registry {
        try await read("read the check registry") { connection in
            let rows = try await connection.query("SELECT uuid, project, key, retired_us FROM kiothc_checks", logger: self.logger)
            var checks: [CheckIdentity: UUID] = [:]
            var retired: [Registry.Retired] = []
            for try await (uuid, project, key, retiredAt) in rows.decode((UUID, String, String, Int64?).self) {
                let identity = CheckIdentity(project: project, key: key)
                if let retiredAt {
                    retired.append(Registry.Retired(uuid: uuid, identity: identity, time: retiredAt))
                } else {
                    checks[identity] = uuid
                }
            }
            return Registry(checks: checks, retired: retired.sorted { $0.time < $1.time })
        }
    }

    /// UUIDs for identities the registry does not know: proposed here, inserted unless another
    /// instance inserted first, and the ones that hold adopted into `registry`.
    public func assign(
        _ identities: [CheckIdentity], pinned: [CheckIdentity: UUID] = [:], in registry: inout Registry, at now: Int64
    ) async throws -> AssignedUUIDs {
        let fresh = identities.filter { registry.uuid(for: $0) == nil }
        var proposed = registry
        let assigned = try proposed.assign(identities, pinned: pinned)
        guard !fresh.isEmpty else { return AssignedUUIDs(byIdentity: assigned) }
        let uuids = fresh.map { assigned[$0]! }
        let projects = fresh.map(\.project)
        let keys = fresh.map(\.key)
        let held = try await read("record the UUIDs of \(fresh.count) new checks") { connection in
            try await connection.query(
                """
                INSERT INTO kiothc_checks (uuid, project, key, created_us)
                SELECT u, p, k, \(now) FROM unnest(\(uuids)::uuid[], \(projects)::text[], \(keys)::text[]) AS t(u, p, k)
                ON CONFLICT (project, key) WHERE retired_us IS NULL DO NOTHING
                """, logger: self.logger)
            let rows = try await connection.query(
                """
                SELECT c.uuid, c.project, c.key FROM kiothc_checks c
                JOIN unnest(\(projects)::text[], \(keys)::text[]) AS t(p, k) ON c.project = t.p AND c.key = t.k
                WHERE c.retired_us IS NULL
                """, logger: self.logger)
            var held: [CheckIdentity: UUID] = [:]
            for try await (uuid, project, key) in rows.decode((UUID, String, String).self) {
                held[CheckIdentity(project: project, key: key)] = uuid
            }
            // The other instances learn the new checks at once: one still on an older
            // configuration answers their pings 503 (try again) rather than 404.
            let items = held.values.map { "\($0.lowercasedText):0" }
            for chunk in stride(from: 0, to: items.count, by: BatchWrite.notifyChunk) {
                let payload = ([self.instance] + items[chunk..<min(items.count, chunk + BatchWrite.notifyChunk)]).joined(separator: " ")
                try await connection.query("SELECT pg_notify(\(BatchWrite.channel), \(payload))", logger: self.logger)
            }
            return held
        }
        guard held.count == fresh.count else {
            throw DatabaseError(operation: "record the UUIDs of new checks", message: "\(fresh.count - held.count) of them were not stored")
        }
        proposed.adopt(held)
        registry = proposed
        return AssignedUUIDs(byIdentity: assigned.merging(held) { $1 })
    }

    /// Retires identities (their checks left the configuration): their rows stay, marked, so
    /// their UUIDs never answer again and they send no more alerts.
    public func retire(_ identities: [CheckIdentity], in registry: inout Registry, at now: Int64) async throws {
        var next = registry
        let retired = try next.retire(identities, at: now)
        guard !retired.isEmpty else { return }
        let uuids = Array(retired.values)
        try await read("retire \(uuids.count) removed checks") { connection in
            try await connection.query(
                // A new version: an instance still deciding from the live row must read it again
                // (and learn that the check alerts no more).
                """
                WITH r AS (
                    UPDATE kiothc_checks SET retired_us = \(now), version = version + 1 WHERE uuid = ANY(\(uuids)) AND retired_us IS NULL
                    RETURNING uuid, version)
                SELECT pg_notify(\(BatchWrite.channel), \(self.instance) || ' ' || string_agg(r.uuid::text || ':' || r.version, ' ')) FROM r
                HAVING count(*) > 0
                """,
                logger: self.logger)
        }
        registry = next
    }

    public func loadPingKeys() async throws -> PingKeys {
        try await read("read the generated ping keys") { connection in
            var keys: [String: String] = [:]
            for try await (project, key) in try await connection.query("SELECT project, key FROM kiothc_ping_keys", logger: self.logger).decode(
                (String, String).self)
            {
                keys[project] = key
            }
            return PingKeys(keys: keys)
        }
    }

    /// The project's generated ping key: the one stored, or one generated, stored (unless
    /// another instance stored one first) and adopted.
    public func pingKey(for project: String, avoiding taken: Set<String>, in keys: inout PingKeys) async throws -> String {
        if let known = keys.keys[project] { return known }
        var proposed = keys
        let key = try proposed.key(for: project, avoiding: taken)
        let held = try await read("record the generated ping key of project '\(project)'") { connection in
            try await connection.query(
                "INSERT INTO kiothc_ping_keys (project, key) VALUES (\(project), \(key)) ON CONFLICT (project) DO NOTHING", logger: self.logger)
            for try await (stored) in try await connection.query("SELECT key FROM kiothc_ping_keys WHERE project = \(project)", logger: self.logger)
                .decode(String.self)
            {
                return stored
            }
            throw DatabaseError(operation: "record a generated ping key", message: "the key of project '\(project)' was not stored")
        }
        proposed.adopt(held, for: project)
        keys = proposed
        return held
    }

    public func loadAppliedCatalog() async throws -> AppliedCatalog? {
        guard let text = try await setting("applied_catalog") else { return nil }
        return try AppliedCatalog.decode(Array(text.utf8), source: "\(location) (kiothc_settings.applied_catalog)")
    }

    public func save(_ applied: AppliedCatalog) async throws {
        try await setSetting("applied_catalog", String(decoding: applied.encoded(), as: UTF8.self))
    }

    /// The admin token all instances share: the stored one, or `generated` stored (unless
    /// another instance stored one first).
    public func adminToken(generated: String) async throws -> (token: String, generated: Bool) {
        try await read("read the admin token") { connection in
            try await connection.query(
                "INSERT INTO kiothc_settings (name, value) VALUES ('admin_token', \(generated)) ON CONFLICT (name) DO NOTHING", logger: self.logger)
            for try await (stored) in try await connection.query("SELECT value FROM kiothc_settings WHERE name = 'admin_token'", logger: self.logger)
                .decode(String.self)
            {
                return (stored, stored == generated)
            }
            throw DatabaseError(operation: "store the admin token", message: "it was not stored")
        }
    }

    func setting(_ name: String) async throws -> String? {
        try await read("read setting \(name)") { connection in
            for try await (value) in try await connection.query("SELECT value FROM kiothc_settings WHERE name = \(name)", logger: self.logger).decode(
                String.self)
            {
                return value
            }
            return nil
        }
    }

    func setSetting(_ name: String, _ value: String) async throws {
        try await read("write setting \(name)") { connection in
            try await connection.query(
                "INSERT INTO kiothc_settings (name, value) VALUES (\(name), \(value)) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                logger: self.logger)
        }
    }
}
