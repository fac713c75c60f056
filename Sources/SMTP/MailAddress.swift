/// A mailbox: `local@domain`, with an optional display name (`Ops Team <ops@example.com>`).
///
/// The address is checked simply (a dot-atom local part, an ASCII domain of letters, digits and
/// hyphens), which is also what keeps it safe in SMTP commands and headers: it cannot hold a
/// space, '<', '>' or a line break. The display name may hold any text; control characters in
/// it (CR and LF included) become spaces, and the renderer encodes it (RFC 2047) when needed.
public struct MailAddress: Sendable, Hashable, CustomStringConvertible {
    public let address: String
    public let displayName: String?

    public init(_ address: String, displayName: String? = nil) throws(InvalidMailAddress) {
        if let reason = Self.problem(address) {
            throw InvalidMailAddress(address: address, reason: reason)
        }
        self.address = address
        let name = displayName.map { HeaderText.withoutControlCharacters($0).trimmingSpaces }
        self.displayName = (name?.isEmpty ?? true) ? nil : name
    }

    /// The part after '@' (the domain of the Message-ID of mail from this address).
    public var domain: Substring {
        address[address.index(after: address.lastIndex(of: "@")!)...]
    }

    /// `Name <local@domain>` or `local@domain`, as people read it (not encoded).
    public var description: String {
        displayName.map { "\($0) <\(address)>" } ?? address
    }

    private static let atomSymbols = Set("!#$%&'*+-/=?^_`{|}~".utf8)

    private static func problem(_ address: String) -> String? {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return "it must have the form local@domain, with one '@'" }
        let (local, domain) = (parts[0].utf8, parts[1].utf8)
        guard address.utf8.count <= 254 else { return "it is longer than 254 characters" }
        guard !local.isEmpty, local.count <= 64 else { return "the part before '@' must be 1 to 64 characters" }
        let localAllowed = local.allSatisfy { $0.isASCIILetterOrDigit || $0 == UInt8(ascii: ".") || atomSymbols.contains($0) }
        guard localAllowed, local.first != UInt8(ascii: "."), local.last != UInt8(ascii: "."), !parts[0].contains("..") else {
            return "the part before '@' may hold only letters, digits, dots (not first, last or doubled) and !#$%&'*+-/=?^_`{|}~"
        }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        let domainAllowed = !domain.isEmpty && labels.allSatisfy { label in
            (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
                && label.utf8.allSatisfy { $0.isASCIILetterOrDigit || $0 == UInt8(ascii: "-") }
        }
        guard domainAllowed else { return "the domain must be labels of ASCII letters, digits and hyphens separated by dots" }
        return nil
    }
}

/// An address that `MailAddress` refuses, and why.
public struct InvalidMailAddress: Error, Sendable, Equatable, CustomStringConvertible {
    /// The address as given, control characters shown as '?'.
    public let address: String
    public let reason: String

    init(address: String, reason: String) {
        self.address = String(HeaderText.withoutControlCharacters(address, replacement: "?").prefix(300))
        self.reason = reason
    }

    public var description: String { "invalid email address '\(address)': \(reason)" }
}

extension UInt8 {
    var isASCIILetterOrDigit: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self | 0x20) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}
