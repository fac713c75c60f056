import Foundation
import Monitoring
import Runtime

/// The dashboard's pages as HTML strings. Every value that is not a literal of this file goes
/// through `HTML.escape`.
enum DashboardPages {
    /// - Parameters:
    ///   - before: what comes between the header and `<main>`, which live refresh leaves alone
    ///     (the overview's filter form).
    ///   - chrome: the header bar (and `before`); without it the page is only its content (wall mode).
    ///   - zone: the viewer's time zone and the header's selector for it (pages that show times).
    static func layout(
        title: String, banner: String, loggedIn: Bool, before: String = "", chrome: Bool = true, body: String, refresh: Bool = false, zone: ZoneChoice? = nil
    ) -> String {
        let e = HTML.escape
        let logout = loggedIn ? "<form method=\"post\" action=\"/logout\"><button type=\"submit\">Log out</button></form>" : ""
        let tools = zone.map { "<div class=\"tools\">\(zoneSelector($0))\(logout)</div>" } ?? logout
        let top = chrome ? "<header><a href=\"/\">KiotHealthChecks</a>\(tools)</header>\n\(zone.map { zoneNote($0.zone) } ?? "")\(before)" : ""
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(e(title)) · KiotHealthChecks</title>
            <link rel="stylesheet" href="/static/dashboard.css">
            \(refresh ? "<noscript><meta http-equiv=\"refresh\" content=\"30\"></noscript>\n<script src=\"/static/dashboard.js\" defer></script>" : "")
            </head>
            <body\(chrome ? "" : " class=\"wall\"")>
            \(banner)\(top)<main\(refresh ? " data-refresh" : "")>
            \(body)
            </main>
            </body>
            </html>

            """
    }

    /// The failed-reload banner (SPEC §5): what was rejected, while the old config serves.
    static func banner(_ status: ReloadStatus) -> String {
        guard !status.lastSucceeded else { return "" }
        let errors = status.diagnostics.filter { $0.severity == .error }
        var lines = errors.prefix(10).map { diagnostic in
            "\(diagnostic.location.file):\(diagnostic.location.line):\(diagnostic.location.column): \(diagnostic.message)"
        }
        if errors.count > 10 { lines.append("… and \(errors.count - 10) more") }
        if let failure = status.failure { lines.append(failure) }
        return """
            <div class="banner" id="reload-banner" role="alert"><strong>The last configuration reload failed</strong> \
            (\(HTML.escape(UTCTime.readable(status.lastAttempt)))); the previous configuration keeps serving.\
            <pre>\(HTML.escape(lines.joined(separator: "\n")))</pre></div>

            """
    }

    static func login(error: String?) -> String {
        layout(
            title: "Log in", banner: "", loggedIn: false,
            body: """
                <form class="login" method="post" action="/login">
                <h1>Log in</h1>
                \(error.map { "<p class=\"error\">\(HTML.escape($0))</p>" } ?? "")
                <label for="key">Project API key (read-only or read-write) or admin token</label>
                <input type="password" id="key" name="key" autocomplete="current-password" required autofocus>
                <button type="submit">Log in</button>
                <p class="muted">Project keys are the <code>api_keys</code> of <code>projects:</code> in the configuration; \
                the admin token is in the data directory's <code>admin-token</code> file.</p>
                </form>
                """)
    }

    static func message(_ title: String, _ text: String, banner: String) -> String {
        layout(title: title, banner: banner, loggedIn: true, body: "<h1>\(HTML.escape(title))</h1><p>\(HTML.escape(text))</p><p><a href=\"/\">All checks</a></p>")
    }

    static func statusBadge(_ view: CheckView) -> String {
        var badge = "<span class=\"status status-\(view.status.rawValue)\">\(view.status.rawValue)</span>\(view.started ? " <span class=\"started\">started</span>" : "")"
        if view.inMaintenance { badge += " <span class=\"hold\">maintenance</span>" }
        if !view.suppressedBy.isEmpty {
            badge += " <span class=\"hold\">alerts held: \(HTML.escape(view.suppressedBy.joined(separator: ", "))) down</span>"
        }
        return badge
    }

    /// The window in progress and the next one (SPEC §14), or that there are none.
    static func maintenance(_ view: CheckView, now: Int64, zone: ViewerZone = .utc) -> String {
        let calendar = view.definition.maintenance
        guard !calendar.isEmpty else { return "<span class=\"muted\">no windows</span>" }
        var parts: [String] = []
        if let current = view.maintenance {
            parts.append("in progress since \(time(current.start, now: now, zone: zone)), until \(time(current.end, now: now, zone: zone)); alerts are held")
        }
        // The next one after the window in progress, if any (`next(after:)` skips it).
        if let next = calendar.next(after: now) {
            parts.append("next: \(time(next.start, now: now, zone: zone)) until \(time(next.end, now: now, zone: zone))")
        } else {
            parts.append("<span class=\"muted\">no window within a year</span>")
        }
        let origins = calendar.windows.map { "<code>\(HTML.escape($0.origin))</code>" }.joined(separator: ", ")
        return parts.joined(separator: "<br>") + "<br><span class=\"muted\">declared at \(origins)</span>"
    }

    /// Why a flip's alerts were held, for the status changes table.
    static func holdNote(_ flip: Flip) -> String {
        var notes: [String] = []
        if flip.maintenance { notes.append("during maintenance") }
        if !flip.suppressedBy.isEmpty { notes.append("while \(flip.suppressedBy.joined(separator: ", ")) \(flip.suppressedBy.count == 1 ? "was" : "were") down") }
        return notes.isEmpty ? "" : "<br><span class=\"hold\">alerts held \(HTML.escape(notes.joined(separator: ", ")))</span>"
    }

    static func expectation(_ view: CheckView) -> String {
        if let timeout = view.timeout {
            return "every \(HTML.escape(TimeText.duration(timeout)))"
        }
        return "<code>\(HTML.escape(view.schedule ?? ""))</code> <span class=\"muted\">\(HTML.escape(view.definition.tz))</span>"
    }

    static func who(_ viewer: Viewer) -> String {
        switch viewer {
        case .admin: "admin (all projects)"
        case .project(let project, let readWrite): "project \(project) (\(readWrite ? "read-write" : "read-only") key)"
        }
    }

    /// The check page. `notifications`: the section `notifications(_:channels:check:canWrite:problem:now:zone:)`
    /// renders; `urls`: the ping URLs this viewer may copy.
    static func check(
        _ view: CheckView, pings: [Ping], flips: [Flip], notifications: String, urls: PingURLs, viewer: Viewer, problem: String?, banner: String,
        now: Int64, zone: ZoneChoice? = nil
    ) -> String {
        let e = HTML.escape
        let definition = view.definition
        let viewerZone = zone?.zone ?? .utc
        var pingRows = ""
        for ping in pings {
            let body: String
            if let text = ping.body, !text.isEmpty {
                body = "<a href=\"/checks/\(view.code)/pings/\(ping.n)\">\(e(String(text.prefix(60))))\(text.count > 60 ? "…" : "")</a>"
            } else if ping.bodySize > 0 {
                body = "<span class=\"muted\">\(ping.bodySize) bytes, not stored</span>"
            } else {
                body = ""
            }
            pingRows += """
                <tr class="ping" id="ping-\(ping.n)" data-kind="\(ping.kind.rawValue)"><td>#\(ping.n)</td>\
                <td><span class="kind kind-\(ping.kind.rawValue)">\(e(PingText.kind(of: ping)))</span></td><td>\(time(ping.time, now: now, zone: viewerZone))</td>\
                <td>\(e(ping.method)) \(e(ping.scheme))<br><span class="muted">\(e(ping.remoteAddress))</span></td>\
                <td>\(e(ping.userAgent))</td><td>\(ping.duration.map { e(PingText.duration(micros: $0)) } ?? "")</td><td>\(body)</td></tr>

                """
        }
        var flipRows = ""
        for flip in flips {
            flipRows +=
                "<tr class=\"flip\"><td>\(time(flip.time, now: now, zone: viewerZone))</td><td>\(e(flip.old.rawValue)) → \(e(flip.new.rawValue))</td><td>\(e(flip.reason.rawValue))\(holdNote(flip))</td></tr>\n"
        }
        var actions = ""
        if viewer.canWrite {
            if view.status == .paused {
                actions = definition.paused
                    ? "<p class=\"muted\">Paused by its configuration (<code>paused: true</code>).</p>"
                    : "<form method=\"post\" action=\"/checks/\(view.code)/resume\"><button type=\"submit\">Resume</button></form>"
            } else {
                actions = "<form method=\"post\" action=\"/checks/\(view.code)/pause\"><button type=\"submit\">Pause</button></form>"
            }
        }
        let pingSection: String
        if viewer.canWrite {
            pingSection = """
                <h2 id="pings">Pings</h2>
                \(strip(pings, now: now, zone: viewerZone))
                \(durationChart(pings))
                <div class="table-wrap"><table class="pings"><caption>Ping log, newest first (the last \(pings.count))</caption>
                <thead><tr><th scope="col">#</th><th scope="col">Kind</th><th scope="col">Time</th><th scope="col">Source</th><th scope="col">User agent</th><th scope="col">Duration</th><th scope="col">Body</th></tr></thead>
                <tbody>
                \(pingRows.isEmpty ? "<tr><td colspan=\"7\">No pings yet.</td></tr>" : pingRows)</tbody></table></div>
                """
        } else {
            pingSection = "<p class=\"muted\">Pings and their bodies need the project's read-write key.</p>"
        }
        let running = running(view, now: now, zone: viewerZone).map { "<dt>Running</dt><dd class=\"running\">\($0)</dd>" } ?? ""
        return layout(
            title: definition.name, banner: banner, loggedIn: true,
            body: """
                <p><a href="/">← All checks</a></p>
                <h1>\(e(definition.name)) \(statusBadge(view))</h1>
                \(problem.map { "<p class=\"error\">\(e($0))</p>" } ?? "")
                <dl>
                <dt>Project / key</dt><dd>\(e(definition.id.project)) / \(e(definition.id.key))</dd>
                <dt>Slug</dt><dd><code>\(e(definition.slug))</code></dd>
                \(viewer.canWrite ? "<dt>UUID</dt><dd><code>\(view.code)</code></dd>" : "<dt>Unique key</dt><dd><code>\(view.uniqueKey)</code></dd>")
                <dt>Ping URLs</dt><dd>\(copyableURLs(urls.urls(view)))</dd>
                <dt>Schedule</dt><dd>\(expectation(view)), grace \(e(TimeText.duration(definition.grace)))</dd>
                <dt>Tags</dt><dd>\(definition.tags.map { "<span class=\"tag\">\(e($0))</span>" }.joined())</dd>
                <dt>Description</dt><dd>\(e(definition.desc))</dd>
                <dt>Pings</dt><dd>\(view.state.nPings)</dd>
                <dt>Last ping</dt><dd>\(fullTime(view.state.lastPing, now: now, zone: viewerZone))</dd>
                \(running)
                <dt>Next expected</dt><dd>\(fullTime(view.nextPing, now: now, zone: viewerZone, none: "—"))</dd>
                <dt>Last run took</dt><dd>\(view.state.lastDuration.map { e(PingText.duration(micros: $0)) } ?? "<span class=\"muted\">no run measured</span>")</dd>
                <dt>Maintenance</dt><dd>\(maintenance(view, now: now, zone: viewerZone))</dd>
                <dt>Depends on</dt><dd>\(definition.dependsOn.isEmpty ? "<span class=\"muted\">nothing</span>" : e(definition.dependsOn.map(\.description).joined(separator: ", ")))</dd>
                <dt>Declared in</dt><dd><code class="source">\(e(definition.location.file)):\(definition.location.line)</code></dd>
                </dl>
                \(actions)
                \(pingSection)
                <h2>Status changes</h2>
                <div class="table-wrap"><table class="flips"><caption>Status changes, newest first</caption>
                <thead><tr><th scope="col">Time</th><th scope="col">Change</th><th scope="col">Reason</th></tr></thead>
                <tbody>
                \(flipRows.isEmpty ? "<tr><td colspan=\"3\">No status changes yet.</td></tr>" : flipRows)</tbody></table></div>
                \(notifications)
                """,
            refresh: true, zone: zone)
    }

    static func ping(_ view: CheckView, _ ping: Ping, banner: String, zone: ZoneChoice? = nil) -> String {
        let e = HTML.escape
        let viewerZone = zone?.zone ?? .utc
        let body: String
        if let text = ping.body, !text.isEmpty {
            body = "<pre class=\"body\" id=\"ping-body\">\(e(text))</pre>"
        } else if ping.bodySize > 0 {
            body = "<p class=\"muted\">The body (\(ping.bodySize) bytes) was not UTF-8 text and was not stored.</p>"
        } else {
            body = "<p class=\"muted\">This ping had no body.</p>"
        }
        return layout(
            title: "\(view.definition.name) #\(ping.n)", banner: banner, loggedIn: true,
            body: """
                <p><a href="/checks/\(view.code)">← \(e(view.definition.name))</a></p>
                <h1>Ping #\(ping.n) of \(e(view.definition.name))</h1>
                <dl>
                <dt>Kind</dt><dd>\(e(PingText.kind(of: ping)))</dd>
                <dt>Time</dt><dd><time datetime="\(UTCTime.precise(ping.time))">\(e(viewerZone.readable(ping.time)))</time></dd>
                \(ping.duration.map { "<dt>Duration</dt><dd>\(e(PingText.duration(micros: $0)))</dd>" } ?? "")
                <dt>From</dt><dd>\(e(ping.method)) \(e(ping.scheme)) \(e(ping.remoteAddress))</dd>
                <dt>User agent</dt><dd>\(e(ping.userAgent))</dd>
                \(ping.rid.map { "<dt>Run id</dt><dd><code>\($0.uuidString.lowercased())</code></dd>" } ?? "")
                </dl>
                <h2>Body</h2>
                \(body)
                """, zone: zone)
    }
}
