import Foundation
import Monitoring
import Runtime

extension DashboardPages {
    /// `html` with one line at its foot, on the pages of a logged-in visitor (they have the
    /// log-out form): which configuration serves — the git commit its directory was at
    /// (SPEC §16: "is my commit live yet?"), else its hash — and since when.
    static func footed(_ html: String, _ status: ReloadStatus) -> String {
        guard html.contains("action=\"/logout\""), let end = html.range(of: "</body>", options: .backwards) else { return html }
        let what = status.servingCommit.map { "git commit \($0.short)\($0.branch.map { " (\($0))" } ?? "")" }
            ?? "config \(ConfigFingerprint.hex(status.servingHash))"
        let line = "<footer class=\"config\"><small>Serving \(HTML.escape(what)), applied \(HTML.escape(UTCTime.readable(status.lastSuccess)))</small></footer>\n"
        return html.replacingCharacters(in: end.lowerBound..<end.lowerBound, with: line)
    }
}
