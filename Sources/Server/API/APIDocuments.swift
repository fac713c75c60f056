import Alerting
import CheckCatalog
import Crypto
import Foundation
import Monitoring
import PingStore
import Runtime

/// URLs the API prints, for one request: Healthchecks' `ping_url`, `update_url`, `pause_url`,
/// `resume_url` and ping `body_url`.
struct APIURLs: Sendable {
    let base: String
    let version: Int

    func ping(_ uuid: UUID) -> String { "\(base)/ping/\(uuid.uuidString.lowercased())" }
    func check(_ uuid: UUID) -> String { "\(base)/api/v\(version)/checks/\(uuid.uuidString.lowercased())" }
    func body(_ uuid: UUID, n: Int) -> String { "\(check(uuid))/pings/\(n)/body" }
}

/// The JSON documents of the API, field for field as Healthchecks' `to_dict` methods.
enum APIDocuments {
    /// `Check.to_dict`: with a read-only key `unique_key` replaces the UUID and the URLs (which
    /// would let the holder ping or pause the check). Plus `project` and `key` (our identity).
    /// `badgeURL`: the check's two-state SVG badge (`BadgeEndpoint`).
    static func check(
        _ view: CheckView, readOnly: Bool, urls: APIURLs, snapshot: ServingCatalog, now: Int64, badgeURL: String? = nil
    ) -> JSONValue {
        let definition = view.definition
        var fields: [(String, JSONValue)] = [
            ("name", .string(definition.name)),
            ("slug", .string(definition.slug)),
            ("tags", .string(definition.tags.joined(separator: " "))),
            ("desc", .string(definition.desc)),
            ("grace", .int(definition.grace)),
            ("n_pings", .int(view.state.nPings)),
            ("status", .string(status(view, version: urls.version, now: now))),
            ("started", .bool(view.started)),
            ("last_ping", .string(view.state.lastPing.map(UTCTime.seconds))),
            ("next_ping", .string(view.nextPing.map(UTCTime.seconds))),
            ("manual_resume", .bool(definition.manualResume)),
            ("methods", .string(definition.methods.rawValue)),
            // Email filtering does not exist here; the fields keep their Healthchecks defaults.
            ("subject", .string("")),
            ("subject_fail", .string("")),
            ("start_kw", .string("")),
            ("success_kw", .string("")),
            ("failure_kw", .string("")),
            ("filter_subject", .bool(false)),
            ("filter_body", .bool(false)),
        ]
        if let badgeURL {
            fields.append(("badge_url", .string(badgeURL)))
        }
        if let duration = view.state.lastDuration, duration >= 1_000_000 {
            fields.append(("last_duration", .int(Int64(duration / 1_000_000))))
        }
        if readOnly {
            fields.append(("unique_key", .string(view.uniqueKey)))
        } else {
            fields.append(("ping_url", .string(urls.ping(view.uuid))))
            fields.append(("update_url", .string(urls.check(view.uuid))))
            fields.append(("pause_url", .string(urls.check(view.uuid) + "/pause")))
            fields.append(("resume_url", .string(urls.check(view.uuid) + "/resume")))
            fields.append(("channels", .string(channelIDs(definition, snapshot: snapshot).joined(separator: ","))))
        }
        if let timeout = view.timeout {
            fields.append(("timeout", .int(timeout)))
        } else if let schedule = view.schedule {
            fields.append(("schedule", .string(schedule)))
            fields.append(("tz", .string(definition.tz)))
        }
        fields.append(("project", .string(definition.id.project)))
        fields.append(("key", .string(definition.id.key)))
        // SPEC §14, not in Healthchecks: maintenance windows and dependencies.
        fields.append(("in_maintenance", .bool(view.inMaintenance)))
        fields.append(("maintenance_until", .string(view.maintenance.map { UTCTime.seconds($0.end) })))
        fields.append(("depends_on", .array(definition.dependsOn.map { .string($0.description) })))
        fields.append(("suppressed_by", .array(view.suppressedBy.map { .string($0) })))
        return .object(fields)
    }

