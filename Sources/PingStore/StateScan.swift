import Dispatch
import Foundation
import Monitoring
import Synchronization

/// Rebuilds every check's `CheckState` from the files at startup (SPEC §4), reading each
/// file backwards only as far as needed: usually one or two lines per check.
///
/// What the files cannot say exactly: starts of concurrent runs (other rids) further back than
/// the lines read are not remembered, so a success closing one of those after a restart gets no
/// duration. The open run, last ping, counts and status are exact.
struct StateScan {
    let store: StoreReader

    /// Lines read per check at least, so a recent concurrent start is usually remembered;
    /// more would cost every heartbeat check a longer read for a rare case.
    static let minimumLines = 2
    private static let pingFields: Set<String> = ["n", "time_us", "kind", "rid", "duration_us"]

    func run() throws -> [UUID: CheckState] {
        let checks = Array(try store.storedChecks())
        // Two threads: the scan is CPU-bound on parsing once files are cached.
        let workers = min(max(1, ProcessInfo.processInfo.activeProcessorCount), 4, max(1, checks.count))
        let results = Mutex<[UUID: CheckState]>([:])
        let failure = Mutex<(any Error)?>(nil)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var local: [UUID: CheckState] = [:]
            var index = worker
            while index < checks.count {
                do {
                    local[checks[index]] = try state(of: checks[index])
                } catch {
                    failure.withLock { $0 = $0 ?? error }
                    return
                }
                index += workers
            }
            results.withLock { $0.merge(local) { first, _ in first } }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        return results.withLock { $0 }
    }

    func state(of check: UUID) throws -> CheckState {
        var state = CheckState()
        var newest: Int64?
        var runDecided = false
        /// A fail, or a success without rid, closes any earlier run.
        var closedByAny = false
        /// Rids of successes and fails seen (newer than what is being read).
        var closedRids: Set<UUID?> = []
        var seenStartRids: Set<UUID?> = []
        var lines = 0

        try store.readBackwards(store.data.pingFile(check)) { line, path in
            let fields = try Self.fields(line, path: path)
            guard case .integer(let n) = fields["n"], case .integer(let time) = fields["time_us"],
                case .string(let kindName) = fields["kind"], let kind = Ping.Kind(rawValue: kindName)
            else {
                throw StoreError(.corrupt, operation: "scan", path: path, detail: "a line lacks n, time_us or kind")
            }
            var rid: UUID?
            if case .string(let text) = fields["rid"] { rid = UUID(uuidString: text) }
            lines += 1
            if newest == nil {
                newest = time
                state.nPings = Int(n)
                state.lastReceived = time
                state.lastReceivedKind = kind
            }
            let withinWindow = (newest ?? time) - time <= CheckState.pairingWindow
            switch kind {
            case .success, .fail:
                if state.lastPing == nil {
                    state.lastPing = time
                    if case .integer(let duration) = fields["duration_us"] { state.lastDuration = duration }
                    state.status = kind == .fail ? .down : .up
                }
                if kind == .fail || rid == nil { closedByAny = true }
                closedRids.insert(rid)
            case .start:
                if !runDecided {
                    runDecided = true
                    if !closedByAny && !closedRids.contains(rid) { state.run = CheckState.OpenRun(start: time, rid: rid) }
                }
                if withinWindow, !closedRids.contains(rid), !seenStartRids.contains(rid),
                    state.recentStarts.count < CheckState.rememberedStarts
                {
                    state.recentStarts.insert(CheckState.OpenRun(start: time, rid: rid), at: 0)
                }
                seenStartRids.insert(rid)
            case .log, .ign:
                break
            }
            if closedByAny { runDecided = true }
            let done = state.lastPing != nil && runDecided && (lines >= Self.minimumLines || !withinWindow)
            return !done
        }
        try applyFlips(of: check, to: &state)
        return state
    }

    private static func fields(_ line: ArraySlice<UInt8>, path: String) throws -> [String: FlatJSONValue] {
        do {
            return try FlatJSON.parse(line, keeping: pingFields)
        } catch {
            throw StoreError(.corrupt, operation: "scan", path: path, detail: "\(error.reason) at byte \(error.offset)")
        }
    }

    /// The newest flip decides the status unless a ping came after it; pause and resume clear
    /// what they cleared when they happened.
    private func applyFlips(of check: UUID, to state: inout CheckState) throws {
        var latest: StoredFlip?
        var latestPauseOrResume: StoredFlip?
        var latestResume: StoredFlip?
        var read = 0
        try store.readBackwards(store.data.flipFile(check)) { line, path in
            let stored = try store.decodeFlip(line, path: path)
            read += 1
            if latest == nil { latest = stored }
            switch stored.flip.reason {
            case .pause, .resume:
                if latestPauseOrResume == nil { latestPauseOrResume = stored }
                if stored.flip.reason == .resume && latestResume == nil { latestResume = stored }
            default: break
            }
            return latestResume == nil && read < FlipRetention.newest
        }
        if let latest, latest.flip.time >= (state.lastPing ?? Int64.min) {
            state.status = latest.flip.new
        }
        if let cut = latestPauseOrResume?.flip.time {
            if let run = state.run, run.start <= cut { state.run = nil }
            state.recentStarts.removeAll { $0.start <= cut }
        }
        if let resumed = latestResume?.flip.time, let last = state.lastPing, last <= resumed {
            state.lastPing = nil
        }
    }
}

extension PingStore {
    /// Every stored check's state, rebuilt from its files (startup). Blocking.
    public func loadStates() throws -> [UUID: CheckState] {
        try reader.loadStates()
    }
}

extension StoreReader {
    /// Every stored check's state, rebuilt from its files without writing anything. Blocking.
    public func loadStates() throws -> [UUID: CheckState] {
        try StateScan(store: self).run()
    }

    /// One check's state, rebuilt from its files.
    public func loadState(of check: UUID) throws -> CheckState {
        try StateScan(store: self).state(of: check)
    }
}
