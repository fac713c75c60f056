import Foundation
import Monitoring
import Runtime

/// Times on the pages (issue 26): relative ("3 min ago", "in 2 h") with the absolute time in
/// the viewer's zone in the `<time>` element's title and `datetime`, the time zone selector of
/// the header, and a running job's "started …, down at … if not finished".
extension DashboardPages {
    /// What the header's time zone selector offers and where it returns.
    struct ZoneChoice {
        let zone: ViewerZone
        /// The zones the fleet's checks are scheduled in (`OverviewIndex.zones(of:)`).
        let fleet: [String]
        /// The check's own zone, on a check page.
        let own: String?
        /// The page's path and query: the selector comes back to it.
        let back: String
    }

    /// A time relative to now, the absolute time in the viewer's zone in its title (and in
    /// UTC, machine-readable, in `datetime`).
    static func time(_ micros: Int64?, now: Int64, zone: ViewerZone = .utc, none: String = "never") -> String {
        guard let micros else { return "<span class=\"muted\">\(HTML.escape(none))</span>" }
        return "<time datetime=\"\(UTCTime.seconds(micros))\" title=\"\(HTML.escape(zone.readable(micros)))\">\(HTML.escape(TimeText.relative(micros, now: now)))</time>"
    }

    /// As `time`, with the absolute time written out too (the check page's facts).
    static func fullTime(_ micros: Int64?, now: Int64, zone: ViewerZone = .utc, none: String = "never") -> String {
        guard let micros else { return time(nil, now: now, zone: zone, none: none) }
        return "\(time(micros, now: now, zone: zone)) <span class=\"muted\">\(HTML.escape(zone.readable(micros)))</span>"
    }

    /// For a running job (a start not yet closed): "started 4 min ago, down at 10:40 if not
    /// finished" (the run's deadline: its start plus grace, SPEC §3); nil when none runs. A
    /// check paused in its configuration does not go down, so it says only when it started.
    static func running(_ view: CheckView, now: Int64, zone: ViewerZone = .utc) -> String? {
        guard let run = view.state.run else { return nil }
        let started = "started \(time(run.start, now: now, zone: zone))"
        guard !view.definition.paused else { return started }
        let (grace, overflow) = Int64(view.definition.grace).multipliedReportingOverflow(by: 1_000_000)
        let (down, late) = run.start.addingReportingOverflow(grace)
        guard !overflow, !late else { return started }
        let at = "<time datetime=\"\(UTCTime.seconds(down))\" title=\"\(HTML.escape(zone.readable(down)))\">\(HTML.escape(zone.clock(down, now: now)))</time>"
        return down > now ? "\(started), down at \(at) if not finished" : "\(started), not finished: down since \(at)"
    }

    /// The header's selector: a GET form to `/timezone` (no script needed) offering UTC, the
    /// check's own zone, the fleet's zones, and a field for any IANA name.
    static func zoneSelector(_ choice: ZoneChoice) -> String {
        let e = HTML.escape
        var names = ["UTC"]
        if let own = choice.own, !names.contains(own) { names.append(own) }
        if !names.contains(choice.zone.name) { names.append(choice.zone.name) }
        for name in choice.fleet where !names.contains(name) { names.append(name) }
        let options = names.map { name in
            let label = name == choice.own ? "\(name) (this check's)" : name
            return "<option value=\"\(e(name))\"\(name == choice.zone.name ? " selected" : "")>\(e(label))</option>"
        }.joined()
        return """
            <form class="tz" method="get" action="/timezone">\
            <label for="tz-choice">Times in</label> <select id="tz-choice" name="tz">\(options)</select> \
            <label for="tz-other">or</label> <input type="text" id="tz-other" name="other" size="14" maxlength="\(ViewerZone.nameLimit)" \
            placeholder="IANA name, e.g. Asia/Tokyo" autocomplete="off">\
            <input type="hidden" name="next" value="\(e(choice.back))"> <button type="submit">Show</button></form>
            """
    }

    /// The note for a time zone cookie that was ignored.
    static func zoneNote(_ zone: ViewerZone) -> String {
        guard let note = zone.note else { return "" }
        return "<ul class=\"notes\" role=\"status\" id=\"tz-note\"><li>\(HTML.escape(note))</li></ul>\n"
    }
}
