import Foundation
import Testing

@testable import CheckCatalog

@Suite("kind: email in configuration")
struct EmailChannelConfigTests {
    func load(_ channels: String) throws -> LoadResult {
        let config = try TempConfig(["ops.yaml": "projects:\n  ops:\n    channels:\n" + channels + "checks:\n  backup: {project: ops}\n"])
        return try config.load()
    }

    @Test("to as a list or one address, cc optional, on: like other kinds")
    func good() throws {
        let result = try load(
            """
                  mail: {kind: email, to: [ops@example.com, "zoe.o'neil+alerts@sub.example.org"], cc: lead@example.com, on: [down]}
                  single: {kind: email, to: oncall@example.com}

            """)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map(\.message))")
        let project = try #require(result.catalog.project("ops"))
        guard case .email(let mail) = project.channel(named: "mail")?.kind, case .email(let single) = project.channel(named: "single")?.kind else {
            Issue.record("both are email channels")
            return
        }
        #expect(mail.to == ["ops@example.com", "zoe.o'neil+alerts@sub.example.org"])
        #expect(mail.cc == ["lead@example.com"])
        #expect(project.channel(named: "mail")?.on == [.down])
        #expect(single.to == ["oncall@example.com"])
        #expect(single.cc.isEmpty)
        #expect(project.channel(named: "mail")?.kindName == "email")
    }

    @Test("bad addresses, a missing or empty to:, unknown keys: each an error at its position")
    func bad() throws {
        let result = try load(
            """
                  a: {kind: email}
                  b: {kind: email, to: []}
                  c: {kind: email, to: [ops@example.com, "Ops <ops@example.com>", "x@localhost", "a@b..c", "evil@example.com\\r\\nBcc: x@y.z"]}
                  d: {kind: email, to: ops@example.com, subject: hi}
                  e: {kind: emial, to: ops@example.com}

            """)
        let errors = result.diagnostics.map { "\($0.location.line):\($0.location.column) \($0.message)" }
        let address = "is not an email address; write it as name@example.com, without a display name"
        #expect(
            errors == [
                "4:7 channel 'a' of project 'ops' needs 'to', the addresses to write to (a list, or one address)",
                "5:28 'to' of channel 'b' of project 'ops' lists no address",
                "6:46 'Ops <ops@example.com>' in 'to' of channel 'c' of project 'ops' \(address)",
                "6:71 'x@localhost' in 'to' of channel 'c' of project 'ops' \(address)",
                "6:86 'a@b..c' in 'to' of channel 'c' of project 'ops' \(address)",
                "6:96 'evil@example.com\r\nBcc: x@y.z' in 'to' of channel 'c' of project 'ops' \(address)",
                "7:45 unknown key 'subject' in channel 'd' of project 'ops'",
                "8:17 unknown channel kind 'emial' in channel 'e' of project 'ops'; kinds are webhook, command, email, slack, discord, mattermost, msteams, telegram, ntfy, pushover, gotify, matrix, pagerduty, opsgenie",
            ])
        #expect(result.diagnostics.last?.notes.first?.message == "did you mean 'email'?")
    }

    @Test("addresses the configuration accepts, and ones it refuses")
    func addresses() {
        for good in ["a@example.com", "first.last+tag@mail.example.co.uk", "x_y-z@example-1.com", "!#$%&'*+-/=?^_`{|}~@example.com"] {
            #expect(EmailAddress.isValid(good), "\(good)")
        }
        for bad in [
            "", "@example.com", "a@", "a@example", "a b@example.com", "a@exa mple.com", ".a@example.com", "a.@example.com", "a..b@example.com",
            "a@-@example.com", "<a@example.com>", "a@example.com>", "a@[127.0.0.1]", "\"quoted\"@example.com", "é@example.com",
            "a@example.com\r\n", String(repeating: "a", count: 65) + "@example.com", "a@" + String(repeating: "b", count: 250) + ".com",
        ] {
            #expect(!EmailAddress.isValid(bad), "\(bad)")
        }
    }
}
