import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The persisted queue of alerts (SPEC §6): every alert is written (and fsynced) before it is
/// tried, every attempt is recorded, and what was pending at a stop is pending again at the next
/// start. Delivery is therefore at least once: a crash between a successful send and its record
/// sends the alert again.
///
/// The alerts of a flip are written by the ping store in the flip's own batch
/// (`alerts/queued.jsonl`, `PingStore.append(_:to:flip:alerts:)`), so no stored flip is without
/// its alerts and no alert goes out for a flip that was not stored. The outbox learns them twice
/// over, and keeps each once: in the running process from `accept` once the store acknowledged
/// them, and at open from the store's log (`queued`), for those a crash kept from `accept`. An
/// `ingested` line records up to which number the log is in the outbox; the store may drop the
/// lines up to `ingestedThrough()`.
///
/// Servers before issue 19 wrote a flip's alerts *held* here before storing the flip and then
/// confirmed or withdrew them; the next open still resolves what such a server left held by
/// asking whether the flip is stored (`flipStored`).
///
/// One file, `<data>/alerts/outbox.jsonl`, appended to; docs/alerts.md documents it. An actor:
/// writes are serialized without holding a lock across I/O. It runs on a queue of its own
/// (`OwnQueueExecutor`), not on the cooperative pool: its fsyncs block the thread they run on.
public actor Outbox {
    private nonisolated let executor = OwnQueueExecutor(label: "kiothc.alert-outbox")
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// What became of an alert after an attempt.
    public enum Disposition: Sendable, Hashable {
        case delivered
        case retry(at: Int64)
        case gaveUp
    }

    /// An alert with the tries made so far.
    public struct Entry: Sendable, Hashable {
        public var alert: Alert
        public var attempts: [Attempt]
        /// nil once delivered or given up.
        public var nextAttempt: Int64?
        public var gaveUp: Bool
        /// Written before its flip was stored; not sent until confirmed.
        public var held: Bool
        /// Finished unsent: its flip was not stored, or it was held back and then withdrawn
        /// (`settle`), for `withdrawnReason`.
        public var withdrawn: Bool
        /// Why a held-back alert was withdrawn; nil for others (and for `withdrawn` lines of
        /// servers before issue 23).
        public var withdrawnReason: String?
        /// A held alert (`alert.hold`) was released: due from then on, like any alert.
        public var released: Bool
        /// Its number in the store's queued alerts, when it came from there (in this process).
        public var queued: Int?
        public var delivered: Bool { attempts.last?.outcome == .delivered }
        /// Held back by maintenance or dependencies (SPEC §14) and not settled yet: due never.
        public var waitsForSettlement: Bool { alert.hold != nil && !released && !withdrawn }

        init(alert: Alert, held: Bool = false, queued: Int? = nil) {
            self.alert = alert
            attempts = []
            nextAttempt = alert.created
            gaveUp = false
            self.held = held
            withdrawn = false
            released = false
            self.queued = queued
        }
    }

    /// What the open took from the store's queued alerts.
    public struct Ingestion: Sendable, Equatable {
        /// Alerts new to the outbox, now pending.
        public var alerts = 0
        /// Records that are not an alert (damaged by hand): skipped, for the log.
        public var skipped = 0
        /// The log's numbers ended below what the outbox had ingested: it was deleted or
        /// restored from an older copy. Every alert in it the outbox did not know was taken, and
        /// the count starts again from the log's.
        public var logRestarted = false
    }

    /// Finished alerts leave the outbox for `history/` (OutboxCompaction) after this long at
    /// most; history months older than this are deleted.
    public static let retention: Int64 = 93 * 86_400 * 1_000_000

    public nonisolated let path: String
    public nonisolated let policy: RetryPolicy
    private var handle: FileHandle
    /// The outbox's size now and after its last compaction: it is compacted again once it
    /// passes the threshold and twice that size (so many pending alerts do not mean a
    /// compaction at every attempt).
    private var size = 0
    private var sizeAfterCompaction = 0
    private var pending: [UUID: Entry] = [:]
    /// Pending alert ids, oldest first: alerts of one check and channel go out in order. Ids of
    /// finished alerts stay in it (readers skip what `pending` no longer has) until enough have
    /// finished to drop them all in one pass: removing each as it finished scanned every
    /// pending alert, quadratic while a fleet's 100,000 alerts drained.
    private var order: [UUID] = []
    /// The finished alerts whose ids are still in `order`.
    private var finishedInOrder: Set<UUID> = []
    private var inFlight: Set<UUID> = []
    /// Lines skipped at open because they could not be read (a torn last line after a crash).
    public nonisolated let linesSkipped: Int
    public nonisolated let ingestion: Ingestion
    /// The store's queued alerts up to this number are pending here or finished, in memory
    /// (`ingested`), in the file (`ingestedWritten`) and on disk (`ingestedSynced`). Numbers
    /// accepted beyond a gap wait in `acceptedAhead`: the mark only moves over contiguous ones.
    private var ingested: Int
    private var ingestedWritten: Int
    private var ingestedSynced: Int
    private var acceptedAhead: Set<Int> = []
    /// A write of accepted alerts failed: the mark stops moving in this process, so the store
    /// keeps their lines and the next open takes them again.
    private var ingestionStalled = false

    /// Opens (creating) `<directory>/outbox.jsonl`, repairs a torn last line and reloads what
    /// was pending.
    ///
    /// `queued`: the store's queued alerts (`PingStore.queuedAlerts()`, numbers ascending, the
    /// log's last line included), read after the store's recovery. Those beyond the outbox's
    /// `ingested` mark that it does not know yet become pending, due at once, and the mark moves
    /// to the log's last number, fsynced. nil: the log is not looked at.
    ///
    /// Alerts held by a server before issue 19 (a crash came between writing them and storing
    /// their flip) are confirmed when `flipStored` says their flip is in the store, else
    /// withdrawn; without a `flipStored`, they are all confirmed (at least once).
    public init(
        directory: String, policy: RetryPolicy = .standard, now: Int64, queued: [(n: Int, record: [UInt8])]? = nil,
        flipStored: (Alert) -> Bool = { _ in true }
    ) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = directory + "/outbox.jsonl"
        self.policy = policy
        let created = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard created >= 0 else {
            // With the errno, so the start can say "no space left" rather than "unknown".
            let code = errno
            var info: [String: Any] = [NSFilePathErrorKey: path]
            if let posix = POSIXErrorCode(rawValue: code) { info[NSUnderlyingErrorKey] = POSIXError(posix) }
            throw CocoaError(.fileWriteUnknown, userInfo: info)
        }
        Glibc.close(created)
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        if let last = data.last, last != UInt8(ascii: "\n") {
            // A torn last line (crash mid-append): cut it so the next line starts clean.
            let keep = data.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
            data = data.prefix(keep)
            let truncating = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try truncating.truncate(atOffset: UInt64(keep))
            try truncating.synchronize()
            try truncating.close()
        }
        let (entries, skipped, mark) = Self.replay(data, policy: policy)
        linesSkipped = skipped
        var resolutions = Data()
        for var entry in entries where entry.nextAttempt != nil {
            if entry.held {
                let stored = flipStored(entry.alert)
                resolutions.append(try OutboxLine(stored ? .confirmed : .withdrawn, entry.alert.id, at: now).encoded())
                if !stored { continue }
                entry.held = false
            }
            pending[entry.alert.id] = entry
            order.append(entry.alert.id)
        }
        var ingestion = Ingestion()
        var through = mark
        if let queued {
            let last = queued.last?.n ?? 0
            ingestion.logRestarted = last < mark
            var known = Set(entries.map(\.alert.id))
            for item in queued where ingestion.logRestarted || item.n > mark {
                guard let alert = Alert(queueRecord: item.record) else {
                    ingestion.skipped += 1
                    continue
                }
                // Known: written by `accept` before a crash that came before its mark.
                guard known.insert(alert.id).inserted else { continue }
                resolutions.append(try OutboxLine(alert: alert).encoded())
                pending[alert.id] = Entry(alert: alert)
                order.append(alert.id)
                ingestion.alerts += 1
            }
            if last != mark {
                resolutions.append(try OutboxLine(ingestedThrough: last).encoded())
                through = last
            }
        }
        self.ingestion = ingestion
        ingested = through
        ingestedWritten = through
        ingestedSynced = through
        size = data.count
        if data.count > OutboxCompaction.threshold {
            let compaction = OutboxCompaction(directory: directory, now: now, retention: Self.retention)
            size = try compaction.run(data: data, pending: Set(entries.filter { $0.nextAttempt != nil }.map { $0.alert.id.uuidString.lowercased() }))
        }
        sizeAfterCompaction = size
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        if !resolutions.isEmpty {
            try handle.write(contentsOf: resolutions)
            try handle.synchronize()
            size += resolutions.count
        }
    }

    /// Every alert of the file with its attempts, oldest first (for tests and reports).
    public static func entries(directory: String, policy: RetryPolicy = .standard) throws -> [Entry] {
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/outbox.jsonl"))
        return replay(data, policy: policy).entries
    }

    /// The entries, the lines skipped, and the last `ingested` mark (0 without one).
    static func replay(_ data: Data, policy: RetryPolicy) -> (entries: [Entry], skipped: Int, ingested: Int) {
        var entries: [UUID: Entry] = [:]
        var order: [UUID] = []
        var skipped = 0
        var ingested = 0
        let decoder = JSONDecoder()
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            guard let record = try? decoder.decode(OutboxLine.self, from: Data(line)) else {
                skipped += 1
                continue
            }
            if record.type == .ingested {
                if let n = record.n, n >= 0 { ingested = n } else { skipped += 1 }
                continue
            }
            guard let id = record.id.flatMap(UUID.init(uuidString:)) else {
                skipped += 1
                continue
            }
            switch record.type {
            case .alert:
                guard let alert = record.alert else {
                    skipped += 1
                    continue
                }
                if entries[id] == nil { order.append(id) }
                entries[id] = Entry(alert: alert, held: record.held == true)
            case .attempt:
                guard let attempt = record.attempt, var entry = entries[id] else {
                    skipped += 1
                    continue
                }
                entry.attempts.append(attempt)
                // The time the line says (it was drawn with jitter); computed only for lines
                // that lack it (a failure written without one is followed by `gave_up`).
                entry.nextAttempt =
                    attempt.outcome == .delivered
                    ? nil : record.nextAttempt ?? policy.next(after: attempt, number: entry.attempts.count, of: entry.alert)
                entries[id] = entry
            case .gaveUp:
                entries[id]?.nextAttempt = nil
                entries[id]?.gaveUp = true
            case .confirmed:
                entries[id]?.held = false
            case .withdrawn:
                entries[id]?.held = false
                entries[id]?.nextAttempt = nil
                entries[id]?.withdrawn = true
                entries[id]?.withdrawnReason = record.reason
            case .released:
                guard var entry = entries[id], let time = record.time else {
                    skipped += 1
                    continue
                }
                entry.released = true
                if entry.attempts.isEmpty, entry.nextAttempt != nil { entry.nextAttempt = time }
                entries[id] = entry
            case .ingested:
                break
            }
        }
        return (order.compactMap { entries[$0] }, skipped, ingested)
    }

    /// Queues alerts durably (fsynced), due at once: test notifications. (The server's alerts
    /// come with their flips, through the store: `accept` and the queue taken at open.)
    public func enqueue(_ alerts: [Alert]) throws {
        guard !alerts.isEmpty else { return }
        var data = Data()
        for alert in alerts { data.append(try OutboxLine(alert: alert).encoded()) }
        try append(data, sync: true)
        for alert in alerts {
            pending[alert.id] = Entry(alert: alert)
            appendToOrder(alert.id)
        }
    }

    /// Adds a newly pending alert at the end of `order`, after dropping a finished copy of its
    /// id (one id is never listed twice).
    private func appendToOrder(_ id: UUID) {
        if finishedInOrder.contains(id) { dropFinishedFromOrder() }
        order.append(id)
    }

    /// Notes alerts that finished; their ids leave `order` in one pass once they are as many
    /// as the pending ones (and more than a few).
    private func finishedFromOrder(_ ids: some Sequence<UUID>) {
        finishedInOrder.formUnion(ids)
        if finishedInOrder.count > 64, finishedInOrder.count >= pending.count { dropFinishedFromOrder() }
    }

    private func dropFinishedFromOrder() {
        order.removeAll { finishedInOrder.contains($0) }
        finishedInOrder.removeAll(keepingCapacity: true)
    }

    /// Alerts the store acknowledged with their flip: `n` is the number it gave the last (the
    /// others come just before it, in order). They become pending, due at once, without reading
    /// the store's log. Written without an fsync: the store's log holds them until
    /// `ingestedThrough()` (which syncs) lets it drop them; a crash before that and the next
    /// open takes them from the log. Alerts already ingested (at open, or by an earlier call)
    /// are ignored. Calls may come out of order: each alert takes its place among the accepted
    /// ones by its number, and the mark moves only over contiguous numbers. Memory is updated
    /// even when the write fails (the error is for the log); the mark then stops moving until
    /// the next open.
    public func accept(_ alerts: [Alert], through n: Int) throws {
        guard !alerts.isEmpty, n >= alerts.count else { return }
        let first = n - alerts.count + 1
        var lines = Data()
        for (offset, alert) in alerts.enumerated() {
            let number = first + offset
            guard number > ingested, acceptedAhead.insert(number).inserted else { continue }
            guard pending[alert.id] == nil else { continue }
            if finishedInOrder.contains(alert.id) { dropFinishedFromOrder() }
            pending[alert.id] = Entry(alert: alert, queued: number)
            // After every pending alert numbered lower (finished ones are passed over).
            var index = order.endIndex
            while index > order.startIndex {
                if let before = pending[order[index - 1]] {
                    guard let queued = before.queued, queued > number else { break }
                }
                index -= 1
            }
            order.insert(alert.id, at: index)
            lines.append(try OutboxLine(alert: alert).encoded())
        }
        let before = ingested
        while acceptedAhead.remove(ingested + 1) != nil { ingested += 1 }
        if ingested != before && !ingestionStalled { lines.append(try OutboxLine(ingestedThrough: ingested).encoded()) }
        guard !lines.isEmpty else { return }
        do {
            try append(lines, sync: false)
            if !ingestionStalled { ingestedWritten = ingested }
        } catch {
            ingestionStalled = true
            throw error
        }
    }

    /// The store's queued alerts up to this number are durably in the outbox (fsynced here
    /// first when needed): `PingStore.trimQueuedAlerts(through:)` may drop them.
    public func ingestedThrough() throws -> Int {
        if ingestedSynced < ingestedWritten {
            let written = ingestedWritten
            try handle.synchronize()
            ingestedSynced = written
        }
        return ingestedSynced
    }

    /// Alerts to try now: due, not being tried, and the oldest pending of their check and
    /// channel (so an `up` never overtakes the `down` before it; a held one, due never until
    /// settled, blocks those behind it the same way). They are marked in flight until `record`
    /// is called for them.
    public func takeDue(at now: Int64) -> [Alert] {
        var blocked: Set<String> = []
        var due: [Alert] = []
        for id in order {
            guard let entry = pending[id] else { continue }
            // A test has no flip to keep in order with: it neither waits nor blocks.
            let key = "\(entry.alert.check)/\(entry.alert.project)/\(entry.alert.channel)"
            guard entry.alert.test || blocked.insert(key).inserted else { continue }
            if inFlight.contains(id) || entry.held || entry.waitsForSettlement { continue }
            if let next = entry.nextAttempt, next <= now {
                due.append(entry.alert)
                inFlight.insert(id)
            }
        }
        return due
    }

    /// Records an attempt (fsynced) and decides what comes next.
    @discardableResult
    public func record(_ attempt: Attempt, for id: UUID) throws -> Disposition {
        inFlight.remove(id)
        guard var entry = pending[id] else { return .gaveUp }
        entry.attempts.append(attempt)
        let next = policy.next(after: attempt, number: entry.attempts.count, of: entry.alert)
        var data = try OutboxLine(attempt: attempt, n: entry.attempts.count, of: id, nextAttempt: next).encoded()
        if attempt.outcome == .failed && next == nil { data.append(try OutboxLine(.gaveUp, id, at: attempt.time).encoded()) }
        try append(data, sync: true)
        entry.nextAttempt = next
        if next == nil {
            pending[id] = nil
            finishedFromOrder(CollectionOfOne(id))
            remember(entry)
            compactIfLarge(at: attempt.time)
            return attempt.outcome == .delivered ? .delivered : .gaveUp
        }
        pending[id] = entry
        return .retry(at: next ?? attempt.time)
    }

    /// Puts an alert taken by `takeDue` back without an attempt (delivery was cancelled).
    public func release(_ id: UUID) {
        inFlight.remove(id)
    }

    /// The earliest time `takeDue` will return an alert; nil when none will be until something
    /// changes (an attempt recorded, an alert queued or settled). Alerts behind another of their
    /// check and channel do not count: a held alert blocks them until it is settled, and the
    /// dispatcher must not wake up (or spin) for what it cannot send.
    public func nextDue() -> Int64? {
        var blocked: Set<String> = []
        var earliest: Int64?
        for id in order {
            guard let entry = pending[id] else { continue }
            let key = "\(entry.alert.check)/\(entry.alert.project)/\(entry.alert.channel)"
            guard entry.alert.test || blocked.insert(key).inserted else { continue }
            if inFlight.contains(id) || entry.held || entry.waitsForSettlement { continue }
            if let next = entry.nextAttempt { earliest = min(earliest ?? next, next) }
        }
        return earliest
    }

    /// Every pending alert of each check and channel that has a held alert pending, from its
    /// oldest held one on, oldest first; never tests (they are never held nor blocked).
    public func heldBack() -> [HeldBackAlert] {
        var blocked: Set<String> = []
        var found: [HeldBackAlert] = []
        for id in order {
            guard let entry = pending[id], !entry.alert.test else { continue }
            let key = "\(entry.alert.check)/\(entry.alert.project)/\(entry.alert.channel)"
            if entry.waitsForSettlement { blocked.insert(key) }
            if blocked.contains(key) { found.append(HeldBackAlert(alert: entry.alert, held: entry.waitsForSettlement)) }
        }
        return found
    }

    /// Settles held-back alerts (`AlertQueue.settle`) with one fsynced append: a `released` line
    /// for each held one sent, a `withdrawn` line with its reason for each one withdrawn. An
    /// alert no longer held back (as `heldBack` said before this call), being tried, or (for
    /// `.send`) no longer held is left as it is.
    public func settle(_ decisions: [UUID: Settlement], at now: Int64) throws -> Set<UUID> {
        let heldBack = Set(heldBack().map(\.alert.id))
        var lines = Data()
        var changed: [(UUID, Settlement)] = []
        for id in order {
            guard let decision = decisions[id], heldBack.contains(id), let entry = pending[id], !inFlight.contains(id) else { continue }
            switch decision {
            case .send:
                guard entry.waitsForSettlement else { continue }
                lines.append(try OutboxLine(.released, id, at: now).encoded())
            case .withdraw(let reason):
                lines.append(try OutboxLine(.withdrawn, id, at: now, reason: reason).encoded())
            }
            changed.append((id, decision))
        }
        guard !lines.isEmpty else { return [] }
        try append(lines, sync: true)
        for (id, decision) in changed {
            guard var entry = pending[id] else { continue }
            switch decision {
            case .send:
                entry.released = true
                if entry.attempts.isEmpty { entry.nextAttempt = now }
                pending[id] = entry
            case .withdraw(let reason):
                entry.withdrawn = true
                entry.withdrawnReason = reason
                entry.nextAttempt = nil
                pending[id] = nil
                remember(entry)
            }
        }
        let finished = Set(changed.compactMap { pending[$0.0] == nil ? $0.0 : nil })
        if !finished.isEmpty {
            finishedFromOrder(finished)
            compactIfLarge(at: now)
        }
        return Set(changed.map { $0.0 })
    }

    public var pendingEntries: [Entry] { order.compactMap { pending[$0] } }

    /// An alert pending, or finished in this process not long ago (the last `finishedKept`).
    public func entry(_ id: UUID) -> Entry? {
        pending[id] ?? finished.first { $0.alert.id == id }
    }

    private func remember(_ entry: Entry) {
        finished.append(entry)
        if finished.count > Self.finishedKept { finished.removeFirst(finished.count - Self.finishedKept) }
    }

    /// Finished alerts kept in memory: enough for a test notification's sender to see its
    /// outcome; the history is the files (`OutboxHistory`).
    static let finishedKept = 256
    private var finished: [Entry] = []

    public func close() throws {
        try handle.close()
    }

    /// A write that fails part-way (a full disk) leaves part of a line behind: it is cut off,
    /// else the next line would be glued to it and be skipped as unreadable at the next open
    /// (the full-disk test lost a confirmed alert that way). When even the cut fails, the next
    /// write starts on a new line, so only the broken part is lost.
    private func append(_ data: Data, sync: Bool) throws {
        let end = try handle.offset()
        do {
            try handle.write(contentsOf: tornLine ? Data([0x0A]) + data : data)
            let written = ingestedWritten
            if sync {
                try handle.synchronize()
                ingestedSynced = written
            }
            size = Int(end) + data.count + (tornLine ? 1 : 0)
            tornLine = false
        } catch {
            do {
                try handle.truncate(atOffset: end)
            } catch {
                tornLine = true
            }
            throw error
        }
    }

    /// Moves finished alerts to history once the file is large (see `size`). Best effort: after
    /// a failure (a full disk) the outbox keeps growing and the next finished alert tries again.
    private func compactIfLarge(at now: Int64) {
        guard size > max(OutboxCompaction.threshold, 2 * sizeAfterCompaction) else { return }
        let compaction = OutboxCompaction(directory: (path as NSString).deletingLastPathComponent, now: now, retention: Self.retention)
        let compacted = try? compaction.run(
            data: Data(contentsOf: URL(fileURLWithPath: path)), pending: Set(pending.keys.map { $0.uuidString.lowercased() }))
        // The rename may have happened even when a later step failed: write to whatever file
        // is at the path now.
        guard let fresh = try? FileHandle(forWritingTo: URL(fileURLWithPath: path)), let end = try? fresh.seekToEnd() else { return }
        try? handle.close()
        handle = fresh
        size = Int(end)
        sizeAfterCompaction = compacted ?? size
    }

    /// The last write failed and could not be cut off.
    private var tornLine = false
}
