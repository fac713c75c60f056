import Foundation
import Logging
import PostgresStore

/// The database the read-only commands (`kiothc status`, `pings`, `plan` with `--store
/// postgres://…`) read: opened without creating or migrating anything, as application
/// `kiothc-cli` (servers are `kiothc`), its failures said for a person.
public enum ReportDatabase {
    /// The application name of the connections of commands that only read.
    public static let applicationName = "kiothc-cli"

    public static func open(_ location: PostgresLocation) async throws(StatusReport.Failure) -> PostgresStore {
        var location = location
        if location.applicationName == "kiothc" { location.applicationName = applicationName }
        do {
            return try await PostgresStore.openExisting(location, logger: quietLogger)
        } catch {
            throw StatusReport.Failure(message: "\(error)", report: nil)
        }
    }

    /// postgres-nio's own logs stay out of a command's output: its errors come back as errors.
    public static var quietLogger: Logger {
        Logger(label: "kiothc", factory: { _ in SwiftLogNoOpLogHandler() })
    }
}
