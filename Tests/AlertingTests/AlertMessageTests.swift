import CheckCatalog
import Foundation
import Monitoring
import Testing

@testable import Alerting

@Suite("What an alert says (AlertMessage)")
struct AlertMessageTests {
    func values(body: String = "", exitStatus: String = "", tags: String = "prod db", lastPing: String = "2026-03-29T22:58:10Z") -> AlertValues {
        AlertValues(
            name: "Backup", slug: "backup", code: "0b7c4a5e-0000-4000-8000-00000000000a", status: "down", now: "2026-03-29T23:00:00Z",
            tags: tags, project: "Ops Team", exitStatus: exitStatus, body: body, schedule: "every 1 day, grace 1 hour", lastPing: lastPing)
    }

    func alert(_ direction: Channel.Direction, _ values: AlertValues, test: Bool = false) -> Alert {
        Alert(check: UUID(), project: "ops", channel: "mail", direction: direction, flipTime: 0, created: 0, values: values, test: test)
    }

    @Test("a down alert: subject, headline, the facts in order, the excerpt and the link")
    func down() {
        let message = AlertMessage(alert(.down, values(body: "disk full\n", exitStatus: "3")), baseURL: "https://hc.example.com/")
        #expect(message.subject == "DOWN | Backup")
        #expect(message.headline == "Backup is down.")
        #expect(message.link == "https://hc.example.com/checks/0b7c4a5e-0000-4000-8000-00000000000a")
        #expect(
            message.text == """
                Backup is down.

                Project: Ops Team
                Tags: prod db
                Schedule: every 1 day, grace 1 hour
                Down since: 2026-03-29T23:00:00Z
                Last ping: 2026-03-29T22:58:10Z
                Exit status: 3

                Last ping body:
                disk full


                https://hc.example.com/checks/0b7c4a5e-0000-4000-8000-00000000000a
                """)
    }

    @Test("an up alert without tags, exit status, body, last ping or base URL says only what it knows")
    func upWithLittle() {
        let message = AlertMessage(alert(.up, values(tags: "", lastPing: "")), baseURL: nil)
        #expect(message.subject == "UP | Backup")
        #expect(message.headline == "Backup is up again.")
        #expect(message.facts.map(\.label) == ["Project", "Schedule", "Up since", "Last ping"])
        #expect(message.facts.last?.value == "never")
        #expect(message.excerpt == nil)
        #expect(message.link == nil)
        #expect(message.summary == "Project: Ops Team · Schedule: every 1 day, grace 1 hour · Up since: 2026-03-29T23:00:00Z · Last ping: never")
    }

    @Test("a test notification says so and names its channel")
    func test() {
        let message = AlertMessage(alert(.down, values(), test: true), baseURL: nil)
        #expect(message.tone == .test)
        #expect(message.subject == "TEST | Backup")
        #expect(message.headline == "This is a test notification for Backup: the channel 'mail' works.")
        #expect(message.facts.contains(AlertMessage.Fact(label: "Sent at", value: "2026-03-29T23:00:00Z")))
    }

    @Test("a long body is cut at 500 characters with an ellipsis; a short one is whole")
    func excerpt() {
        let long = String(repeating: "é", count: 501)
        #expect(AlertMessage(alert(.down, values(body: long)), baseURL: nil).excerpt == String(repeating: "é", count: 500) + "…")
        let exact = String(repeating: "x", count: 500)
        #expect(AlertMessage(alert(.down, values(body: exact)), baseURL: nil).excerpt == exact)
    }

    @Test("alerts queued before issue 21 (no schedule, no last ping) and test alerts read back from their outbox line")
    func outboxLines() throws {
        let old = #"{"channel":"hook","check":"0b7c4a5e-0000-4000-8000-00000000000a","created_us":2,"direction":"down","flip_time_us":1,"id":"7d7c4a5e-0000-4000-8000-00000000000b","project":"ops","type":"alert","v":1,"values":{"body":"","code":"0b7c4a5e-0000-4000-8000-00000000000a","exit_status":"","name":"Backup","now":"2026-03-29T23:00:00Z","project":"Ops","slug":"backup","status":"down","tags":""}}"#
        let alert = try #require(Alert(queueRecord: Array(old.utf8)))
        #expect(alert.values.schedule == "")
        #expect(alert.values.lastPing == "")
        #expect(alert.test == false)
        let test = self.alert(.down, values(), test: true)
        let record = try test.queueRecord()
        #expect(String(decoding: record, as: UTF8.self).contains(#""test":true"#))
        #expect(String(decoding: record, as: UTF8.self).contains(#""last_ping":"2026-03-29T22:58:10Z""#))
        #expect(Alert(queueRecord: record) == test)
        #expect(!String(decoding: try alert.queueRecord(), as: UTF8.self).contains("test"))
    }
}

@Suite("The schedule an alert quotes")
struct AlertScheduleTextTests {
    func definition(_ expectation: CheckDefinition.Expectation, grace: Int, tz: String = "UTC") -> CheckDefinition {
        CheckDefinition(
            id: CheckIdentity(project: "ops", key: "backup"), name: "Backup", expectation: expectation, grace: grace, tz: tz, tags: [], desc: "",
            methods: .any, manualResume: false, paused: false, channels: .all, location: here)
    }

    @Test("a simple check: its period and grace in words; a scheduled one: its expression, zone and grace")
    func text() throws {
        #expect(Alert.scheduleText(definition(.timeout(seconds: 86_400), grace: 3_600)) == "every 1 day, grace 1 hour")
        #expect(Alert.scheduleText(definition(.timeout(seconds: 5_400), grace: 90)) == "every 1 hour 30 minutes, grace 1 minute 30 seconds")
        let cron = try Schedule(parsing: "0 2 * * *")
        #expect(Alert.scheduleText(definition(.schedule(cron), grace: 1_800, tz: "Europe/Riga")) == "0 2 * * * (Europe/Riga), grace 30 minutes")
    }
}

@Suite("Escaping a message's text for where it lands")
struct MessageEscapingTests {
    @Test("HTML (email, Telegram, Matrix) escapes quotes too; Slack's markup only &, < and >, since it shows other entities as written")
    func escaping() {
        let name = #"Zoë's "nightly" <db> & co"#
        #expect(HTMLText.escape(name) == "Zoë&#39;s &quot;nightly&quot; &lt;db&gt; &amp; co")
        #expect(MessageText.escapeMarkup(name) == #"Zoë's "nightly" &lt;db&gt; &amp; co"#)
    }
}
