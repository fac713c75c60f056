import Foundation
import Monitoring
import Runtime

/// The overview at `/`: the filter form (a GET form, so it works without JavaScript and its
/// URL can be bookmarked), counts per status, one page of checks with their ping URLs, and the
/// wall mode (`?wall=1`: large tiles, no chrome).
extension DashboardPages {
    /// The ping URLs a viewer may copy. Viewers who may ping (read-write keys, the admin) get
    /// the UUID URL and the slug URL with the project's real ping key (`pingKeys`, filled by
    /// `Dashboard` for them only); everyone else the slug URL with a placeholder for the key,
    /// as plans and logs print it. The lead's rule (issue 26): the ping key is shown only to
    /// read-write and admin viewers of its project, who can ping through the UUID URLs anyway;
    /// never to read-only or logged-out viewers, nor on the public status page.
    struct PingURLs {
        /// Scheme, host and port, without a trailing slash.
        let base: String
        let canPing: Bool
        /// The ping keys this viewer may see, by project.
        var pingKeys: [String: String] = [:]

        func urls(_ view: CheckView) -> [String] {
            let definition = view.definition
            let slug: [String]
            if definition.slug.isEmpty {
                slug = []
            } else if canPing, let key = pingKeys[definition.id.project] {
                slug = ["\(base)/ping/\(key.addingPercentEncoding(withAllowedCharacters: Self.segment) ?? key)/\(definition.slug)"]
            } else {
                slug = PingURLFormat(base: base).slugURL(project: definition.id.project, slug: definition.slug).map { [$0] } ?? []
            }
            return canPing ? ["\(base)/ping/\(view.code)"] + slug : slug
        }

