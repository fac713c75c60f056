import Logging
import PostgresNIO

/// The database's tables, versioned (docs/storage.md). `migrate` brings a database to
/// `Schema.version` at start, each step in a transaction, under an advisory lock so that
/// instances starting together take turns; a database newer than this binary is refused.
enum Schema {
    /// `pg_advisory_lock` key: "kiothc" as a number, so other applications' keys do not collide.
    static let lockKey: Int64 = 0x6B69_6F74_6863

    /// Step `i` takes the schema from version `i` to `i + 1`.
    static let steps: [[String]] = [
        [
            """
            CREATE TABLE kiothc_checks (
                uuid uuid PRIMARY KEY,
                project text NOT NULL,
                key text NOT NULL,
                created_us bigint NOT NULL,
                retired_us bigint,
                status text NOT NULL DEFAULT 'new',
                n_pings bigint NOT NULL DEFAULT 0,
                n_flips bigint NOT NULL DEFAULT 0,
                last_ping_us bigint,
                last_received_us bigint,
                last_received_kind text,
                run_start_us bigint,
                run_rid uuid,
                last_duration_us bigint,
                recent_starts text NOT NULL DEFAULT '[]',
                version bigint NOT NULL DEFAULT 0
            )
            """,
            "CREATE UNIQUE INDEX kiothc_checks_live_identity ON kiothc_checks (project, key) WHERE retired_us IS NULL",
            """
            CREATE TABLE kiothc_pings (
                check_uuid uuid NOT NULL REFERENCES kiothc_checks (uuid),
                n bigint NOT NULL,
                time_us bigint NOT NULL,
                kind text NOT NULL,
                method text NOT NULL,
                scheme text NOT NULL,
                remote_addr text NOT NULL,
                user_agent text NOT NULL,
                body bytea,
                body_size integer NOT NULL,
                exit_status integer,
                rid uuid,
                duration_us bigint,
                PRIMARY KEY (check_uuid, n)
            )
            """,
            """
            CREATE TABLE kiothc_flips (
                check_uuid uuid NOT NULL REFERENCES kiothc_checks (uuid),
                n bigint NOT NULL,
                time_us bigint NOT NULL,
                old text NOT NULL,
                new text NOT NULL,
                reason text NOT NULL,
                PRIMARY KEY (check_uuid, n)
            )
            """,
            """
            CREATE TABLE kiothc_alerts (
                id uuid PRIMARY KEY,
                seq bigserial NOT NULL UNIQUE,
                check_uuid uuid NOT NULL,
                project text NOT NULL,
                channel text NOT NULL,
                record text NOT NULL,
                created_us bigint NOT NULL,
                next_attempt_us bigint,
                claimed_until_us bigint,
                attempts text NOT NULL DEFAULT '[]',
                outcome text
            )
            """,
            "CREATE INDEX kiothc_alerts_pending ON kiothc_alerts (next_attempt_us) WHERE next_attempt_us IS NOT NULL",
            "CREATE TABLE kiothc_ping_keys (project text PRIMARY KEY, key text NOT NULL UNIQUE)",
            "CREATE TABLE kiothc_settings (name text PRIMARY KEY, value text NOT NULL)",
        ],
        // Issue 21: test notifications (tried once, outside the per-channel order) and a
        // check's alerts read back for the API and the dashboard.
        [
            "ALTER TABLE kiothc_alerts ADD COLUMN test boolean NOT NULL DEFAULT false",
            "CREATE INDEX kiothc_alerts_check ON kiothc_alerts (check_uuid, seq)",
        ],
        // Issue 23: flips marked by maintenance and dependencies; alerts held back until the
        // runtime settles them (due never meanwhile: `next_attempt_us` is the largest bigint),
        // found by their own index; the reason a withdrawn one was not sent.
        [
            "ALTER TABLE kiothc_flips ADD COLUMN maintenance boolean NOT NULL DEFAULT false",
            "ALTER TABLE kiothc_flips ADD COLUMN suppressed_by text[] NOT NULL DEFAULT '{}'",
            "ALTER TABLE kiothc_alerts ADD COLUMN held boolean NOT NULL DEFAULT false",
            "ALTER TABLE kiothc_alerts ADD COLUMN withdrawn_reason text",
            "CREATE INDEX kiothc_alerts_held ON kiothc_alerts (check_uuid, project, channel, seq) WHERE held",
        ],
    ]

    static var version: Int { steps.count }

    struct TooNew: Error, CustomStringConvertible {
        let found: Int
        var description: String {
            "the database's schema is version \(found), newer than this kiothc knows (\(Schema.version)); run the newer kiothc, or a database of its own"
        }
    }

    /// Creates or migrates the schema; returns the versions it went from and to.
    static func migrate(_ connection: PostgresConnection, logger: Logger) async throws -> (from: Int, to: Int) {
        try await connection.query("SELECT pg_advisory_lock(\(lockKey))", logger: logger)
        do {
            try await connection.query("CREATE TABLE IF NOT EXISTS kiothc_schema (version integer NOT NULL)", logger: logger)
            var found = 0
            for try await (version) in try await connection.query("SELECT version FROM kiothc_schema", logger: logger).decode(Int.self) {
                found = max(found, version)
            }
            guard found <= version else { throw TooNew(found: found) }
            for step in found..<version {
                try await connection.query("BEGIN", logger: logger)
                do {
                    for statement in steps[step] {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await connection.query("DELETE FROM kiothc_schema", logger: logger)
                    let next = step + 1
                    try await connection.query("INSERT INTO kiothc_schema (version) VALUES (\(next))", logger: logger)
                    try await connection.query("COMMIT", logger: logger)
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
            try await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
            return (found, version)
        } catch {
            _ = try? await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
            throw error
        }
    }
}
