import Foundation
import Testing

@testable import CheckCatalog

/// Channels of the integration kinds (SPEC §12): what each decodes to, and each kind of bad
/// input reported where it is written.
@Suite("Integration channels in config")
struct IntegrationConfigTests {
    /// The channels of project `ops` in a file whose channel entries are `channels`, indented
    /// under `channels:`: the first entry's name is at 4:7.
    func load(_ channels: String) throws -> (LoadResult, Project?) {
        let indented = channels.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "      " + $0 }.joined(separator: "\n")
        let config = try TempConfig(["p.yaml": "projects:\n  ops:\n    channels:\n" + indented + "\n"])
        let result = try config.load()
        return (result, result.catalog.project("ops"))
    }

    /// `line:column code` of each diagnostic.
    func positions(_ result: LoadResult) -> [String] {
        result.diagnostics.map { "\($0.location.line):\($0.location.column) \($0.code.rawValue)" }
    }

    func channel(_ project: Project?, _ name: String) throws -> Integration {
        let channel = try #require(project?.channels.first { $0.name == name })
        guard case .integration(let integration) = channel.kind else {
            Issue.record("channel '\(name)' is not an integration")
            throw CancellationError()
        }
        return integration
    }

    @Test("every kind's good config decodes to its fields, with defaults where nothing is written")
    func goodConfig() throws {
        let (result, project) = try load(
            """
            slack: {kind: slack, url: "https://hooks.slack.com/services/T0/B0/x"}
            discord: {kind: discord, url: {env: DISCORD_URL}}
            mattermost: {kind: mattermost, url: {file: /run/secrets/mm}, on: [down]}
            teams: {kind: msteams, url: "https://prod.westeurope.logic.azure.com/workflows/1/triggers/manual/paths/invoke?sig=x"}
            telegram: {kind: telegram, bot_token: {env: TG_TOKEN}, chat_id: -1001234, thread_id: 7}
            telegram2: {kind: telegram, bot_token: "123:abc", chat_id: "@ops_alerts", api_url: "http://127.0.0.1:9000"}
            ntfy: {kind: ntfy, url: "https://ntfy.sh/backups", priority: {down: max, up: 2}, token: {env: NTFY_TOKEN}}
            ntfy2: {kind: ntfy, url: "https://ntfy.example.com/a/topic", username: ops, password: {file: /run/ntfy}}
            pushover: {kind: pushover, token: {env: PO_APP}, user_key: {env: PO_USER}, priority: 2, retry: 1m, expire: 2h, sound: siren, device: phone}
            gotify: {kind: gotify, url: "https://gotify.example.com", token: {env: GOTIFY}}
            matrix: {kind: matrix, homeserver: "https://matrix.example.org", room: "!abc:example.org", access_token: {env: MX}}
            pd: {kind: pagerduty, routing_key: {env: PD_KEY}, severity: warning}
            og: {kind: opsgenie, api_key: {env: OG_KEY}, region: eu, priority: P2}
            og2: {kind: opsgenie, api_key: k, api_url: "http://127.0.0.1:1"}
            """)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map(\.message))")
        let names = try #require(project).channels.map { "\($0.name):\($0.kindName)" }
        #expect(
            names == [
                "slack:slack", "discord:discord", "mattermost:mattermost", "teams:msteams", "telegram:telegram", "telegram2:telegram", "ntfy:ntfy",
                "ntfy2:ntfy", "pushover:pushover", "gotify:gotify", "matrix:matrix", "pd:pagerduty", "og:opsgenie", "og2:opsgenie",
            ])
        #expect(project?.channels.first { $0.name == "mattermost" }?.on == [.down])

        guard case .discord(let discordURL) = try channel(project, "discord") else { throw Failure("discord") }
        #expect(discordURL.source == .env("DISCORD_URL"))
        guard case .telegram(let token, let chat, let thread, let api) = try channel(project, "telegram") else { throw Failure("telegram") }
        #expect(token.source == .env("TG_TOKEN") && chat == "-1001234" && thread == 7 && api == nil)
        guard case .telegram(_, let chat2, let thread2, let api2) = try channel(project, "telegram2") else { throw Failure("telegram2") }
        #expect(chat2 == "@ops_alerts" && thread2 == nil && api2 == "http://127.0.0.1:9000")
        guard case .ntfy(_, let priority, .token(let ntfyToken)?) = try channel(project, "ntfy") else { throw Failure("ntfy") }
        #expect(priority == PerDirection(down: 5, up: 2))
        #expect(ntfyToken.source == .env("NTFY_TOKEN"))
        guard case .ntfy(_, let priority2, .basic("ops", let password)?) = try channel(project, "ntfy2") else { throw Failure("ntfy2") }
        #expect(priority2 == PerDirection(down: 4, up: 3))
        #expect(password.source == .file("/run/ntfy"))
        guard case .pushover(_, let user, let poPriority, let retry, let expire, let sound, let device, nil) = try channel(project, "pushover") else {
            throw Failure("pushover")
        }
        #expect(user.source == .env("PO_USER"))
        #expect(poPriority == PerDirection(down: 2, up: 2) && retry == 60 && expire == 7_200 && sound == "siren" && device == "phone")
        guard case .gotify(let gotifyURL, _, let gotifyPriority) = try channel(project, "gotify") else { throw Failure("gotify") }
        #expect(gotifyURL == "https://gotify.example.com" && gotifyPriority == PerDirection(down: 8, up: 5))
        guard case .matrix(let homeserver, let room, _) = try channel(project, "matrix") else { throw Failure("matrix") }
        #expect(homeserver == "https://matrix.example.org" && room == "!abc:example.org")
        guard case .pagerduty(_, .warning, nil) = try channel(project, "pd") else { throw Failure("pd") }
        guard case .opsgenie(_, .eu, "P2", nil) = try channel(project, "og") else { throw Failure("og") }
        guard case .opsgenie(_, .us, nil, "http://127.0.0.1:1") = try channel(project, "og2") else { throw Failure("og2") }
    }

    @Test("every credential is in the project's secrets, so kiothc check reports the ones that cannot be resolved")
    func secretsAreChecked() throws {
        let (result, project) = try load(
            """
            discord: {kind: discord, url: {env: DISCORD_URL}}
            telegram: {kind: telegram, bot_token: {env: TG_TOKEN}, chat_id: 1}
            ntfy: {kind: ntfy, url: {env: NTFY_URL}, username: u, password: {env: NTFY_PASSWORD}}
            pushover: {kind: pushover, token: {env: PO_APP}, user_key: {file: /nonexistent/po-user}}
            gotify: {kind: gotify, url: "https://g.example.com", token: {env: GOTIFY}}
            matrix: {kind: matrix, homeserver: "https://m.example.org", room: "!a:m.example.org", access_token: {env: MX}}
            pd: {kind: pagerduty, routing_key: {env: PD_KEY}}
            og: {kind: opsgenie, api_key: {env: OG_KEY}}
            """)
        #expect(result.diagnostics.isEmpty)
        let references = try #require(project).secrets.map(\.reference)
        #expect(
            references == [
                "environment variable 'DISCORD_URL'", "environment variable 'TG_TOKEN'", "environment variable 'NTFY_URL'",
                "environment variable 'NTFY_PASSWORD'", "environment variable 'PO_APP'", "file '/nonexistent/po-user'", "environment variable 'GOTIFY'",
                "environment variable 'MX'", "environment variable 'PD_KEY'", "environment variable 'OG_KEY'",
            ])
        let missing = SecretResolver(environment: ["TG_TOKEN": "1:x"]).check(result.catalog)
        #expect(missing.map(\.code) == Array(repeating: .missingSecret, count: 9))
        #expect(missing.map(\.location.line) == [4, 6, 6, 7, 7, 8, 9, 10, 11])
    }

    @Test("a missing field is reported at the channel's name, saying what to write")
    func missingFields() throws {
        let (result, project) = try load(
            """
            slack: {kind: slack}
            telegram: {kind: telegram, bot_token: "1:x"}
            pushover: {kind: pushover}
            matrix: {kind: matrix, homeserver: "https://m.example.org"}
            pd: {kind: pagerduty}
            ntfy: {kind: ntfy, url: "https://ntfy.sh/x", username: ops}
            """)
        #expect(
            positions(result) == [
                "4:7 missing-key", "5:7 missing-key", "6:7 missing-key", "6:7 missing-key", "7:7 missing-key", "7:7 missing-key",
                "8:7 missing-key", "9:52 missing-key",
            ])
        #expect(result.diagnostics[0].message == "channel 'slack' of project 'ops' needs 'url', the incoming webhook URL (https://hooks.slack.com/services/…)")
        #expect(result.diagnostics[1].message == "channel 'telegram' of project 'ops' needs 'chat_id', the chat's id (a number, negative for groups) or @channelname")
        #expect(result.diagnostics.map(\.message).contains("channel 'matrix' of project 'ops' needs 'room', the room ID, e.g. '!abcdef:example.org'"))
        #expect(result.diagnostics.last?.message == "channel 'ntfy' of project 'ops' has 'username' but no 'password'")
        // A channel with a problem is left out; the rest of the file still loads.
        #expect(project?.channels.isEmpty == true)
    }

    @Test("wrong types, bad priorities, bad URLs and bad choices are reported at the value")
    func badValues() throws {
        let (result, _) = try load(
            """
            a: {kind: slack, url: "hooks.slack.com/services/x"}
            b: {kind: telegram, bot_token: [x], chat_id: ops, thread_id: "7"}
            c: {kind: ntfy, url: "https://ntfy.sh/", priority: 6}
            d: {kind: ntfy, url: "https://ntfy.sh/t", priority: {down: urgent, up: loud, left: 1}}
            e: {kind: pushover, token: t, user_key: u, priority: 3, retry: 10s}
            f: {kind: gotify, url: "ftp://g.example.com", token: t, priority: -1}
            g: {kind: matrix, homeserver: "https://m.example.org", room: "#ops:example.org", access_token: t}
            h: {kind: pagerduty, routing_key: "", severity: critcal}
            i: {kind: opsgenie, api_key: k, region: de, priority: p1, api_url: "api.opsgenie.com"}
            j: {kind: telegram, bot_token: "1:x", chat_id: 5, api_url: 7}
            """)
        #expect(
            positions(result) == [
                "4:29 invalid-value",
                "5:38 type-mismatch", "5:52 invalid-value", "5:68 type-mismatch",
                "6:28 invalid-value", "6:58 invalid-value",
                "7:78 invalid-value", "7:84 unknown-key",
                "8:60 invalid-value", "8:70 out-of-range",
                "9:30 invalid-value", "9:73 invalid-value",
                "10:68 invalid-value",
                "11:41 invalid-value", "11:55 invalid-value",
                "12:47 invalid-value", "12:61 invalid-value", "12:74 invalid-value",
                "13:66 invalid-value",
            ], "\(result.diagnostics.map(\.message))")
        let messages = result.diagnostics.map(\.message)
        #expect(messages[0] == "'url' of channel 'a' of project 'ops' must be an http:// or https:// URL, not 'hooks.slack.com/services/x'")
        #expect(messages[1] == "'bot_token' of channel 'b' of project 'ops' must be a string, {env: NAME} or {file: PATH}, not a list")
        #expect(messages[3] == "'thread_id' of channel 'b' of project 'ops' must be an integer, not '7'")
        #expect(messages[4] == "'url' of channel 'c' of project 'ops' has no topic: write the topic's URL, e.g. https://ntfy.sh/backups")
        #expect(messages[5] == "'priority' of channel 'c' of project 'ops' must be 1 to 5 or min, low, default, high, max, not '6'")
        #expect(messages[6] == "'priority' for up of channel 'd' of project 'ops' must be 1 to 5 or min, low, default, high, max, not 'loud'")
        #expect(messages[8] == "'priority' of channel 'e' of project 'ops' must be -2 to 2, not '3'")
        #expect(messages[12] == "'room' of channel 'g' of project 'ops' must be a room ID, not '#ops:example.org'")
        #expect(result.diagnostics[12].notes.first?.message == "'#ops:example.org' is an alias; messages are sent to the room's ID")
        #expect(messages[13] == "'routing_key' of channel 'h' of project 'ops' is empty")
        #expect(messages[14] == "'severity' of channel 'h' of project 'ops' must be one of critical, error, warning, info, not 'critcal'")
        #expect(result.diagnostics[14].notes.first?.message == "did you mean 'critical'?")
        #expect(result.diagnostics[16].notes.first?.message == "did you mean 'P1'?")
        #expect(messages[18] == "'api_url' of channel 'j' of project 'ops' must be an http:// or https:// URL, not '7'")
    }

    @Test("an unknown key suggests the kind's closest key and lists the kind's keys")
    func unknownKey() throws {
        let (result, _) = try load(
            """
            tg:
              kind: telegram
              bot_token: "1:x"
              chat_id: 1
              chatid: 2
            og: {kind: opsgenie, apikey: k}
            """)
        #expect(positions(result) == ["8:9 unknown-key", "9:7 missing-key", "9:28 unknown-key"])
        #expect(result.diagnostics[0].message == "unknown key 'chatid' in channel 'tg' of project 'ops'")
        #expect(
            result.diagnostics[0].notes.map(\.message) == [
                "did you mean 'chat_id'?", "known keys in channel 'tg' of project 'ops': kind, bot_token, chat_id, thread_id, api_url, on",
            ])
        #expect(result.diagnostics[2].notes.first?.message == "did you mean 'api_key'?")
    }

    @Test("an unknown kind lists every kind and suggests the closest")
    func unknownKind() throws {
        let (result, _) = try load("a: {kind: pagerduty2, routing_key: k}\nb: {url: x}")
        #expect(positions(result) == ["4:17 invalid-value", "5:7 missing-key"])
        let kinds = "webhook, command, email, slack, discord, mattermost, msteams, telegram, ntfy, pushover, gotify, matrix, pagerduty, opsgenie"
        #expect(result.diagnostics[0].message == "unknown channel kind 'pagerduty2' in channel 'a' of project 'ops'; kinds are \(kinds)")
        #expect(result.diagnostics[0].notes.first?.message == "did you mean 'pagerduty'?")
        #expect(result.diagnostics[1].message == "channel 'b' of project 'ops' needs 'kind:' (\(kinds))")
    }

    @Test("a literal bot token that is not one is reported without quoting it; room IDs of room version 12 have no server part")
    func botTokenAndRoomID() throws {
        let (result, project) = try load(
            #"""
            tg: {kind: telegram, bot_token: "hunter2secret", chat_id: 1}
            mx: {kind: matrix, homeserver: "https://m.example.org", room: "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM", access_token: t}
            mx2: {kind: matrix, homeserver: "https://m.example.org", room: "!abc:", access_token: t}
            """#)
        #expect(positions(result) == ["4:39 invalid-value", "6:70 invalid-value"])
        #expect(!result.diagnostics[0].message.contains("hunter2secret"))
        #expect(result.diagnostics[0].message == "'bot_token' of channel 'tg' of project 'ops' is not a bot token: it is digits, ':', then letters (as @BotFather gives it)")
        #expect(project?.channels.map(\.name) == ["mx"])
    }

    @Test("ntfy takes a token or a username with a password, not both")
    func ntfyAuthConflict() throws {
        let (result, _) = try load(#"n: {kind: ntfy, url: "https://ntfy.sh/t", token: t, username: u, password: p}"#)
        #expect(positions(result) == ["4:59 conflicting-keys"])
    }
}

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = "unexpected decoding of \(description)" }
}
