import Foundation
import Monitoring
import Runtime

/// The check page's sense of history (issue 26): a strip of the last pings coloured by kind, a
/// chart of run durations (inline SVG drawn on the server), and ping URLs with a copy button.
extension DashboardPages {
    /// One mark per ping, oldest first (`pings` comes newest first), each coloured by its kind
    /// and labelled in words for screen readers and as a tooltip; each links to its row.
    static func strip(_ pings: [Ping], now: Int64, zone: ViewerZone = .utc) -> String {
        guard !pings.isEmpty else { return "" }
        let e = HTML.escape
        let marks = pings.reversed().map { ping in
            let label = "#\(ping.n) \(PingText.kind(of: ping)), \(TimeText.relative(ping.time, now: now)) (\(zone.readable(ping.time)))"
                + (ping.duration.map { ", took \(PingText.duration(micros: $0))" } ?? "")
            return "<li><a class=\"mark kind-\(ping.kind.rawValue)\" href=\"#ping-\(ping.n)\" title=\"\(e(label))\"><span class=\"visually-hidden\">\(e(label))</span></a></li>"
        }.joined()
        return """
            <h3 id="strip-title">The last \(pings.count) ping\(pings.count == 1 ? "" : "s"), oldest first</h3>
            <ol class="strip" aria-labelledby="strip-title">\(marks)</ol>
            <p class="legend muted" aria-hidden="true"><span class="mark kind-success"></span> success <span class="mark kind-fail"></span> fail \
            <span class="mark kind-start"></span> start <span class="mark kind-log"></span> log <span class="mark kind-ign"></span> ignored</p>
            """
    }

    /// A bar per measured run (a success or fail that closed a start), oldest first, heights in
    /// proportion to the longest; each bar has its ping and duration as its SVG title, and the
    /// chart a description with the shortest, median and longest.
    static func durationChart(_ pings: [Ping]) -> String {
        let runs = pings.reversed().compactMap { ping in ping.duration.map { (ping, max(0, $0)) } }
        guard !runs.isEmpty else { return "<p class=\"muted\" id=\"durations\">No run durations yet: a start followed by a success or fail measures one.</p>" }
        let e = HTML.escape
        let longest = max(runs.map(\.1).max() ?? 1, 1)
        let sorted = runs.map(\.1).sorted()
        let width = 600
        let height = 120
        let top = 14
        let step = Double(width) / Double(max(runs.count, 30))  // a few runs stay slim bars
        let barWidth = max(1.0, step * 0.8)
        var bars = ""
        for (index, (ping, duration)) in runs.enumerated() {
            let barHeight = max(1.0, Double(height - top) * Double(duration) / Double(longest))
            let x = Double(index) * step + (step - barWidth) / 2
            let y = Double(height) - barHeight
            bars += """
                <rect class="bar kind-\(ping.kind.rawValue)" x="\(Self.svgNumber(x))" y="\(Self.svgNumber(y))" width="\(Self.svgNumber(barWidth))" height="\(Self.svgNumber(barHeight))">\
                <title>#\(ping.n) \(e(PingText.kind(of: ping))): \(e(PingText.duration(micros: duration)))</title></rect>
                """
        }
        let summary = "\(runs.count) run\(runs.count == 1 ? "" : "s"), oldest first: shortest \(PingText.duration(micros: sorted[0])), "
            + "median \(PingText.duration(micros: sorted[sorted.count / 2])), longest \(PingText.duration(micros: longest))"
        return """
            <figure class="durations" id="durations">
            <svg viewBox="0 0 \(width) \(height)" preserveAspectRatio="none" role="img" aria-labelledby="durations-title durations-desc" class="chart">\
            <title id="durations-title">Run durations</title><desc id="durations-desc">\(e(summary))</desc>\
            <line class="axis" x1="0" y1="\(top)" x2="\(width)" y2="\(top)"></line>\
            \(bars)</svg>
            <figcaption>Run durations: \(e(summary)). The top line is \(e(PingText.duration(micros: longest))).</figcaption>
            </figure>
            """
    }

    /// "12.5", "3": at most one decimal, for SVG attributes.
    private static func svgNumber(_ value: Double) -> String {
        let tenths = (value * 10).rounded()
        return tenths.truncatingRemainder(dividingBy: 10) == 0 ? String(Int(tenths / 10)) : String(tenths / 10)
    }

    /// The ping URLs as selectable text, each with a "Copy" button that the script shows (it
    /// stays hidden without JavaScript, where the text is selected by hand).
    static func copyableURLs(_ urls: [String]) -> String {
        guard !urls.isEmpty else { return "<span class=\"muted\">none</span>" }
        let e = HTML.escape
        return urls.enumerated().map { index, url in
            "<span class=\"copyable\"><code class=\"url\" id=\"ping-url-\(index + 1)\">\(e(url))</code> "
                + "<button type=\"button\" class=\"copy\" data-copy=\"ping-url-\(index + 1)\" aria-label=\"Copy ping URL \(index + 1)\" hidden>Copy</button></span>"
        }.joined(separator: "<br>")
    }
}
