import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import Monitoring

@Suite("UTCTime: the one UTC formatter")
struct UTCTimeTests {
    @Test(
        "each form, at the epoch, leap days, before 1970 and far in the future",
        arguments: [
            // (microseconds, seconds, precise, secondsZ, readable, month)
            (Int64(0), "1970-01-01T00:00:00+00:00", "1970-01-01T00:00:00+00:00", "1970-01-01T00:00:00Z", "1970-01-01 00:00:00Z", "1970-01"),
            (1_700_000_000_999_999, "2023-11-14T22:13:20+00:00", "2023-11-14T22:13:20.999999+00:00", "2023-11-14T22:13:20Z", "2023-11-14 22:13:20Z", "2023-11"),
            (1_700_000_000_000_001, "2023-11-14T22:13:20+00:00", "2023-11-14T22:13:20.000001+00:00", "2023-11-14T22:13:20Z", "2023-11-14 22:13:20Z", "2023-11"),
            (1_774_825_200_000_000, "2026-03-29T23:00:00+00:00", "2026-03-29T23:00:00+00:00", "2026-03-29T23:00:00Z", "2026-03-29 23:00:00Z", "2026-03"),
            (951_782_400_000_000, "2000-02-29T00:00:00+00:00", "2000-02-29T00:00:00+00:00", "2000-02-29T00:00:00Z", "2000-02-29 00:00:00Z", "2000-02"),
            (4_107_542_399_000_000, "2100-02-28T23:59:59+00:00", "2100-02-28T23:59:59+00:00", "2100-02-28T23:59:59Z", "2100-02-28 23:59:59Z", "2100-02"),
            (4_107_542_400_000_000, "2100-03-01T00:00:00+00:00", "2100-03-01T00:00:00+00:00", "2100-03-01T00:00:00Z", "2100-03-01 00:00:00Z", "2100-03"),
            // Before 1970: floored to the second the instant lies in.
            (-1, "1969-12-31T23:59:59+00:00", "1969-12-31T23:59:59.999999+00:00", "1969-12-31T23:59:59Z", "1969-12-31 23:59:59Z", "1969-12"),
            (-86_400_000_000, "1969-12-31T00:00:00+00:00", "1969-12-31T00:00:00+00:00", "1969-12-31T00:00:00Z", "1969-12-31 00:00:00Z", "1969-12"),
            (-62_135_596_800_000_000, "0001-01-01T00:00:00+00:00", "0001-01-01T00:00:00+00:00", "0001-01-01T00:00:00Z", "0001-01-01 00:00:00Z", "0001-01"),
            (-62_135_596_800_000_001, "0000-12-31T23:59:59+00:00", "0000-12-31T23:59:59.999999+00:00", "0000-12-31T23:59:59Z", "0000-12-31 23:59:59Z", "0000-12"),
            (-62_198_755_200_000_000, "-001-01-01T00:00:00+00:00", "-001-01-01T00:00:00+00:00", "-001-01-01T00:00:00Z", "-001-01-01 00:00:00Z", "-001-01"),
            // Far future: the last second of year 9999, then five-digit years, then the end of Int64.
            (253_402_300_799_000_000, "9999-12-31T23:59:59+00:00", "9999-12-31T23:59:59+00:00", "9999-12-31T23:59:59Z", "9999-12-31 23:59:59Z", "9999-12"),
            (253_402_300_800_000_000, "10000-01-01T00:00:00+00:00", "10000-01-01T00:00:00+00:00", "10000-01-01T00:00:00Z", "10000-01-01 00:00:00Z", "10000-01"),
            (Int64.min, "-290308-12-21T19:59:05+00:00", "-290308-12-21T19:59:05.224192+00:00", "-290308-12-21T19:59:05Z", "-290308-12-21 19:59:05Z", "-290308-12"),
            (Int64.max, "294247-01-10T04:00:54+00:00", "294247-01-10T04:00:54.775807+00:00", "294247-01-10T04:00:54Z", "294247-01-10 04:00:54Z", "294247-01"),
        ])
    func forms(_ row: (Int64, String, String, String, String, String)) {
        let (micros, seconds, precise, secondsZ, readable, month) = row
        #expect(UTCTime.seconds(micros) == seconds)
        #expect(UTCTime.precise(micros) == precise)
        #expect(UTCTime.secondsZ(micros) == secondsZ)
        #expect(UTCTime.readable(micros) == readable)
        #expect(UTCTime.month(micros) == month)
    }

    @Test(
        "microsecondsZ always has six fraction digits and Z (JSON log lines)",
        arguments: [
            (Int64(0), "1970-01-01T00:00:00.000000Z"),
            (1_700_000_000_000_001, "2023-11-14T22:13:20.000001Z"),
            (1_700_000_000_999_999, "2023-11-14T22:13:20.999999Z"),
            (1_774_825_200_000_000, "2026-03-29T23:00:00.000000Z"),
            (-1, "1969-12-31T23:59:59.999999Z"),
        ])
    func microsecondsZ(_ row: (Int64, String)) {
        #expect(UTCTime.microsecondsZ(row.0) == row.1)
    }

    /// The formatter replaced four that called glibc's `gmtime_r` and printed with `%04d`: over
    /// the whole Int64 range it must say what they said.
    @Test("agrees with gmtime_r and %04d over the whole range")
    func agreesWithGmtime() {
        var generator = SplitMix(seed: 19)
        var samples: [Int64] = [Int64.min, Int64.max, 0, -1, 1]
        for _ in 0..<20_000 { samples.append(Int64(bitPattern: generator.next())) }
        for _ in 0..<20_000 { samples.append(Int64(bitPattern: generator.next()) % 8_000_000_000_000_000) }
        var mismatches: [String] = []
        for micros in samples {
            let seconds = micros / 1_000_000 - (micros % 1_000_000 < 0 ? 1 : 0)
            var time = time_t(seconds)
            var parts = tm()
            guard gmtime_r(&time, &parts) != nil else { continue }
            let expected =
                pad(Int(parts.tm_year) + 1900, 4) + "-" + pad(Int(parts.tm_mon) + 1, 2) + "-" + pad(Int(parts.tm_mday), 2) + "T"
                + pad(Int(parts.tm_hour), 2) + ":" + pad(Int(parts.tm_min), 2) + ":" + pad(Int(parts.tm_sec), 2) + "+00:00"
            if UTCTime.seconds(micros) != expected { mismatches.append("\(micros): \(UTCTime.seconds(micros)) != \(expected)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    /// `%0Nd`.
    private func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(abs(value))
        let padding = String(repeating: "0", count: max(0, width - digits.count - (value < 0 ? 1 : 0)))
        return (value < 0 ? "-" : "") + padding + digits
    }
}
