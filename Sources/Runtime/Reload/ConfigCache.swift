import BlockingWork
import CheckCatalog
import Foundation
import Logging
import PingStore

/// `config-cache` in the data directory: the config files as the server last decoded them
/// (`ParsedFiles.persisted`), so a restart on unchanged files reads their checks back rather
/// than parse a fleet's YAML again (SPEC §9: a million checks ready in 5 s). Written after
/// the start and each reload that parsed a file of checks, behind the start's snapshot.
enum ConfigCache {
    /// This binary: its version and commit, and the size and time of its executable file (a
    /// development build has no commit, and each build may decode differently).
    static let build: String = {
        var status = stat()
        let executable = stat("/proc/self/exe", &status) == 0 ? " \(status.st_size) \(status.st_mtim.tv_sec).\(status.st_mtim.tv_nsec)" : ""
        return BuildInfo.line + executable
    }()

    /// The files `data` holds decoded, to load the configuration with; empty (every file is
    /// parsed) when there is no cache or it cannot be used, which is logged.
    static func restore(from data: DataDirectory, logger: Logger) -> ParsedFiles {
        let bytes: [UInt8]
        do {
            guard let read = try data.readConfigCache() else { return ParsedFiles() }
            bytes = read
        } catch {
            logger.notice("not using the config cache; every config file is parsed: \(error)")
            return ParsedFiles()
        }
        switch ParsedFiles.restoring(bytes, build: build) {
        case .restored(let parsed):
            return parsed
        case .ignored(let reason):
            logger.info("not using the config cache \(data.configCache): \(reason); every config file is parsed, and the cache written again")
            return ParsedFiles()
        }
    }

    /// Writes `parsed` to `data` once the writes before it are done, if it holds files of
    /// checks the cache does not (off the cooperative pool: a million checks are 70 MB, whose
    /// buffers are then handed back to the OS as a load's are).
    static func save(_ parsed: ParsedFiles, checks: Int, to data: DataDirectory, after writes: SnapshotWriter, logger: Logger) {
        guard parsed.hasChanged else { return }
        writes.enqueue(failure: "cannot write the config cache \(data.configCache); the next start parses every config file", logger: logger) {
            try await blocking(named: "kiothc-cfgcache") { Result { try data.writeConfigCache(parsed.persisted(build: build)) } }.get()
            HeapTrim.afterLoad(checks: checks)
        }
    }
}
