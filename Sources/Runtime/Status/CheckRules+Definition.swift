import CheckCatalog
import Foundation
import Monitoring

extension CheckRules {
    /// The status rules of a check definition.
    public init(_ definition: CheckDefinition) {
        let expectation: Expectation
        switch definition.expectation {
        case .timeout(let seconds): expectation = .timeout(microseconds: Int64(seconds) * 1_000_000)
        case .schedule(let schedule): expectation = .schedule(schedule)
        }
        self.init(
            expectation: expectation, grace: Int64(definition.grace) * 1_000_000,
            timeZone: TimeZoneDatabase.zone(named: definition.tz) ?? TimeZone(identifier: "UTC") ?? .gmt,
            manualResume: definition.manualResume, paused: definition.paused)
    }
}
