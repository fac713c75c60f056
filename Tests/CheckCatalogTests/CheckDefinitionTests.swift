import Foundation
import Monitoring
import Testing
@testable import CheckCatalog

/// A definition is a value, though its fields live in a box its copies share.
@Suite("Check definition")
struct CheckDefinitionTests {
    private let original = CheckDefinition(
        id: CheckIdentity(project: "ops", key: "backup"), name: "Nightly Backup", expectation: .timeout(seconds: 3_600), grace: 300,
        tz: "UTC", tags: ["db"], desc: "nightly", methods: .any, manualResume: false, paused: false, channels: .all,
        location: Diagnostic.Location(file: "a.yaml", line: 3, column: 3))

    @Test("a copy changed in any field leaves the original as it was, and no longer has the same settings when a setting changed")
    func copiesAreValues() {
        let changes: [(String, (inout CheckDefinition) -> Void)] = [
            ("id", { $0.id = CheckIdentity(project: "ops", key: "other") }),
            ("name", { $0.name = "Other" }),
            ("slug", { $0.slug = "other" }),
            ("expectation", { $0.expectation = .timeout(seconds: 60) }),
            ("grace", { $0.grace = 1 }),
            ("tz", { $0.tz = "Europe/Riga" }),
            ("tags", { $0.tags.append("web") }),
            ("desc", { $0.desc = "" }),
            ("methods", { $0.methods = .post }),
            ("manualResume", { $0.manualResume = true }),
            ("paused", { $0.paused = true }),
            ("channels", { $0.channels = .named(["hook"]) }),
            ("location", { $0.location = Diagnostic.Location(file: "b.yaml", line: 1, column: 1) }),
            ("pinnedUUID", { $0.pinnedUUID = UUID() }),
            ("dependsOn", { $0.dependsOn = [CheckIdentity(project: "ops", key: "db")] }),
        ]
        let settingFields: Set = ["expectation", "grace", "tz", "tags", "desc", "methods", "manualResume", "paused", "channels", "dependsOn"]
        for (field, change) in changes {
            var copy = original
            #expect(copy.hasSameSettings(as: original))
            change(&copy)
            #expect(original.id.key == "backup" && original.name == "Nightly Backup" && original.slug == "nightly-backup", "\(field)")
            #expect(original.tags == ["db"] && original.grace == 300 && original.tz == "UTC" && original.desc == "nightly", "\(field)")
            #expect(original.methods == .any && !original.manualResume && !original.paused && original.channels == .all, "\(field)")
            #expect(original.location.file == "a.yaml" && original.pinnedUUID == nil && original.dependsOn.isEmpty, "\(field)")
            // A timeout's tz is not a printed setting: the copy still prints the same.
            let printsDifferently = settingFields.contains(field) && field != "tz"
            #expect(copy.hasSameSettings(as: original) == !printsDifferently, "\(field)")
            #expect((copy.settings == original.settings) == !printsDifferently, "\(field)")
        }
    }
}
