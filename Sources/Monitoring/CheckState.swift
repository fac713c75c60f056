import Foundation

/// What pings (and pause, resume, timeouts) have made of one check: Healthchecks' `status`,
/// `n_pings`, `last_ping`, `last_start`, `last_start_rid` and `last_duration` columns.
///
/// Transitions are pure functions of `(state, input, now)` (SPEC §3); the caller owns the clock
/// and the lock. Times are microseconds since the Unix epoch.
public struct CheckState: Sendable, Hashable {
    /// The stored status. `grace` is not here: it is computed from `lastPing` and the schedule.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        case new, up, down, paused
    }

    /// A run opened by `start` and not yet closed (Healthchecks' `last_start` + rid).
    public struct OpenRun: Sendable, Hashable {
        public var start: Int64
        public var rid: UUID?
        public init(start: Int64, rid: UUID?) {
            self.start = start
            self.rid = rid
        }
    }

    /// Starts and the success or fail that closes them are paired within this window, as
    /// Healthchecks' `MAX_DURATION`.
    public static let pairingWindow: Int64 = 72 * 3_600 * 1_000_000
    /// Concurrent runs (distinct rids) remembered for durations. Healthchecks looks back
    /// through every ping of 72 h; we keep the newest few, bounding memory per idle check.
    public static let rememberedStarts = 8

    public var status: Status
    /// Pings recorded, of every kind; also the `n` of the newest ping.
    public var nPings: Int
    /// Time of the last success or fail: deadlines count from it (Healthchecks' `last_ping`).
    public var lastPing: Int64?
    /// Time and kind of the newest ping of any kind (for display).
    public var lastReceived: Int64?
    public var lastReceivedKind: Ping.Kind?
    public var run: OpenRun?
    /// Duration of the last success or fail, when it closed a start.
    public var lastDuration: Int64?
    /// Recent unclosed starts by rid, oldest first, for per-ping durations.
    public var recentStarts: [OpenRun]

    public init(
        status: Status = .new, nPings: Int = 0, lastPing: Int64? = nil, lastReceived: Int64? = nil,
        lastReceivedKind: Ping.Kind? = nil, run: OpenRun? = nil, lastDuration: Int64? = nil,
        recentStarts: [OpenRun] = []
    ) {
        self.status = status
        self.nPings = nPings
        self.lastPing = lastPing
        self.lastReceived = lastReceived
        self.lastReceivedKind = lastReceivedKind
        self.run = run
        self.lastDuration = lastDuration
        self.recentStarts = recentStarts
    }

    /// A never-pinged check.
    public static let new = CheckState()

    /// Whether a run is open (the `started` flag of SPEC §3).
    public var started: Bool { run != nil }

    /// The result of one ping: the next state, the ping to store (numbered, with its
    /// duration) and the flip it caused, if any.
    public struct PingOutcome: Sendable, Hashable {
        public var state: CheckState
        public var ping: Ping
        public var flip: Flip?
    }

    /// Apply a ping received at `now`, as Healthchecks' `Check.ping` and `Ping.duration`.
    ///
    /// - `postOnly`: the check's `methods: POST`; other methods are recorded as `ign`.
    /// - `manualResume`: a paused check with `manual_resume` records every ping as `ign`.
    ///
    /// Rules: `start` opens a run remembering its rid; a success or fail closes it when the rid
    /// matches (nil matches nil), and so do a fail with any rid and a success with no rid (which
    /// then records no duration); a success with another rid leaves it open. A success or fail
    /// gets a duration when a start with the same rid, not closed since, lies within 72 h.
    /// Fail → down; success → up (also from paused); `log` and `ign` change nothing but
    /// are counted.
    public func applying(
        _ received: ReceivedPing, at now: Int64, postOnly: Bool = false, manualResume: Bool = false
    ) -> PingOutcome {
        var kind = received.requestedKind
        if postOnly && received.method != "POST" { kind = .ign }
        if status == .paused && manualResume { kind = .ign }

        var next = self
        next.nPings += 1
        next.lastReceived = now
        next.lastReceivedKind = kind
        var duration: Int64?
        var flip: Flip?

        switch kind {
        case .start:
            next.run = OpenRun(start: now, rid: received.rid)
            next.rememberStart(OpenRun(start: now, rid: received.rid))
        case .log, .ign:
            break
        case .success, .fail:
            duration = next.takeStart(rid: received.rid, now: now)
            next.lastPing = now
            next.lastDuration = duration
            if let run = next.run, run.rid == received.rid || kind == .fail || received.rid == nil {
                next.run = nil
            }
            let newStatus: Status = kind == .fail ? .down : .up
            if next.status != newStatus {
                flip = Flip(time: now, old: next.status, new: newStatus, reason: kind == .fail ? .fail : .ping)
                next.status = newStatus
            }
        }

        let ping = Ping(
            n: next.nPings, time: now, kind: kind, method: received.method, scheme: received.scheme,
            remoteAddress: received.remoteAddress, userAgent: received.userAgent, body: received.body,
            bodySize: received.bodySize, exitStatus: received.exitStatus, rid: received.rid,
            duration: duration)
        return PingOutcome(state: next, ping: ping, flip: flip)
    }

    /// Pause (API or CLI), as Healthchecks: the run is cleared; pausing a paused check is a
    /// no-op (nil).
    public func pausing(at now: Int64) -> (state: CheckState, flip: Flip)? {
        guard status != .paused else { return nil }
        var next = self
        next.status = .paused
        next.run = nil
        next.recentStarts = []
        return (next, Flip(time: now, old: status, new: .paused, reason: .pause))
    }

    /// Resume, as Healthchecks: back to `new`, forgetting the last ping and the run; only a
    /// paused check can be resumed (nil otherwise: the API answers 409).
    public func resuming(at now: Int64) -> (state: CheckState, flip: Flip)? {
        guard status == .paused else { return nil }
        var next = self
        next.status = .new
        next.run = nil
        next.lastPing = nil
        next.recentStarts = []
        return (next, Flip(time: now, old: .paused, new: .new, reason: .resume))
    }

    /// The deadline passed (late beyond grace, or a run outlived its grace): `up → down`, or
    /// `new → down` / `paused → down` for a never-pinged or paused check whose run outlived its
    /// grace (as Healthchecks, whose `going_down_after` counts the run of a new or paused
    /// check), timestamped at the deadline. A paused check with no run never goes down this
    /// way; a down check already is.
    public func goingDown(at deadline: Int64) -> (state: CheckState, flip: Flip)? {
        guard status == .up || ((status == .new || status == .paused) && run != nil) else { return nil }
        var next = self
        next.status = .down
        return (next, Flip(time: deadline, old: status, new: .down, reason: .timeout))
    }

    private mutating func rememberStart(_ start: OpenRun) {
        recentStarts.removeAll { $0.rid == start.rid }
        recentStarts.append(start)
        if recentStarts.count > Self.rememberedStarts {
            recentStarts.removeFirst(recentStarts.count - Self.rememberedStarts)
        }
    }

    /// The newest start with this rid closes here whatever its age; it yields a duration only
    /// within the pairing window.
    private mutating func takeStart(rid: UUID?, now: Int64) -> Int64? {
        recentStarts.removeAll { now - $0.start > Self.pairingWindow }
        guard let index = recentStarts.lastIndex(where: { $0.rid == rid }) else { return nil }
        let start = recentStarts.remove(at: index)
        return max(0, now - start.start)  // a clock stepped back yields 0, not a negative run
    }
}

