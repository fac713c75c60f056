import Foundation
import Logging
import PostgresNIO

/// Opening a database for commands that only read it (`kiothc status`, `pings`, `plan`, and the
/// source of `kiothc store copy`): nothing is created or migrated. A database without the
/// schema, or with one of another version, is refused with what to do.
extension PostgresStore {
    /// The database has no kiothc schema, or one this kiothc cannot read without migrating.
    public struct SchemaMismatch: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Connects to a database whose schema is exactly this kiothc's; creates and migrates
    /// nothing (`open` would).
    public static func openExisting(_ location: PostgresLocation, logger: Logger) async throws -> PostgresStore {
        guard let found = try await schemaVersion(location, logger: logger) else {
            throw SchemaMismatch(
                description: "no kiothc schema in database '\(location.database)' (\(location)): start `kiothc serve --store …` on it once, "
                    + "or copy a data directory into it (kiothc store copy); is the URL right?")
        }
        guard found == Schema.version else {
            if found > Schema.version { throw SchemaMismatch(description: "\(location): \(Schema.TooNew(found: found))") }
            throw SchemaMismatch(
                description: "the schema of \(location) is version \(found), older than this kiothc's (\(Schema.version)): "
                    + "start `kiothc serve --store …` of this version once to migrate it (this command changes nothing)")
        }
        // The schema is current: `open` finds nothing to migrate.
        return try await open(location, keepPings: 1, logger: logger)
    }

    /// The version of the kiothc schema in the database, nil when it has none. Reads only.
    public static func schemaVersion(_ location: PostgresLocation, logger: Logger) async throws -> Int? {
        do {
            _ = try location.connectionConfiguration(nameSuffix: "")
        } catch {
            throw DatabaseError(operation: "connect to \(location)", message: "the TLS settings cannot be used: \(error)")
        }
        do {
            return try await onConnectionOfItsOwn(location, "connect to \(location)", logger: logger) { connection in
                var exists = false
                for try await (value) in try await connection.query("SELECT to_regclass('kiothc_schema') IS NOT NULL", logger: logger).decode(Bool.self) {
                    exists = value
                }
                guard exists else { return nil }
                var version: Int?
                for try await (value) in try await connection.query("SELECT max(version) FROM kiothc_schema", logger: logger).decode(Int?.self) {
                    version = value
                }
                return version
            }
        } catch let error as PSQLError where error.code == .connectionError {
            // Never connected: "lost" (DatabaseError's word for a dropped connection) would mislead.
            throw DatabaseError(
                operation: "connect to \(location)",
                message: "the database cannot be reached (\(error.underlying.map { "\($0)" } ?? "no connection")); is PostgreSQL running there, and the URL right?")
        } catch {
            throw DatabaseError("connect to \(location)", error)
        }
    }
}
