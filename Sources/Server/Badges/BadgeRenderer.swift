import Monitoring
import Runtime

/// What a badge says: up, late (three-state badges only) or down.
enum BadgeStatus: String, Sendable {
    case up, late, down

    /// The badge colour: shields.io's bright green, orange and red.
    var color: String {
        switch self {
        case .up: "#4c1"
        case .late: "#fe7d37"
        case .down: "#e05d44"
        }
    }

    /// The colour name of a shields.io endpoint badge.
    var shieldsColor: String {
        switch self {
        case .up: "success"
        case .late: "important"
        case .down: "critical"
        }
    }
}

/// The checks a badge covers, counted as Healthchecks counts them (its `badge` view): a down
/// check makes the badge down; else a check in its grace period makes a three-state badge
/// late (a two-state one stays up); new and paused checks count as up.
struct BadgeTally: Sendable, Equatable {
    var total = 0
    var grace = 0
    var down = 0

    init(total: Int = 0, grace: Int = 0, down: Int = 0) {
        self.total = total
        self.grace = grace
        self.down = down
    }

    init(_ statuses: some Sequence<CheckView.Status>) {
        for status in statuses { add(status) }
    }

    mutating func add(_ status: CheckView.Status) {
        total += 1
        switch status {
        case .down: down += 1
        case .grace: grace += 1
        case .new, .up, .paused: break
        }
    }

    func status(threeState: Bool) -> BadgeStatus {
        if down > 0 { return .down }
        if grace > 0 && threeState { return .late }
        return .up
    }
}

/// The three formats of a badge: an SVG image, Healthchecks' JSON and a shields.io endpoint.
enum BadgeRenderer {
    /// `{"status", "total", "grace", "down"}`.
    static func json(_ tally: BadgeTally, threeState: Bool) -> JSONValue {
        .object([
            ("status", .string(tally.status(threeState: threeState).rawValue)),
            ("total", .int(tally.total)),
            ("grace", .int(tally.grace)),
            ("down", .int(tally.down)),
        ])
    }

    /// shields.io's endpoint schema, version 1.
    static func shields(label: String, _ status: BadgeStatus) -> JSONValue {
        .object([
            ("schemaVersion", .int(1)),
            ("label", .string(label)),
            ("message", .string(status.rawValue)),
            ("color", .string(status.shieldsColor)),
        ])
    }

    /// A flat 20-pixel badge: the label on grey, the status on its colour, each part as wide as
    /// its text is estimated to be in 11-pixel Verdana plus 5 pixels either side.
    static func svg(label: String, _ status: BadgeStatus) -> String {
        let left = textWidth(label) + 10
        let right = textWidth(status.rawValue) + 10
        let width = left + right
        let labelX = number(Double(left) / 2)
        let statusX = number(Double(left) + Double(right) / 2)
        let text = HTMLText.escape(label)
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="20" role="img" aria-label="\(text): \(status.rawValue)">
              <title>\(text): \(status.rawValue)</title>
              <linearGradient id="shine" x2="0" y2="100%">
                <stop offset="0" stop-color="#bbb" stop-opacity=".1"/>
                <stop offset="1" stop-opacity=".1"/>
              </linearGradient>
              <clipPath id="corners"><rect width="\(width)" height="20" rx="3"/></clipPath>
              <g clip-path="url(#corners)">
                <rect width="\(left)" height="20" fill="#555"/>
                <rect x="\(left)" width="\(right)" height="20" fill="\(status.color)"/>
                <rect width="\(width)" height="20" fill="url(#shine)"/>
              </g>
              <g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">
                <text x="\(labelX)" y="15" fill="#010101" fill-opacity=".3">\(text)</text>
                <text x="\(labelX)" y="14">\(text)</text>
                <text x="\(statusX)" y="15" fill="#010101" fill-opacity=".3">\(status.rawValue)</text>
                <text x="\(statusX)" y="14">\(status.rawValue)</text>
              </g>
            </svg>

            """
    }

    /// The text's width in pixels, by rough Verdana 11px advance widths: thin, narrow, wide and
    /// widest letters; 7 for the rest (digits, most lower-case, anything unknown).
    static func textWidth(_ text: String) -> Int {
        text.reduce(0) { total, character in
            let width: Int
            switch character {
            case "i", "j", "l", "I", ".", ",", ":", ";", "'", "!", "|", " ": width = 3
            case "f", "r", "t", "J", "-", "(", ")", "[", "]", "/": width = 4
            case "c", "s", "x", "z", "k", "F", "L", "P", "_", "*": width = 6
            case "A", "C", "D", "H", "N", "U", "V": width = 8
            case "G", "O", "Q", "w": width = 9
            case "m", "M": width = 10
            case "W": width = 11
            default: width = 7
            }
            return total + width
        }
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
