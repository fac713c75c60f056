import Alerting
import CheckCatalog
import Foundation
import Monitoring
import Runtime

/// The check page's "Notifications" section (SPEC §12): the check's alerts, newest first, each
/// with its attempts, and a "Send test" form for each channel the check notifies.
extension DashboardPages {
    /// A channel the check notifies, as its "Send test" form names it.
    struct TestableChannel {
        let name: String
        let kind: String
        /// `APIDocuments.channelID`: the form's URL carries it, not the name.
        let id: String
    }

    /// The channels `definition` notifies, as configured now, in the project's order.
    static func channels(of definition: CheckDefinition, snapshot: ServingCatalog) -> [TestableChannel] {
        let project = definition.id.project
        let all = snapshot.catalog.project(project)?.channels ?? []
        let used: [Channel]
        switch definition.channels {
        case .all: used = all
        case .named(let names): used = all.filter { names.contains($0.name) }
        }
        return used.map { TestableChannel(name: $0.name, kind: $0.kindName, id: APIDocuments.channelID(project: project, channel: $0.name)) }
    }

    static func notifications(
        _ records: [AlertRecord], channels: [TestableChannel], check code: String, canWrite: Bool, problem: String?, now: Int64, zone: ViewerZone = .utc
    ) -> String {
        let e = HTML.escape
        var forms = ""
        if canWrite {
            for channel in channels {
                forms += """
                    <form class="send-test" method="post" action="/checks/\(code)/channels/\(e(channel.id))/test" data-channel="\(e(channel.name))">\
                    <button type="submit">Send test</button> to <strong>\(e(channel.name))</strong> <span class="muted">\(e(channel.kind))</span></form>

                    """
            }
            if channels.isEmpty { forms = "<p class=\"muted\">This check notifies no channel.</p>\n" }
        }
        var rows = ""
        for record in records {
            let alert = record.alert
            var state = "<span class=\"alert-state alert-\(e(record.state.rawValue))\">\(e(record.state.rawValue.replacingOccurrences(of: "_", with: " ")))</span>"
            if let next = record.nextAttempt {
                state += "<br><span class=\"muted\">next attempt</span> \(time(next, now: now, zone: zone))"
            }
            // SPEC §14: what held it back (still shown once it was released or withdrawn).
            if let hold = alert.hold {
                state += "<br><span class=\"muted hold\">\(record.state == .held ? "held for" : "was held for")</span> \(e(hold.description))"
            }
            if let reason = record.reason {
                state += "<br><span class=\"muted\">withdrawn:</span> <span class=\"withdrawn-reason\">\(e(reason))</span>"
            }
            let attempts = record.attempts.enumerated().map { index, attempt in
                var facts: [String] = []
                if let code = attempt.statusCode { facts.append("HTTP \(code)") }
                if let status = attempt.exitStatus { facts.append("exit \(status)") }
                if let reply = attempt.reply { facts.append("relay: \(reply)") }
                facts.append(PingText.duration(micros: attempt.duration))
                if attempt.permanent { facts.append("refused for good") }
                return """
                    <li class="attempt" data-outcome="\(e(attempt.outcome.rawValue))">#\(index + 1) \(time(attempt.time, now: now, zone: zone)): \
                    <strong>\(e(attempt.outcome.rawValue))</strong> (\(e(facts.joined(separator: ", "))))\
                    \(attempt.error.map { "<br><span class=\"error\">\(e($0))</span>" } ?? "")</li>
                    """
            }.joined()
            rows += """
                <tr class="notification" data-status="\(e(record.state.rawValue))"\(alert.test ? " data-test" : "")>\
                <td>\(time(alert.created, now: now, zone: zone))</td>\
                <td>\(e(alert.direction.rawValue))\(alert.test ? " <span class=\"tag\">test</span>" : "")</td>\
                <td>\(e(alert.channel))</td>\
                <td>\(state)</td>\
                <td>\(attempts.isEmpty ? "<span class=\"muted\">not tried yet</span>" : "<ul class=\"attempts\">\(attempts)</ul>")</td>\
                </tr>

                """
        }
        return """
            <h2 id="notifications">Notifications</h2>
            \(forms)\(problem.map { "<p class=\"error\">\(e($0))</p>" } ?? "")
            <div class="table-wrap"><table class="notifications"><caption>Notifications sent about this check, newest first, with their attempts</caption>
            <thead><tr><th scope="col">Created</th><th scope="col">Alert</th><th scope="col">Channel</th><th scope="col">Status</th><th scope="col">Attempts</th></tr></thead>
            <tbody>
            \(rows.isEmpty ? "<tr><td colspan=\"5\">No notifications yet.</td></tr>" : rows)</tbody></table></div>
            """
    }
}
