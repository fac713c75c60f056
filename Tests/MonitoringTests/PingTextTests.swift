import Testing
@testable import Monitoring

/// One wording of a ping everywhere (issue 26): its kind with its exit status, a run's duration.
@Suite("Ping text")
struct PingTextTests {
    @Test(
        "a kind is its name, with the exit status an exit-status ping carried",
        arguments: [
            (Ping.Kind.success, nil as Int?, "success"),
            (.success, 0, "success (exit 0)"),
            (.fail, 3, "fail (exit 3)"),
            (.fail, 255, "fail (exit 255)"),
            (.fail, nil, "fail"),
            (.start, nil, "start"),
            (.log, nil, "log"),
            (.ign, nil, "ignored"),
        ])
    func kind(kind: Ping.Kind, exitStatus: Int?, text: String) {
        #expect(PingText.kind(kind, exitStatus: exitStatus) == text)
    }

    @Test("the kind of a stored ping reads its own kind and exit status")
    func kindOfPing() {
        let ping = Ping(n: 1, time: 0, kind: .fail, method: "POST", scheme: "http", remoteAddress: "", userAgent: "", body: nil, bodySize: 0, exitStatus: 3)
        #expect(PingText.kind(of: ping) == "fail (exit 3)")
    }

    @Test(
        "a duration keeps sub-second precision where it was measured, is cut (never rounded up to the next unit) and drops a zero smaller unit",
        arguments: [
            (Int64(0), "0 µs"),
            (-5, "0 µs"),
            (450, "450 µs"),
            (999, "999 µs"),
            (1_000, "1 ms"),
            (7_400, "7 ms"),
            (999_999, "999 ms"),
            (1_000_000, "1.0 s"),
            (2_450_000, "2.4 s"),
            (9_999_999, "9.9 s"),
            (10_000_000, "10 s"),
            (59_999_999, "59 s"),
            (60_000_000, "1 min"),
            (192_000_000, "3 min 12 s"),
            (3_599_000_000, "59 min 59 s"),
            (3_600_000_000, "1 h"),
            (7_500_000_000, "2 h 5 min"),
            (86_400_000_000, "1 d"),
            (273_600_000_000, "3 d 4 h"),
        ])
    func duration(micros: Int64, text: String) {
        #expect(PingText.duration(micros: micros) == text)
    }

    @Test(
        "relative times: past and future, each unit's edges, cut to whole units",
        arguments: [
            (Int64(0), "0 s ago"),
            (-59_999_999, "59 s ago"),
            (-60_000_000, "1 min ago"),
            (-3_599_000_000, "59 min ago"),
            (-3_600_000_000, "1 h ago"),
            (-86_399_000_000, "23 h ago"),
            (-86_400_000_000, "1 d ago"),
            (-34_560_000_000_000, "400 d ago"),
            (1_000_000, "in 1 s"),
            (120_000_000, "in 2 min"),
            (7_200_000_000, "in 2 h"),
            (172_800_000_000, "in 2 d"),
        ])
    func relative(offset: Int64, text: String) {
        let now: Int64 = 1_700_000_000_000_000
        #expect(TimeText.relative(now + offset, now: now) == text)
    }
}