        /// What a path segment may hold as it is.
        private static let segment = CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))
    }

    static func overview(
        _ overview: Overview, query: OverviewQuery, projects: [String], urls: PingURLs, viewer: Viewer, banner: String, now: Int64,
        zone: ZoneChoice? = nil, statusPages: [(name: String, path: String)] = []
    ) -> String {
        query.wall
            ? wall(overview, query: query, viewer: viewer, banner: banner, now: now, zone: zone?.zone ?? .utc)
            : table(overview, query: query, projects: projects, urls: urls, viewer: viewer, banner: banner, now: now, zone: zone, statusPages: statusPages)
    }

    private static func table(
        _ overview: Overview, query: OverviewQuery, projects: [String], urls: PingURLs, viewer: Viewer, banner: String, now: Int64,
        zone choice: ZoneChoice?, statusPages: [(name: String, path: String)]
    ) -> String {
        let e = HTML.escape
        let zone = choice?.zone ?? .utc
        var rows = ""
        for view in overview.rows {
            let definition = view.definition
            let pingURLs = urls.urls(view).map { "<code class=\"url\">\(e($0))</code>" }.joined(separator: "<br>")
            rows += """
                <tr class="check" data-status="\(view.status.rawValue)">\
                <td>\(statusBadge(view))\(running(view, now: now, zone: zone).map { "<br><span class=\"running\">\($0)</span>" } ?? "")</td>\
                <td>\(e(definition.id.project))</td>\
                <td><a href="/checks/\(view.code)">\(e(definition.name))</a><br><span class="muted">\(e(definition.id.key))</span></td>\
                <td><code>\(e(definition.slug))</code></td>\
                <td>\(definition.tags.map { "<span class=\"tag\">\(e($0))</span>" }.joined())</td>\
                <td>\(expectation(view))<br><span class="muted">grace \(e(TimeText.duration(definition.grace)))</span></td>\
                <td>\(time(view.state.lastPing, now: now, zone: zone))</td>\
                <td>\(time(view.nextPing, now: now, zone: zone, none: "—"))</td>\
                <td class="urls">\(pingURLs)</td>\
                </tr>

                """
        }
        let empty: String
        if overview.visible == 0 {
            empty = "No checks are visible with this key."
        } else {
            empty = "No check matches these filters. <a href=\"\(e(query.url { $0 = OverviewQuery() }))\">Show all checks</a>"
        }
        let pingNote = urls.canPing ? "" : " Ping URLs show <code>&lt;project-ping-key&gt;</code>: the ping key needs the project's read-write key."
        return layout(
            title: "Checks", banner: banner, loggedIn: true,
            before: filterForm(query, projects: projects, counts: overview.counts),
            body: """
                <h1>Checks</h1>
                \(messages(query, overview))
                <p class="muted">Logged in as \(e(who(viewer))).\(pingNote) Updated \(e(zone.readable(now))).</p>
                \(statusPages.isEmpty ? "" : "<p class=\"status-pages\">Public status pages (admin only): " + statusPages.map { "<a href=\"\(e($0.path))\">\(e($0.name))</a>" }.joined(separator: ", ") + "</p>")
                \(countLinks(overview, query: query))
                \(pager(overview, query: query))
                <div class="table-wrap">
                <table>
                <caption>Checks, \(e(query.sort == .status ? "problems first" : query.sort == .name ? "by name" : "most recent last ping first")); times are relative, each one's tooltip gives the time in \(e(zone.name))</caption>
                <thead><tr><th scope="col">Status</th><th scope="col">Project</th><th scope="col">Name</th><th scope="col">Slug</th><th scope="col">Tags</th><th scope="col">Schedule</th><th scope="col">Last ping</th><th scope="col">Next expected</th><th scope="col">Ping URLs</th></tr></thead>
                <tbody>
                \(rows.isEmpty ? "<tr><td colspan=\"9\" class=\"empty\">\(empty)</td></tr>" : rows)</tbody>
                </table>
                </div>
                \(pager(overview, query: query))
                """,
            refresh: true, zone: choice)
    }

    /// `?wall=1`: a tile per check of the page, problems first, counts in large type; no header,
    /// form or table, refreshed like the overview.
    private static func wall(_ overview: Overview, query: OverviewQuery, viewer: Viewer, banner: String, now: Int64, zone: ViewerZone) -> String {
        let e = HTML.escape
        var tiles = ""
        for view in overview.rows {
            let definition = view.definition
            tiles += """
                <a class="tile tile-\(view.status.rawValue)" data-status="\(view.status.rawValue)" href="/checks/\(view.code)">\
                <span class="tile-name">\(e(definition.name))</span>\
                <span class="tile-status">\(view.status.rawValue)\(view.started ? " · started" : "")</span>\
                <span class="tile-meta">\(e(definition.id.project)) · last ping \(time(view.state.lastPing, now: now, zone: zone))</span>\
                </a>

                """
        }
        let counts = Overview.statusOrder.map { status in
            "<span class=\"wall-count tile-\(status.rawValue)\" data-status=\"\(status.rawValue)\"><strong>\(overview.counts[status] ?? 0)</strong> \(status.rawValue)</span>"
        }.joined()
        let more = overview.page < overview.pages
            ? "<p class=\"wall-more\"><a rel=\"next\" href=\"\(e(query.url { $0.page = overview.page + 1 }))\">\(overview.matching - overview.page * Overview.pageSize) more on the next pages</a></p>"
            : ""
        return layout(
            title: "Checks (wall)", banner: banner, loggedIn: true, chrome: false,
            body: """
                \(messages(query, overview))
                <div class="wall-counts" aria-label="Checks per status">\(counts)</div>
                <div class="tiles">
                \(tiles.isEmpty ? "<p class=\"empty\">\(overview.visible == 0 ? "No checks are visible with this key." : "No check matches these filters.")</p>" : tiles)</div>
                \(more)
                <p class="muted wall-foot">\(e(who(viewer))) · updated \(e(zone.readable(now))) · <a href="\(e(query.url { $0.wall = false }))">leave wall mode</a></p>
                """,
            refresh: true)
    }

    /// The URL's problems and what its filters matched nothing of.
    private static func messages(_ query: OverviewQuery, _ overview: Overview) -> String {
        let lines = query.problems + overview.notes
        guard !lines.isEmpty else { return "" }
        return "<ul class=\"notes\" role=\"status\">" + lines.map { "<li>\(HTML.escape($0))</li>" }.joined() + "</ul>"
    }

    /// Counts per status as links that filter by it, and what they are counted over.
    private static func countLinks(_ overview: Overview, query: OverviewQuery) -> String {
        let e = HTML.escape
        let counted = overview.counts.values.reduce(0, +)
        var links = [
            "<a class=\"count\" data-status=\"all\" href=\"\(e(query.url { $0.statuses = []; $0.page = 1 }))\">\(counted) \(counted == overview.visible ? "all" : "matching")</a>"
        ]
        for status in Overview.statusOrder {
            let count = overview.counts[status] ?? 0
            let chosen = query.statuses.contains(status)
            links.append(
                "<a class=\"count status-\(status.rawValue)\(chosen ? " chosen" : "")\" data-status=\"\(status.rawValue)\" href=\"\(e(query.url { $0.statuses = [status]; $0.page = 1 }))\"\(chosen ? " aria-current=\"true\"" : "")>\(count) \(status.rawValue)</a>"
            )
        }
        let scope =
            query.projects.isEmpty && query.tags.isEmpty && query.search.isEmpty
            ? "of the \(overview.visible) check\(overview.visible == 1 ? "" : "s") you can see"
            : "of the \(counted) check\(counted == 1 ? "" : "s") matching the project, tag and search filters (\(overview.visible) visible)"
        let shown = query.statuses.isEmpty ? "" : "; \(overview.matching) with the chosen status\(query.statuses.count == 1 ? "" : "es")"
        return "<p class=\"counts\" id=\"counts\">\(links.joined(separator: " "))<br><span class=\"muted\">Counts per status \(scope)\(shown), over every page.</span></p>"
    }

    private static func pager(_ overview: Overview, query: OverviewQuery) -> String {
        guard overview.pages > 1 else { return "" }
        let e = HTML.escape
        let first = (overview.page - 1) * Overview.pageSize + 1
        let last = min(overview.page * Overview.pageSize, overview.matching)
        var parts: [String] = []
        parts.append(overview.page > 1 ? "<a rel=\"prev\" href=\"\(e(query.url { $0.page = overview.page - 1 }))\">← Previous</a>" : "<span class=\"muted\">← Previous</span>")
        parts.append("Page \(overview.page) of \(overview.pages) (checks \(first)–\(last) of \(overview.matching))")
        parts.append(overview.page < overview.pages ? "<a rel=\"next\" href=\"\(e(query.url { $0.page = overview.page + 1 }))\">Next →</a>" : "<span class=\"muted\">Next →</span>")
        return "<nav class=\"pages\" aria-label=\"Pages\">\(parts.joined(separator: " "))</nav>"
    }

    /// The filters as a GET form to `/`: outside the live-refreshed part, so what someone types
    /// is not replaced under them.
    private static func filterForm(_ query: OverviewQuery, projects: [String], counts: [CheckView.Status: Int]) -> String {
        let e = HTML.escape
        func option(_ value: String, _ label: String, selected: Bool) -> String {
            "<option value=\"\(e(value))\"\(selected ? " selected" : "")>\(e(label))</option>"
        }
        let projectOptions: [String] = [option("", "any", selected: query.projects.isEmpty)] + projects.map { option($0, $0, selected: query.projects.first == $0) }
        let statusOptions: [String] =
            [option("", "any", selected: query.statuses.isEmpty)]
            + Overview.statusOrder.map { option($0.rawValue, "\($0.rawValue) (\(counts[$0] ?? 0))", selected: query.statuses.first == $0) }
        let sortLabels: [(OverviewQuery.Sort, String)] = [(.status, "problems first"), (.name, "name"), (.lastPing, "last ping, newest first")]
        let sortOptions: [String] = sortLabels.map { option($0.0.rawValue, $0.1, selected: query.sort == $0.0) }
        // Tags and statuses beyond the first the URL names stay in the form as hidden fields.
        let hidden: [String] =
            query.tags.dropFirst().map { "<input type=\"hidden\" name=\"tag\" value=\"\(e($0))\">" }
            + query.statuses.dropFirst().map { "<input type=\"hidden\" name=\"status\" value=\"\($0.rawValue)\">" }
            + query.projects.dropFirst().map { "<input type=\"hidden\" name=\"project\" value=\"\(e($0))\">" }
        return """
            <form class="filters" method="get" action="/" role="search">
            <label>Search <input type="search" name="q" value="\(e(query.search))" placeholder="name, slug or key" maxlength="\(OverviewQuery.searchLimit)"></label>
            <label>Project <select name="project">\(projectOptions.joined())</select></label>
            <label>Tag <input type="text" name="tag" value="\(e(query.tags.first ?? ""))" size="12"></label>
            <label>Status <select name="status">\(statusOptions.joined())</select></label>
            <label>Sort <select name="sort">\(sortOptions.joined())</select></label>
            \(hidden.joined())<button type="submit">Apply</button>
            <a href="/">Clear</a>
            <a href="\(e(query.url { $0.wall = true; $0.page = 1 }))">Wall mode</a>
            </form>

            """
    }
}
