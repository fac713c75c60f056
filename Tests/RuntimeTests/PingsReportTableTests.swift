import Foundation
import Monitoring
import Testing
@testable import Runtime

/// `kiothc pings`' table words pings as the dashboard does (`PingText`, issue 26).
@Suite("Pings report table")
struct PingsReportTableTests {
    @Test("the table's kind and duration columns use the shared ping wording")
    func wording() {
        func ping(_ n: Int, _ kind: Ping.Kind, exit: Int? = nil, duration: Int64? = nil) -> Ping {
            Ping(
                n: n, time: 1_700_000_000_000_000, kind: kind, method: "POST", scheme: "http", remoteAddress: "127.0.0.1", userAgent: "",
                body: nil, bodySize: 0, exitStatus: exit, duration: duration)
        }
        let report = PingsReport(
            uuid: UUID(), identity: nil, retiredAt: nil, earlier: [],
            pings: [ping(4, .fail, exit: 3, duration: 7_400), ping(3, .start), ping(2, .success, exit: 0, duration: 192_000_000), ping(1, .ign)])
        let lines = report.table().split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        #expect(lines[1].hasPrefix("4  fail (exit 3)     2023-11-14 22:13:20Z  POST http  127.0.0.1  7 ms"), "\(lines[1])")
        #expect(lines[2].contains("start ") && lines[2].contains("127.0.0.1  -"))
        #expect(lines[3].contains("success (exit 0)") && lines[3].contains("3 min 12 s"))
        #expect(lines[4].contains("ignored"))
        #expect(!report.table().contains("0.007"))
    }
}