extension CheckState {
    /// The state after a ping someone else already applied and numbered (a store that keeps
    /// the state itself records what it is given this way): counters, the last ping, the run,
    /// and the status of `flip` when one came with it. Replays what `applying` decided; it
    /// decides nothing.
    public func recording(_ ping: Ping, flip: Flip?) -> CheckState {
        var next = self
        next.nPings = max(next.nPings, ping.n)
        next.lastReceived = ping.time
        next.lastReceivedKind = ping.kind
        switch ping.kind {
        case .start:
            next.run = OpenRun(start: ping.time, rid: ping.rid)
            next.rememberStart(OpenRun(start: ping.time, rid: ping.rid))
        case .log, .ign:
            break
        case .success, .fail:
            _ = next.takeStart(rid: ping.rid, now: ping.time)
            next.lastPing = ping.time
            next.lastDuration = ping.duration
            if let run = next.run, run.rid == ping.rid || ping.kind == .fail || ping.rid == nil { next.run = nil }
        }
        if let flip { next = next.recording(flip) }
        return next
    }

    /// The state after a flip someone else decided: its new status (a pause or resume also
    /// clears the run, as `pausing` and `resuming` do).
    public func recording(_ flip: Flip) -> CheckState {
        var next = self
        next.status = flip.new
        if flip.reason == .pause || flip.reason == .resume {
            next.run = nil
            next.recentStarts = []
        }
        if flip.reason == .resume { next.lastPing = nil }
        return next
    }
}
