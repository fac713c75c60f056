import Foundation

/// Converts between UTC instants and wall-clock times of one zone with exactly the semantics of
/// Python's `zoneinfo` (PEP 495), which the reference libraries rely on:
///
/// - wall → UTC with `fold = 0` uses the offset in force *before* the nearby transition, `fold = 1`
///   the offset *after* it — in a fold (repeated hour) and in a gap (skipped hour) alike;
/// - UTC → wall sets `fold = 1` only for the second occurrence of a repeated wall time.
///
/// Offsets come from Foundation's `TimeZone` (ICU, tz data 2025b on this Linux, the same release
/// as the system's /usr/share/zoneinfo that `zoneinfo` reads; the differential tests check it).
/// Assumption, true of every zone since 1970: no two offset changes within 48 hours.
/// A value type with a small memo; each evaluation owns one, so it needs no locking.
struct ZoneClock {
    let zone: TimeZone
    /// The offset is known to be constant over `stable` (UTC seconds).
    private var stable: (range: ClosedRange<Int64>, offset: Int)?
    private static let window: Int64 = 86_400

    init(zone: TimeZone) {
        self.zone = zone
    }

    /// UTC offset in seconds at the UTC instant `utc`.
    mutating func offset(atUTC utc: Int64) -> Int {
        if let stable, stable.range.contains(utc) { return stable.offset }
        return zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(utc)))
    }

    /// Offsets a day before and a day after the wall time `wall` (read as UTC): equal when no
    /// transition is near; otherwise the offsets before and after that one transition.
    private mutating func offsets(nearWall wall: Int64) -> (before: Int, after: Int) {
        let low = wall - ZoneClock.window
        let high = wall + ZoneClock.window
        if let stable, stable.range.contains(low), stable.range.contains(high) {
            return (stable.offset, stable.offset)
        }
        let before = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(low)))
        let after = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(high)))
        if before == after {
            if let stable, stable.offset == before, stable.range.overlaps(low...high) {
                self.stable = (min(stable.range.lowerBound, low)...max(stable.range.upperBound, high), before)
            } else {
                stable = (low...high, before)
            }
        }
        return (before, after)
    }

    /// The UTC instant of wall time `wall` with PEP 495 `fold` (0 or 1), as `zoneinfo` computes it
    /// (imaginary wall times in a gap map to an instant too, as Python does).
    mutating func utc(fromWall wall: Int64, fold: Int) -> Int64 {
        let (before, after) = offsets(nearWall: wall)
        if before == after { return wall - Int64(before) }
        // zoneinfo: the wall time is "before the transition" iff wall < T + max(before, after)
        // for fold 0, or wall < T + min(before, after) for fold 1; T is the transition instant.
        let shift = fold == 0 ? max(before, after) : min(before, after)
        let probe = wall - Int64(shift)
        let used = offset(atUTC: probe) == before ? before : after
        return wall - Int64(used)
    }

    /// The wall time and fold of the UTC instant `utc`, as `datetime.astimezone(zone)` gives them.
    mutating func wall(fromUTC utc: Int64) -> (wall: Int64, fold: Int) {
        let own = offset(atUTC: utc)
        let wall = utc + Int64(own)
        let (before, after) = offsets(nearWall: wall)
        if before > after, own == after, offset(atUTC: wall - Int64(before)) == before {
            return (wall, 1)
        }
        return (wall, 0)
    }

    /// True if this wall time is skipped by a transition (`cronsim.is_imaginary` with fold 0).
    mutating func isImaginary(wall: Int64) -> Bool {
        let utc = utc(fromWall: wall, fold: 0)
        return self.wall(fromUTC: utc).wall != wall
    }
}
