import Foundation
import HTTPTypes
import Hummingbird
import Monitoring
import PingStore
import PostgresStore
import Runtime

/// `GET /metrics` in the Prometheus text exposition format (SPEC §7). With the admin token
/// (`Authorization: Bearer <token>`) every check and the server's own series; with a project's
/// API key (as a bearer token or `X-Api-Key`) only that project's checks, as Healthchecks'
/// per-project metrics endpoint.
///
/// Healthchecks' per-project URLs answer too, with that project's checks: the project named by
/// its UUID (`APIDocuments.projectID`) and its read-only key in the URL
/// (`/projects/<uuid>/metrics/<key>`, or the older `/projects/<uuid>/checks/metrics/<key>`) or
/// as a bearer token (`/projects/<uuid>/metrics/`).
struct MetricsEndpoint: Sendable {
    static let path = "/metrics"
    static let projectPaths = ["/projects/{project}/metrics/{key}", "/projects/{project}/checks/metrics/{key}"]
    static let projectBearerPath = "/projects/{project}/metrics/"

    let token: AdminToken
    let status: CurrentReloadStatus
    let catalog: CurrentCatalog
    let states: CheckStates
    let meter: PingMeter
    /// The file store's journal, for its series; nil with a shared store (PostgreSQL).
    let store: PingStore?
    /// The PostgreSQL store's batch counters; nil with the file store.
    var shared: (@Sendable () -> PostgresStore.Statistics)? = nil
    /// Alerts held by maintenance windows and dependencies (SPEC §14), as the last round of
    /// their release counted them.
    var heldAlerts: @Sendable () -> Int = { 0 }
    /// The HTTPS listeners' certificate and its reloads; nil without TLS.
    var certificate: (@Sendable () -> ServingCertificate.Status)? = nil
    let clock: @Sendable () -> Int64

    /// GET and HEAD; other methods are refused.
    func respond(to request: Request) -> Response {
        let viewer: Viewer
        if token.authorizes(request.headers[.authorization]) {
            viewer = .admin
        } else if let key = Self.projectKey(request), let found = catalog.snapshot.viewer(apiKey: key) {
            viewer = found
        } else {
            return ReloadEndpoint.unauthorized()
        }
        return metrics(request) { [self] out, writer in
            try await checkSeries(viewer).write(to: &out, &writer)
            if viewer == .admin {
                out.write(Self.render(status.snapshot))
                out.write(serverSeries())
            }
        }
    }

