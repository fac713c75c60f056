import CheckCatalog
import Foundation
import Monitoring

extension Alert {
    /// The alerts a flip causes: one per channel of the check (its named channels, or all of its
    /// project's) whose `on:` includes the direction. None for flips that do not notify
    /// (`new→up`, `paused→up`), for flips to `paused` or `new`, or for a check paused in config.
    /// A flip marked with maintenance or down dependencies gives held alerts (SPEC §14).
    public static func alerts(
        for flip: Flip, of check: UUID, definition: CheckDefinition, project: Project?, lastPing: Ping?, now: Int64
    ) -> [Alert] {
        guard flip.notifies, !definition.paused, let project else { return [] }
        let direction: Channel.Direction
        switch flip.new {
        case .down: direction = .down
        case .up: direction = .up
        case .new, .paused: return []
        }
        var channels: [Channel]
        switch definition.channels {
        case .all: channels = project.channels
        case .named(let names): channels = names.compactMap { project.channel(named: $0) }
        }
        channels.removeAll { !$0.on.contains(direction) }
        // Most checks of a large installation may have no channel: no values to build then.
        guard !channels.isEmpty else { return [] }
        let values = AlertValues(
            of: definition, check: check, project: project, direction: direction, at: flip.time,
            lastPing: lastPing.map { ($0.time, $0.exitStatus, $0.body) })
        return channels.map { channel in
            Alert(
                check: check, project: project.id, channel: channel.name, direction: direction, flipTime: flip.time, created: now, values: values,
                hold: flip.hold)
        }
    }

    /// A test notification through `channel` (`kiothc notify`, the dashboard's "send test"):
    /// about a check when one is given, else about a stand-in (named "Test notification", with a
    /// UUID of its own, so a pager's incident for it is not the incident of a real check).
    public static func test(
        through channel: Channel, of project: Project, check: (uuid: UUID, definition: CheckDefinition, lastPing: Int64?)?, now: Int64
    ) -> Alert {
        let values: AlertValues
        let uuid = check?.uuid ?? UUID()
        if let check {
            values = AlertValues(
                of: check.definition, check: uuid, project: project, direction: .down, at: now, lastPing: check.lastPing.map { ($0, nil, nil) })
        } else {
            values = AlertValues(
                name: "Test notification", slug: "", code: uuid.uuidString.lowercased(), status: "down", now: UTCTime.secondsZ(now), tags: "",
                project: project.name, exitStatus: "", body: "")
        }
        return Alert(check: uuid, project: project.id, channel: channel.name, direction: .down, flipTime: now, created: now, values: values, test: true)
    }

    /// `every 1 day, grace 1 hour`; `0 2 * * * (Europe/Riga), grace 30 minutes`.
    static func scheduleText(_ definition: CheckDefinition) -> String {
        let grace = "grace \(TimeText.duration(definition.grace))"
        switch definition.expectation {
        case .timeout(let seconds): return "every \(TimeText.duration(seconds)), \(grace)"
        case .schedule(let schedule): return "\(schedule.expression) (\(definition.tz)), \(grace)"
        }
    }
}

extension AlertValues {
    /// The values of a check's alert: its definition, the flip's direction and time, the last
    /// ping (its time, exit status and body).
    init(
        of definition: CheckDefinition, check: UUID, project: Project, direction: Channel.Direction, at time: Int64,
        lastPing: (time: Int64, exitStatus: Int?, body: String?)?
    ) {
        self.init(
            name: definition.name, slug: definition.slug, code: check.uuidString.lowercased(), status: direction.rawValue,
            now: UTCTime.secondsZ(time), tags: definition.tags.joined(separator: " "), project: project.name,
            exitStatus: lastPing?.exitStatus.map { String($0) } ?? "", body: lastPing?.body ?? "",
            schedule: Alert.scheduleText(definition), lastPing: lastPing.map { UTCTime.secondsZ($0.time) } ?? "")
    }
}

extension Flip {
    /// What holds this flip's alerts back, from its marks; nil for most flips.
    public var hold: AlertHold? {
        maintenance || !suppressedBy.isEmpty ? AlertHold(maintenance: maintenance, dependencies: suppressedBy) : nil
    }
}
