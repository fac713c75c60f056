import ArgumentParser

struct SlugCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "slug", abstract: "Print the slug of each name.")
    func run() async throws {}
}
