import BlockingWork
import CheckCatalog
import Foundation
import Logging
import PingStore
import ServiceLifecycle

/// The reload service: takes requests from `ReloadQueue`, loads the configuration off the
/// cooperative pool (it reads files and may take half a second for 100,000 checks), applies
/// it through `CatalogApplier`, records the outcome in `CurrentReloadStatus` and tells
/// `CatalogChangeFeed` subscribers. One reload at a time, in order.
struct Reloader: Service {
    let queue: ReloadQueue
    let applier: CatalogApplier
    let configDirectory: String
    /// The files decoded by the last load (the start's, then each reload's): only files whose
    /// bytes changed are parsed again.
    let parsed: ParsedFiles
    /// Where `parsed` is kept for the next start (`ConfigCache`); nil with a shared store.
    let cache: DataDirectory?
    let status: CurrentReloadStatus
    let feed: CatalogChangeFeed
    let logger: Logger
    /// File events within this window after the first become one reload (an editor's save
    /// is a write, a rename and a chmod).
    let debounce: Duration
    let clock: @Sendable () -> Int64

    func run() async throws {
        var applier = applier
        var loggedRejection: UInt64?
        await withGracefulShutdownHandler {
            for await _ in queue.wakeups {
                var pending = queue.take()
                if pending.triggers.isEmpty { continue }
                if !pending.triggers.contains(where: \.isExplicit) {
                    try? await Task.sleep(for: debounce)
                    let more = queue.take()
                    pending.triggers.formUnion(more.triggers)
                    pending.waiters += more.waiters
                }
                let explicit = pending.triggers.contains(where: \.isExplicit)
                let lastAttempted = status.snapshot.attemptedHash
                let started = ContinuousClock.now
                let (result, warnings, commit) = await Self.reload(
                    &applier, directory: configDirectory, parsed: parsed, skipIfUnchanged: explicit ? nil : lastAttempted, now: clock())
                let took = ContinuousClock.now - started
                record(result, warnings: warnings, commit: commit, triggers: pending.triggers, took: took, loggedRejection: &loggedRejection)
                for waiter in pending.waiters { waiter.resume(returning: result) }
                if case .applied(_, _, let checks) = result {
                    HeapTrim.afterLoad(checks: checks)
                    if let cache { ConfigCache.save(parsed, checks: checks, to: cache, after: applier.snapshots, logger: logger) }
                }
            }
        } onGracefulShutdown: {
            queue.close()
        }
        feed.finish()
    }

    /// Loads (reading and parsing the files on a thread of their own: half a second for
    /// 100,000 checks) and applies; with the git commit the directory was at (read first).
    static func reload(
        _ applier: inout CatalogApplier, directory: String, parsed: ParsedFiles, skipIfUnchanged lastAttempted: UInt64?, now: Int64
    ) async -> (ReloadResult, LoadResult?, GitRevision?) {
        let (loading, commit) = await blocking(named: "kiothc-reload") { () -> (Loaded, GitRevision?) in
            // Read before the files: a checkout that moves on meanwhile is loaded the next time.
            let commit = GitRevision.of(directory)
            return (Self.load(directory: directory, parsed: parsed, skipIfUnchanged: lastAttempted), commit)
        }
        let fingerprint: ConfigFingerprint
        let loaded: LoadResult
        switch loading {
        case .unchanged(let hash): return (.unchanged(hash: hash), nil, commit)
        case .failed(let message): return (.failed(message), nil, commit)
        case .loaded(let print, let result): (fingerprint, loaded) = (print, result)
        }
        do {
            switch try await applier.apply(loaded, now: now) {
            case .applied(let update, _):
                return (.applied(update.change, hash: fingerprint.hash, checks: update.serving.count), loaded, commit)
            case .rejected(let result):
                return (.rejected(diagnosticsJSON: DiagnosticReport(result, strict: false).render(.json), hash: fingerprint.hash), result, commit)
            }
        } catch {
            return (.failed(error.message), nil, commit)
        }
    }

    enum Loaded: Sendable {
        case unchanged(UInt64)
        case loaded(ConfigFingerprint, LoadResult)
        case failed(String)
    }

    private static func load(directory: String, parsed: ParsedFiles, skipIfUnchanged lastAttempted: UInt64?) -> Loaded {
        do throws(ConfigDirectoryError) {
            let fingerprint = try ConfigFingerprint.compute(directory: directory)
            if let lastAttempted, fingerprint.hash == lastAttempted { return .unchanged(fingerprint.hash) }
            return .loaded(fingerprint, try ConfigLoader.load(directory: directory, reusing: parsed))
        } catch {
            return .failed(error.message)
        }
    }

