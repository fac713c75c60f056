import Foundation
import Testing
@testable import CheckCatalog

/// `status_page:` of a project (issue 26): opt-in, a boolean, nothing else.
@Suite("Status page config")
struct StatusPageConfigTests {
    @Test("status_page: true opts a project in; absent or false leaves it out")
    func optIn() throws {
        let config = try TempConfig([
            "a.yaml": """
                projects:
                  ops: {status_page: true}
                  web: {status_page: false}
                  dev: {}
                checks:
                  job: {project: ops}
                """
        ])
        let result = try config.load()
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map(\.message))")
        let pages = Dictionary(uniqueKeysWithValues: result.catalog.projects.map { ($0.id, $0.statusPage) })
        #expect(pages == ["ops": true, "web": false, "dev": false])
    }

    @Test(
        "a status_page that is not true or false is an error at its position, naming the project and the value",
        arguments: [
            ("yes", "'status_page' of project 'ops' must be true or false, not"),
            ("1", "'status_page' of project 'ops' must be true or false, not"),
            ("\"true\"", "'status_page' of project 'ops' must be true or false, not"),
            ("[true]", "'status_page' of project 'ops' must be true or false, not"),
        ])
    func notBoolean(value: String, message: String) throws {
        let config = try TempConfig(["a.yaml": "projects:\n  ops:\n    status_page: \(value)\n"])
        let result = try config.load()
        let errors = result.diagnostics.filter { $0.severity == .error }
        #expect(errors.count == 1)
        #expect(errors.first?.message.hasPrefix(message) == true, "\(errors.map(\.message))")
        #expect(errors.first?.code == .typeMismatch)
        #expect(errors.first?.location.line == 3 && errors.first?.location.column == 18)
        #expect(result.catalog.projects.first { $0.id == "ops" }?.statusPage != true)
    }

    @Test("a misspelt status_page is an unknown key with a suggestion")
    func misspelt() throws {
        let config = try TempConfig(["a.yaml": "projects:\n  ops:\n    status_pages: true\n"])
        let result = try config.load()
        #expect(result.diagnostics.contains { $0.message.contains("status_page") && $0.severity == .error }, "\(result.diagnostics.map(\.message))")
    }
}
