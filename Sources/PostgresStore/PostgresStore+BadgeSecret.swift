import PostgresNIO

extension PostgresStore {
    /// The badge secret all instances share (`kiothc_settings.badge_secret`): the stored one,
    /// or `generated` stored (unless another instance stored one first).
    public func badgeSecret(generated: String) async throws -> String {
        try await read("read the badge secret") { connection in
            try await connection.query(
                "INSERT INTO kiothc_settings (name, value) VALUES ('badge_secret', \(generated)) ON CONFLICT (name) DO NOTHING", logger: self.logger)
            for try await (stored) in try await connection.query("SELECT value FROM kiothc_settings WHERE name = 'badge_secret'", logger: self.logger)
                .decode(String.self)
            {
                return stored
            }
            throw DatabaseError(operation: "store the badge secret", message: "it was not stored")
        }
    }
}
