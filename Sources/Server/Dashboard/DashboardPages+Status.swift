import CheckCatalog
import Foundation
import Monitoring
import Runtime

/// A project's public status page (`status_page: true`): its checks' names and statuses,
/// problems first, and nothing else (no slug, key, UUID, URL, ping, body or time of a ping).
extension DashboardPages {
    /// Checks listed on one page; the rest are counted (a page for people, not a fleet dump).
    static let statusPageLimit = 1_000

    struct StatusLine {
        let name: String
        let status: CheckView.Status
    }

    /// `lines` in catalog order; shown problems first (as the overview's default order).
    static func statusPage(projectName: String, lines: [StatusLine], now: Int64) -> String {
        let e = HTML.escape
        var counts: [CheckView.Status: Int] = [:]
        for line in lines { counts[line.status, default: 0] += 1 }
        let ordered = Overview.statusOrder.flatMap { status in lines.filter { $0.status == status } }
        var rows = ""
        for line in ordered.prefix(statusPageLimit) {
            rows += "<tr class=\"check\" data-status=\"\(line.status.rawValue)\"><td>\(e(line.name))</td><td><span class=\"status status-\(line.status.rawValue)\">\(line.status.rawValue)</span></td></tr>\n"
        }
        let problems = (counts[.down] ?? 0) + (counts[.grace] ?? 0)
        let summary: String
        if lines.isEmpty {
            summary = "This project has no checks."
        } else if problems == 0 {
            summary = "No problems: none of the \(lines.count) check\(lines.count == 1 ? " is" : "s is") down or late."
        } else {
            summary = "\(counts[.down] ?? 0) down and \(counts[.grace] ?? 0) late of \(lines.count) check\(lines.count == 1 ? "" : "s")."
        }
        let more = lines.count > statusPageLimit ? "<p class=\"muted\">\(lines.count - statusPageLimit) more checks, after these, are not listed.</p>" : ""
        let countText = Overview.statusOrder.map { "<span class=\"count status-\($0.rawValue)\" data-status=\"\($0.rawValue)\">\(counts[$0] ?? 0) \($0.rawValue)</span>" }.joined(separator: " ")
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="robots" content="noindex">
            <title>\(e(projectName)) status</title>
            <link rel="stylesheet" href="/static/dashboard.css">
            <noscript><meta http-equiv="refresh" content="30"></noscript>
            <script src="/static/dashboard.js" defer></script>
            </head>
            <body class="status-page">
            <main data-refresh>
            <h1>\(e(projectName)) status</h1>
            <p class="summary\(problems > 0 ? " has-problems" : "")" role="status">\(e(summary))</p>
            <p class="counts">\(countText)</p>
            <div class="table-wrap"><table class="status-list"><caption>Checks of \(e(projectName)), problems first</caption>
            <thead><tr><th scope="col">Check</th><th scope="col">Status</th></tr></thead>
            <tbody>
            \(rows)</tbody></table></div>
            \(more)
            <p class="muted">Updated <time datetime="\(UTCTime.seconds(now))">\(e(UTCTime.readable(now)))</time>; this page refreshes itself.</p>
            </main>
            </body>
            </html>

            """
    }

    /// Any key that is not a status page's: the same answer whatever the key, so it says
    /// nothing about which projects exist or have a page.
    static func noStatusPage() -> String {
        """
        <!doctype html>
        <html lang="en">
        <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">\
        <title>Not found</title><link rel="stylesheet" href="/static/dashboard.css"></head>
        <body class="status-page"><main><h1>Not found</h1><p>There is no status page at this address.</p></main></body>
        </html>

        """
    }
}