    /// `Ping.to_dict`.
    static func ping(_ ping: Ping, bodyURL: String) -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("type", .string(ping.kind.rawValue)),
            ("date", .string(UTCTime.precise(ping.time))),
            ("n", .int(ping.n)),
            ("scheme", .string(ping.scheme)),
            ("remote_addr", .string(ping.remoteAddress)),
            ("method", .string(ping.method)),
            ("ua", .string(ping.userAgent)),
            ("rid", .string(ping.rid?.uuidString.lowercased())),
            ("body_url", .string((ping.body?.isEmpty ?? true) ? nil : bodyURL)),
        ]
        if let duration = ping.duration {
            fields.append(("duration", .double(Double(duration) / 1_000_000)))
        }
        if let exitStatus = ping.exitStatus {
            // Not in Healthchecks' document (it shows exit statuses only in its UI); useful here.
            fields.append(("exitstatus", .int(exitStatus)))
        }
        return .object(fields)
    }

    /// `Flip.to_dict`, and ours only where set (SPEC §14): `maintenance` when the flip came
    /// during a maintenance window, `suppressed_by` the checks it depends on that were down.
    static func flip(_ flip: Flip) -> JSONValue {
        var fields: [(String, JSONValue)] = [("timestamp", .string(UTCTime.seconds(flip.time))), ("up", .int(flip.new == .up ? 1 : 0))]
        if flip.maintenance { fields.append(("maintenance", .bool(true))) }
        if !flip.suppressedBy.isEmpty { fields.append(("suppressed_by", .array(flip.suppressedBy.map { .string($0) }))) }
        return .object(fields)
    }

    /// An alert with what became of it (SPEC §12), for `GET checks/<uuid>/notifications/` and
    /// `POST channels/<id>/test`. No Healthchecks counterpart (its notifications are not in its
    /// API); the times are written as its others are. `kind` is the channel's as configured
    /// now: null once the channel is gone.
    static func notification(_ record: AlertRecord, snapshot: ServingCatalog) -> JSONValue {
        let alert = record.alert
        let attempts = record.attempts.enumerated().map { index, attempt in
            JSONValue.object([
                ("n", .int(index + 1)),
                ("time", .string(UTCTime.seconds(attempt.time))),
                ("outcome", .string(attempt.outcome.rawValue)),
                ("status_code", attempt.statusCode.map { .int($0) } ?? .null),
                ("exit_status", attempt.exitStatus.map { .int(Int64($0)) } ?? .null),
                ("error", .string(attempt.error)),
                ("duration", .double(Double(attempt.duration) / 1_000_000)),
                ("permanent", .bool(attempt.permanent)),
                ("reply", .string(attempt.reply)),
            ])
        }
        return .object([
            ("id", .string(alert.id.uuidString.lowercased())),
            ("channel", .string(alert.channel)),
            ("channel_id", .string(channelID(project: alert.project, channel: alert.channel))),
            ("kind", .string(snapshot.catalog.project(alert.project)?.channel(named: alert.channel)?.kindName)),
            ("direction", .string(alert.direction.rawValue)),
            ("test", .bool(alert.test)),
            ("created", .string(UTCTime.seconds(alert.created))),
            ("flip_time", .string(UTCTime.seconds(alert.flipTime))),
            ("status", .string(record.state.rawValue)),
            ("next_attempt", .string(record.nextAttempt.map(UTCTime.seconds))),
            ("attempts", .array(attempts)),
            ("hold", alert.hold.map(hold) ?? .null),
            ("withdrawn_reason", .string(record.reason)),
        ])
    }

    /// What held an alert back (SPEC §14), kept after its release.
    static func hold(_ hold: AlertHold) -> JSONValue {
        .object([("maintenance", .bool(hold.maintenance)), ("dependencies", .array(hold.dependencies.map { .string($0) }))])
    }

    /// A check's `status` in `version` of the API. In v2 and later it is the check's status and
    /// an open run shows in `started`; v1 (Healthchecks' `get_status(with_started=True)`) says
    /// `started` while a run is open and younger than the check's grace, whatever the status
    /// otherwise is (an older run makes it `down` in every version). A check paused in its
    /// configuration file stays `paused` in v1 too: Healthchecks has no such pause.
    static func status(_ view: CheckView, version: Int, now: Int64) -> String {
        if version == 1, !view.definition.paused, let run = view.state.run {
            let (end, overflow) = run.start.addingReportingOverflow(Int64(view.definition.grace) * 1_000_000)
            if overflow || now < end { return "started" }
        }
        return view.status.rawValue
    }

    /// Channels have names, not UUIDs, in configuration; their API id is a name-based UUID
    /// (SHA-1, version 5 layout) of project and name, stable across restarts and reloads.
    static func channelID(project: String, channel: String) -> String {
        nameBasedUUID("kiothc-channel:\(project)/\(channel)")
    }

    /// Projects have ids, not UUIDs, in configuration; where Healthchecks' URLs name a project
    /// by its UUID (`/projects/<uuid>/metrics/<key>`) the UUID is the name-based one (SHA-1,
    /// version 5 layout) of `kiothc-project:<project id>`, stable while the id is.
    static func projectID(_ project: String) -> String {
        nameBasedUUID("kiothc-project:\(project)")
    }

    /// The first 16 bytes of the SHA-1 of `name`, with the version (5) and variant bits set, in
    /// lower case.
    private static func nameBasedUUID(_ name: String) -> String {
        var bytes = Array(Insecure.SHA1.hash(data: Array(name.utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        let h = Array(hex)
        return "\(String(h[0..<8]))-\(String(h[8..<12]))-\(String(h[12..<16]))-\(String(h[16..<20]))-\(String(h[20..<32]))"
    }

    static func channelIDs(_ definition: CheckDefinition, snapshot: ServingCatalog) -> [String] {
        let names: [String]
        switch definition.channels {
        case .all: names = snapshot.catalog.project(definition.id.project)?.channels.map(\.name) ?? []
        case .named(let named): names = named
        }
        return names.map { channelID(project: definition.id.project, channel: $0) }.sorted()
    }
}
