import ArgumentParser
import Foundation
import Monitoring

struct SlugCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slug",
        abstract: "Print the slug of each name, as slug ping URLs use it.",
        discussion: """
            The slug is Django's slugify(name), exactly as Healthchecks computes it: accents \
            are dropped, letters lower-cased, symbols removed, spaces and dashes collapsed.

            Examples:
              kiothc slug "Database Backup"            # database-backup
              kiothc slug --format json "Café  Backup!" "__x__"
            """
    )

    @Option(name: .long, help: "Output format: text (one slug per line) or json ([{\"name\", \"slug\"}]).")
    var format: SlugFormat = .text

    @Argument(help: "The check names to slugify.")
    var names: [String]

    func validate() throws {
        if names.isEmpty { throw ValidationError("give at least one name, e.g. kiothc slug \"Database Backup\"") }
    }

    func run() throws {
        switch format {
        case .text:
            Terminal.write(names.map { Slug.slugify($0) + "\n" }.joined())
        case .json:
            struct Entry: Encodable {
                let name: String
                let slug: String
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(names.map { Entry(name: $0, slug: Slug.slugify($0)) })
            Terminal.write(String(decoding: data, as: UTF8.self) + "\n")
        }
    }
}

enum SlugFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}