    /// One project's metrics, as Healthchecks' per-project endpoint: an unknown project UUID is
    /// 404; no bearer token (where the URL has no key) 401; a key that is not the project's
    /// read-only key 403 (as there, not its read-write key either: URLs end up in scrape
    /// configurations and logs, and that key could pause checks).
    func respond(to request: Request, project code: String, key: String?) -> Response {
        let snapshot = catalog.snapshot
        guard let project = snapshot.catalog.projects.first(where: { APIDocuments.projectID($0.id) == code }) else {
            return PingResponses.error(.notFound, "no project has the UUID '\(code.prefix(64))'").response
        }
        let given: String
        if let key {
            given = key
        } else if let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer ") {
            given = String(authorization.dropFirst("Bearer ".count))
        } else {
            return ReloadEndpoint.unauthorized()
        }
        let viewer = Viewer.project(project.id, readWrite: false)
        guard snapshot.viewer(apiKey: given) == viewer else {
            return PingResponses.error(.forbidden, "forbidden: use the read_only API key of project '\(project.id)'").response
        }
        return metrics(request) { [self] out, writer in
            try await checkSeries(viewer).write(to: &out, &writer)
        }
    }

    /// A 200 whose text `write` streams, a chunk at a time (`ExpositionBuffer`): its length is
    /// not known in advance, so HTTP/1.1 sends it chunked. HEAD renders nothing and has no body.
    private func metrics(
        _ request: Request, _ write: @escaping @Sendable (inout ExpositionBuffer, inout any ResponseBodyWriter) async throws -> Void
    ) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        headers[.cacheControl] = PingResponses.neverCache
        guard request.method != .head else {
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in try await writer.finish(nil) })
        }
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                var out = ExpositionBuffer()
                try await write(&out, &writer)
                try await out.flush(to: &writer)
                try await writer.finish(nil)
            })
    }

    static func methodNotAllowed() -> Response {
        var response = PingResponses.error(.methodNotAllowed, "method not allowed").response
        response.headers[.allow] = "GET, HEAD"
        return response
    }

    static func projectKey(_ request: Request) -> String? {
        if let key = request.headers[.xAPIKey], !key.isEmpty { return key }
        if let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer ") {
            return String(authorization.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    /// The per-check series of `viewer`'s checks, as they are now.
    func checkSeries(_ viewer: Viewer) -> CheckSeries {
        CheckSeries(catalog.snapshot, visibleTo: viewer, states: states, now: clock())
    }

    /// Pings by kind, append latency, store counters: server-wide, for the admin only.
    func serverSeries() -> String {
        var out = Self.buildInfo()
        let snapshot = meter.snapshot
        out += "# HELP kiothc_pings_total Pings stored since the server started, by kind.\n# TYPE kiothc_pings_total counter\n"
        for kind in Ping.Kind.allCases {
            out += "kiothc_pings_total{kind=\"\(kind.rawValue)\"} \(snapshot.pings[kind] ?? 0)\n"
        }
        out += "# HELP kiothc_ping_store_failures_total Pings the store could not take (answered 503).\n# TYPE kiothc_ping_store_failures_total counter\n"
        out += "kiothc_ping_store_failures_total \(snapshot.failedAppends)\n"
        let name = "kiothc_store_append_duration_seconds"
        out += "# HELP \(name) Time from handing a ping to the store to its acknowledgement (durable per --durability).\n# TYPE \(name) histogram\n"
        var cumulative = 0
        for (index, bound) in PingMeter.bounds.enumerated() {
            cumulative += snapshot.buckets[index]
            out += "\(name)_bucket{le=\"\(Self.number(bound))\"} \(cumulative)\n"
        }
        out += "\(name)_bucket{le=\"+Inf\"} \(snapshot.count)\n"
        out += "\(name)_sum \(Self.number(Double(snapshot.sumMicroseconds) / 1_000_000))\n"
        out += "\(name)_count \(snapshot.count)\n"
        out += "# HELP kiothc_alerts_held Alerts held back by maintenance windows and dependencies, waiting to be sent or withdrawn.\n"
        out += "# TYPE kiothc_alerts_held gauge\nkiothc_alerts_held \(heldAlerts())\n"
        if let certificate { out += Self.render(certificate()) }
        if let shared {
            let statistics = shared()
            func counter(_ name: String, _ help: String, _ value: Int) {
                out += "# HELP \(name) \(help)\n# TYPE \(name) counter\n\(name) \(value)\n"
            }
            counter("kiothc_store_batches_total", "Group-commit batches written (PostgreSQL: statements, each one commit).", statistics.statements)
            counter("kiothc_store_records_total", "Updates (pings, flips, pauses) the batches stored.", statistics.updates)
            counter(
                "kiothc_store_conflicts_total", "Updates decided again because another instance changed their check first (compare-and-set).",
                statistics.conflicts)
            counter("kiothc_store_failed_batches_total", "Batches the store could not write.", statistics.failedStatements)
        }
        guard let statistics = store?.statistics else { return out }
        func counter(_ name: String, _ help: String, _ value: Int) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) counter\n\(name) \(value)\n"
        }
        counter("kiothc_store_batches_total", "Group-commit batches written.", statistics.batches)
        counter("kiothc_store_records_total", "Records (pings and flips) acknowledged by the store.", statistics.records)
        counter("kiothc_store_journal_syncs_total", "fdatasync calls on the journal.", statistics.journalSyncs)
        let syncTime = "kiothc_store_journal_sync_seconds_total"
        out += "# HELP \(syncTime) Time spent in fdatasync calls on the journal (pings of a batch wait for its one).\n"
        out += "# TYPE \(syncTime) counter\n\(syncTime) \(Self.number(Self.seconds(statistics.journalSyncTime)))\n"
        let slowest = "kiothc_store_journal_sync_max_seconds"
        out += "# HELP \(slowest) The slowest fdatasync on the journal since the server started: a disk stall shows here.\n"
        out += "# TYPE \(slowest) gauge\n\(slowest) \(Self.number(Self.seconds(statistics.slowestJournalSync)))\n"
        counter("kiothc_store_failed_batches_total", "Batches the store could not write.", statistics.failedBatches)
        counter("kiothc_store_compactions_total", "Ping files compacted.", statistics.compactions)
        return out
    }

    /// What this binary is, as the `*_build_info` convention has it (an info metric: value 1,
    /// the facts in labels), so a dashboard can show and a query join the running version.
    static func buildInfo() -> String {
        let labels = Self.labels([("version", BuildInfo.version), ("commit", BuildInfo.commit ?? "unknown")])
        return "# HELP kiothc_build_info The version of kiothc serving and the commit it was built from (unknown outside a git checkout).\n"
            + "# TYPE kiothc_build_info gauge\nkiothc_build_info{\(labels)} 1\n"
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func number(_ value: Double) -> String {
        var text = String(format: "%.6f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// `name="value",...` with values escaped as the exposition format says: backslash, double
    /// quote and line feed, byte by byte as `ExpositionBuffer.writeLabelValue` does.
    static func labels(_ pairs: [(String, String)]) -> String {
        pairs.map { name, value in
            var escaped = ExpositionBuffer(chunkSize: value.utf8.count * 2)
            escaped.writeLabelValue(value)
            return "\(name)=\"\(escaped.text)\""
        }.joined(separator: ",")
    }

    /// The TLS certificate's series: when the one in use expires, and how its reloads went.
    static func render(_ certificate: ServingCertificate.Status) -> String {
        var out = ""
        var name = "kiothc_tls_certificate_not_after_seconds"
        out += "# HELP \(name) Unix time at which the TLS certificate new connections get expires (its notAfter).\n"
        out += "# TYPE \(name) gauge\n\(name) \(certificate.notAfter)\n"
        name = "kiothc_tls_certificate_last_reload_successful"
        out += "# HELP \(name) Whether the last reload of the TLS certificate and key succeeded (1) or failed and kept the previous pair (0).\n"
        out += "# TYPE \(name) gauge\n\(name) \(certificate.lastSucceeded ? 1 : 0)\n"
        name = "kiothc_tls_certificate_reloads_total"
        out += "# HELP \(name) Reloads of the TLS certificate and key that found new files, by result (failed: the previous pair stays in use).\n"
        out += "# TYPE \(name) counter\n\(name){result=\"ok\"} \(certificate.reloads)\n\(name){result=\"failed\"} \(certificate.failures)\n"
        return out
    }

    /// The reload series; one `# HELP` and `# TYPE` per family.
    static func render(_ status: ReloadStatus) -> String {
        var out = ""
        func gauge(_ name: String, _ help: String, _ value: String, labels: String = "") {
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n\(name)\(labels) \(value)\n"
        }
        gauge("kiothc_config_last_reload_successful", "Whether the last configuration load succeeded (1) or was rejected (0).", status.lastSucceeded ? "1" : "0")
        gauge(
            "kiothc_config_last_reload_success_timestamp_seconds", "Unix time of the last successful configuration load.",
            String(format: "%.3f", Double(status.lastSuccess) / 1_000_000))
        gauge(
            "kiothc_config_hash", "Hash of the configuration serving now (top 48 bits of its FNV-1a hash; the full hash is the label).",
            String(format: "%.0f", ConfigFingerprint.metricValue(status.servingHash)),
            labels: "{hash=\"\(ConfigFingerprint.hex(status.servingHash))\"}")
        // An info metric (value 1, the facts in labels) beside it, to join on: which commit of
        // the config directory serves (SPEC §16); "" outside a git work tree.
        gauge(
            "kiothc_config_info", "The configuration serving now: its hash and the git commit its directory was at (empty outside a git work tree).", "1",
            labels: "{\(Self.labels([("hash", ConfigFingerprint.hex(status.servingHash)), ("commit", status.servingCommit?.commit ?? "")]))}")
        return out
    }
}