    private func record(
        _ result: ReloadResult, warnings: LoadResult?, commit: GitRevision?, triggers: Set<ReloadTrigger>, took: Duration,
        loggedRejection: inout UInt64?
    ) {
        let now = clock()
        let metadata: Logger.Metadata = [
            "trigger": "\(triggers.sorted().map(\.rawValue).joined(separator: ","))",
            "took_ms": "\(took.components.seconds * 1000 + took.components.attoseconds / 1_000_000_000_000_000)",
        ]
        switch result {
        case .unchanged:
            // The same files at another commit (one that changed nothing under the directory).
            if status.snapshot.lastSucceeded { status.update { $0.servingCommit = commit } }
            logger.debug("configuration unchanged; nothing to reload", metadata: metadata)
        case .applied(let change, let hash, let checks):
            let diagnostics = warnings?.diagnostics ?? []
            let previous = status.snapshot
            status.update {
                $0.lastAttempt = now
                $0.lastSucceeded = true
                $0.lastSuccess = now
                $0.servingHash = hash
                $0.attemptedHash = hash
                $0.diagnostics = diagnostics
                $0.failure = nil
                $0.servingCommit = commit
            }
            loggedRejection = nil
            if hash != previous.servingHash {
                for diagnostic in diagnostics { logger.warning("\(diagnostic.message)", metadata: Self.metadata(diagnostic)) }
            }
            var summary = metadata
            summary["config.hash"] = "\(ConfigFingerprint.hex(hash))"
            if let commit { summary["config.commit"] = "\(commit.commit)" }
            logger.notice(
                "configuration reloaded: \(checks) checks; \(change.added.count) added, \(change.removed.count) removed, \(change.renamed.count) renamed, \(change.changed.count) settings changed\(commit.map { "; git commit \($0.short)\($0.branch.map { " (\($0))" } ?? "")" } ?? "")",
                metadata: summary)
            if let serving = currentUpdate(change) { feed.publish(serving) }
        case .rejected(_, let hash):
            let diagnostics = warnings?.diagnostics ?? []
            status.update {
                $0.lastAttempt = now
                $0.lastSucceeded = false
                $0.attemptedHash = hash
                $0.diagnostics = diagnostics
                $0.failure = nil
            }
            guard loggedRejection != hash else {
                logger.debug("the configuration is still invalid; the previous one keeps serving", metadata: metadata)
                return
            }
            loggedRejection = hash
            var summary = metadata
            summary["config.hash"] = "\(ConfigFingerprint.hex(hash))"
            let errors = diagnostics.count { $0.severity == .error }
            logger.error(
                "configuration rejected (\(errors) error\(errors == 1 ? "" : "s")); the previous configuration keeps serving. Fix the files, or run 'kiothc check --config \(configDirectory)'",
                metadata: summary)
            for diagnostic in diagnostics {
                let text = "\(DiagnosticReport.position(diagnostic.location)): \(diagnostic.severity.rawValue): \(diagnostic.message) [\(diagnostic.code.rawValue)]"
                if diagnostic.severity == .error { logger.error("\(text)") } else { logger.warning("\(text)") }
            }
        case .failed(let message):
            status.update {
                $0.lastAttempt = now
                $0.lastSucceeded = false
                $0.failure = message
            }
            logger.error("reload failed; the previous configuration keeps serving: \(message)", metadata: metadata)
        }
    }

    private func currentUpdate(_ change: CatalogChange) -> CatalogUpdate? {
        CatalogUpdate(change: change, serving: applier.current.snapshot)
    }

    static func metadata(_ diagnostic: Diagnostic) -> Logger.Metadata {
        ["config.file": "\(diagnostic.location.file):\(diagnostic.location.line)", "code": "\(diagnostic.code.rawValue)"]
    }
}

/// ServiceLifecycle names every service with `"\(service)"` when the group is configured; without
/// a description of its own that reflects the whole applier (registry and applied catalog of
/// every check): a fifth of the start-up CPU time and a dump of the catalog kept in memory for the
/// life of the process (10,000 checks; scripts/bench/run.sh, BENCHMARKS.md).
extension Reloader: CustomStringConvertible {
    var description: String { "Reloader" }
}
