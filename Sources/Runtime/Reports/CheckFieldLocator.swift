import CheckCatalog
import Foundation
import YAMLParser

/// Where a field of a check is written (`name:`, `uuid:`), found by reading its file again: a
/// loaded catalog keeps where each check is declared, not each of its fields. For the
/// `--format github` plan, whose annotations point at the line a reviewer changed.
struct CheckFieldLocator {
    private var documents: [String: Node?] = [:]

    /// The position of `field`'s key in the check declared at `check` (its key's position), or
    /// nil when the check does not write the field (or the file cannot be read again).
    mutating func locate(_ field: String, of check: Diagnostic.Location) -> Diagnostic.Location? {
        if documents[check.file] == nil {
            let bytes = FileManager.default.contents(atPath: check.file).map { [UInt8]($0) }
            documents[check.file] = bytes.flatMap { YAMLParser.parse($0).root }
        }
        guard let root = documents[check.file] ?? nil, let value = Self.value(of: check, in: root),
              case .mapping(let fields) = value.content else { return nil }
        for pair in fields {
            if case .scalar(let scalar) = pair.key.content, scalar.text == field {
                return Diagnostic.Location(file: check.file, line: pair.key.mark.line, column: pair.key.mark.column)
            }
        }
        return nil
    }

    /// The value of the mapping pair whose key sits at `check`, anywhere in the document.
    private static func value(of check: Diagnostic.Location, in node: Node) -> Node? {
        switch node.content {
        case .mapping(let pairs):
            for pair in pairs {
                if pair.key.mark.line == check.line && pair.key.mark.column == check.column { return pair.value }
                if let found = value(of: check, in: pair.value) { return found }
            }
        case .sequence(let items):
            for item in items { if let found = value(of: check, in: item) { return found } }
        case .scalar, .invalid:
            break
        }
        return nil
    }
}
