import ArgumentParser
import Foundation
import Logging
import Runtime

/// `kiothc store`: moving a store between a data directory and PostgreSQL (SPEC §11).
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Move a store between a data directory and a PostgreSQL database.",
        subcommands: [StoreCopyCommand.self]
    )
}

struct StoreCopyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy a data directory into a PostgreSQL database, or a database into a data directory, and verify the copy.",
        discussion: """
            Copies everything a server needs: the UUID registry (live and retired checks), the \
            generated ping keys, the configuration last applied, every check's pings (all kept, \
            with their numbers) and flips, so its state (pause included), and the alerts not \
            finished yet (due at once in the target; their earlier attempts are not copied). \
            Into PostgreSQL it writes in one transaction: a failed copy leaves the database as it \
            was. Into a directory it writes through the store's own files, so a server started \
            on it (kiothc serve --data DIR) finds everything.

            Then both sides are read again and compared: per check the number of pings and \
            flips and a SHA-256 checksum over them, its status and ping count, and the \
            registry, keys, configuration and pending alerts. A table shows each check; any \
            difference is named on stderr with its check, and the exit status is 1.

            The target must be empty: a directory that does not exist or is empty, or a \
            database without kiothc data (its schema is created when missing). Stop the \
            servers first: a data directory is copied under its serve.lock (refused while a \
            server holds it, and recovered as a server start would: its journal replayed); a \
            database with kiothc servers connected (application_name kiothc) is refused, \
            naming their connections.

            Exit status: 0 copied and verified; 1 refused, failed, or the verification found a \
            difference; 64 usage.

            Examples:
              kiothc store copy --from /var/lib/kiothc --to postgres://kiothc@db.example.com/kiothc
              kiothc store copy --from postgres://kiothc@/kiothc?host=/run/postgresql --to /srv/kiothc
            """
    )

    @Option(name: .long, help: ArgumentHelp("The store to copy: a data directory, or a postgres:// URL.", valueName: "dir|url"))
    var from: String

    @Option(name: .long, help: ArgumentHelp("Where to copy it: a new or empty data directory, or a postgres:// URL of a database without kiothc data.", valueName: "dir|url"))
    var to: String

    func validate() throws {
        let source: StoreCopy.Endpoint
        let target: StoreCopy.Endpoint
        do {
            source = try StoreCopy.Endpoint(from)
            target = try StoreCopy.Endpoint(to)
        } catch {
            throw ValidationError(error.description)
        }
        switch (source, target) {
        case (.directory, .database), (.database, .directory): break
        default: throw ValidationError("--from and --to must be a data directory and a postgres:// URL (either way round)")
        }
    }

    func run() async throws {
        let source = try StoreCopy.Endpoint(from)
        let target = try StoreCopy.Endpoint(to)
        let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
        let verification: Verification
        do throws(StoreCopy.Failure) {
            verification = try await StoreCopy.run(from: source, to: target, now: now, logger: ReportDatabase.quietLogger)
        } catch {
            Terminal.error(error.description)
            throw ExitCode.failure
        }
        Terminal.write(verification.table())
        guard verification.matches else {
            for mismatch in verification.mismatches { Terminal.error("verification: \(mismatch)") }
            Terminal.error("the copy from \(source) to \(target) does not match its source (see above); do not use it")
            throw ExitCode.failure
        }
        Terminal.note("copied \(source) to \(target) and verified it: \(verification.rows.count) checks match")
    }
}
