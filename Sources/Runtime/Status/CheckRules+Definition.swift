import CheckCatalog
import Foundation
import Monitoring

extension CheckRules {
    /// The status rules of a check definition. `timeScale` > 1 divides every duration and runs
    /// schedules that much faster (test only: `KIOTHC_TEST_TIME_SCALE`, so end-to-end tests need
    /// not wait minutes).
    public init(_ definition: CheckDefinition, timeScale: Int64 = 1) {
        let scale = max(1, timeScale)
        let expectation: Expectation
        switch definition.expectation {
        case .timeout(let seconds): expectation = .timeout(microseconds: Int64(seconds) * 1_000_000 / scale)
        case .schedule(let schedule): expectation = .schedule(schedule)
        }
        self.init(
            expectation: expectation, grace: Int64(definition.grace) * 1_000_000 / scale,
            timeZone: TimeZoneDatabase.zone(named: definition.tz) ?? TimeZone(identifier: "UTC") ?? .gmt,
            manualResume: definition.manualResume, paused: definition.paused)
        scheduleTimeScale = scale
    }
}
