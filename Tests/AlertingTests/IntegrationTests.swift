import CheckCatalog
import Foundation
import Monitoring
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@testable import Alerting

/// Every kind against its receiver: the request the service documents, for down and up.
@Suite("Native channel kinds send what each service documents")
struct IntegrationTests {
    static let code = "0b7c4a5e-0000-4000-8000-00000000000a"
    static let alertID = UUID(uuidString: "7d7c4a5e-0000-4000-8000-00000000000b")!
    static let link = "https://hc.example.com/checks/\(code)"
    /// 2026-03-29T23:00:00Z
    static let flipTime: Int64 = 1_774_825_200_000_000

    func alert(_ direction: Channel.Direction, test: Bool = false) -> Alert {
        let values = AlertValues(
            name: "Backup <db> & co", slug: "backup", code: Self.code, status: direction.rawValue, now: "2026-03-29T23:00:00Z", tags: "prod db",
            project: "Ops Team", exitStatus: "3", body: "disk <full>\n", schedule: "every 1 day, grace 1 hour", lastPing: "2026-03-29T22:58:10Z")
        return Alert(
            id: Self.alertID, check: UUID(uuidString: Self.code)!, project: "ops", channel: "svc", direction: direction, flipTime: Self.flipTime,
            created: Self.flipTime, values: values, test: test)
    }

    func channel(_ integration: Integration) -> Channel {
        Channel(name: "svc", kind: .integration(integration), on: [.down, .up], location: here)
    }

    func env(_ name: String) -> Secret { Secret(.env(name), at: here) }

    func courier(_ environment: [String: String], baseURL: String? = "https://hc.example.com") -> Courier {
        Courier(timeout: .seconds(8), environment: environment, baseURL: baseURL)
    }

    /// Sends a down then an up alert; both must be delivered.
    func sendDownAndUp(_ receiver: Receiver, environment: @escaping @Sendable (String) -> [String: String], _ integration: @escaping @Sendable (String) -> Integration)
        async throws -> (down: Receiver.Received, up: Receiver.Received)
    {
        try await receiver.run { base in
            let courier = courier(environment(base))
            let channel = channel(integration(base))
            for direction in [Channel.Direction.down, .up] {
                let attempt = await courier.deliver(alert(direction), via: channel, at: 1)
                #expect(attempt.outcome == .delivered, "\(direction): \(attempt.error ?? "")")
            }
        }
        let requests = receiver.requests
        try #require(requests.count == 2)
        return (requests[0], requests[1])
    }

    func object(_ body: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
    }

    func form(_ body: String) throws -> [String: String] {
        var components = URLComponents()
        components.percentEncodedQuery = body
        let items = try #require(components.queryItems)
        return Dictionary(items.map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { first, _ in first })
    }

    let factLabels = ["Project", "Tags", "Schedule", "Down since", "Last ping", "Exit status"]

    // MARK: chat webhooks

    @Test("slack: incoming webhook JSON, text and one attachment: red down, green up, facts as fields, the link, the body in a code block")
    func slack() async throws {
        let receiver = Receiver()
        let (down, up) = try await sendDownAndUp(receiver, environment: { ["SLACK_URL": "\($0)/services/T0/B0/xyz"] }) { _ in
            .slack(url: env("SLACK_URL"))
        }
        #expect(down.method == "POST")
        #expect(down.uri == "/services/T0/B0/xyz")
        #expect(down.headers["content-type"] == "application/json")
        let json = try object(down.body)
        #expect(json["text"] as? String == "DOWN | Backup &lt;db&gt; &amp; co")
        let attachment = try #require((json["attachments"] as? [[String: Any]])?.first)
        #expect(attachment["color"] as? String == "#d63232")
        #expect(attachment["fallback"] as? String == "DOWN | Backup &lt;db&gt; &amp; co")
        #expect(attachment["title"] as? String == "Backup &lt;db&gt; &amp; co is down.")
        #expect(attachment["title_link"] as? String == Self.link)
        let fields = try #require(attachment["fields"] as? [[String: Any]])
        #expect(fields.map { $0["title"] as? String } == factLabels)
        #expect(fields.map { $0["value"] as? String } == ["Ops Team", "prod db", "every 1 day, grace 1 hour", "2026-03-29T23:00:00Z", "2026-03-29T22:58:10Z", "3"])
        #expect(attachment["text"] as? String == "Last ping body:\n```\ndisk &lt;full&gt;\n```")
        #expect(attachment["mrkdwn_in"] as? [String] == ["text"])
        #expect(attachment["ts"] as? Int == 1_774_825_200)
        let upAttachment = try #require((try object(up.body)["attachments"] as? [[String: Any]])?.first)
        #expect(try object(up.body)["text"] as? String == "UP | Backup &lt;db&gt; &amp; co")
        #expect(upAttachment["color"] as? String == "#36a64f")
        #expect(upAttachment["title"] as? String == "Backup &lt;db&gt; &amp; co is up again.")
    }

    @Test("mattermost: the same Slack-format message to its incoming webhook")
    func mattermost() async throws {
        let receiver = Receiver()
        let (down, up) = try await sendDownAndUp(receiver, environment: { ["MM_URL": "\($0)/hooks/abc123"] }) { _ in .mattermost(url: env("MM_URL")) }
        #expect(down.method == "POST" && down.uri == "/hooks/abc123")
        #expect(down.headers["content-type"] == "application/json")
        let attachment = try #require((try object(down.body)["attachments"] as? [[String: Any]])?.first)
        #expect(attachment["color"] as? String == "#d63232")
        #expect((attachment["fields"] as? [[String: Any]])?.count == 6)
        #expect(attachment["text"] as? String == "Last ping body:\n```\ndisk &lt;full&gt;\n```")
        #expect(attachment["mrkdwn_in"] == nil)
        #expect(((try object(up.body)["attachments"] as? [[String: Any]])?.first?["color"]) as? String == "#36a64f")
    }

    @Test("discord: webhook JSON with content and one embed: colour, fields, timestamp, link; no mentions")
    func discord() async throws {
        // Discord answers 204 No Content to a webhook without ?wait=true.
        let receiver = Receiver { _ in (204, "") }
        let (down, up) = try await sendDownAndUp(receiver, environment: { ["DISCORD_URL": "\($0)/api/webhooks/1/tok"] }) { _ in
            .discord(url: env("DISCORD_URL"))
        }
        #expect(down.method == "POST" && down.uri == "/api/webhooks/1/tok")
        #expect(down.headers["content-type"] == "application/json")
        let json = try object(down.body)
        #expect(json["content"] as? String == "DOWN | Backup <db> & co")
        #expect((json["allowed_mentions"] as? [String: Any])?["parse"] as? [String] == [])
        let embed = try #require((json["embeds"] as? [[String: Any]])?.first)
        #expect(embed["title"] as? String == "DOWN | Backup <db> & co")
        #expect(embed["description"] as? String == "Backup <db> & co is down.\n\nLast ping body:\n```\ndisk <full>\n```")
        #expect(embed["color"] as? Int == 0xD63232)
        #expect(embed["url"] as? String == Self.link)
        #expect(embed["timestamp"] as? String == "2026-03-29T23:00:00Z")
        let fields = try #require(embed["fields"] as? [[String: Any]])
        #expect(fields.map { $0["name"] as? String } == factLabels)
        #expect(fields.first?["value"] as? String == "Ops Team")
        let upEmbed = try #require((try object(up.body)["embeds"] as? [[String: Any]])?.first)
        #expect(upEmbed["color"] as? Int == 0x36A64F)
        #expect(upEmbed["title"] as? String == "UP | Backup <db> & co")
    }

    @Test("msteams: a Workflows message holding one Adaptive Card: subject in the tone's colour, a FactSet, the excerpt, a button to the check")
    func msteams() async throws {
        // A workflow's HTTP trigger answers 202 Accepted.
        let receiver = Receiver { _ in (202, "") }
        let (down, up) = try await sendDownAndUp(receiver, environment: { ["TEAMS_URL": "\($0)/workflows/1/triggers/manual/paths/invoke?sig=s3"] }) { _ in
            .msteams(url: env("TEAMS_URL"))
        }
        #expect(down.method == "POST" && down.uri == "/workflows/1/triggers/manual/paths/invoke?sig=s3")
        #expect(down.headers["content-type"] == "application/json")
        let json = try object(down.body)
        #expect(json["type"] as? String == "message")
        let attachment = try #require((json["attachments"] as? [[String: Any]])?.first)
        #expect(attachment["contentType"] as? String == "application/vnd.microsoft.card.adaptive")
        #expect(attachment["contentUrl"] is NSNull)
        let card = try #require(attachment["content"] as? [String: Any])
        #expect(card["type"] as? String == "AdaptiveCard")
        #expect(card["version"] as? String == "1.4")
        #expect(card["$schema"] as? String == "http://adaptivecards.io/schemas/adaptive-card.json")
        let body = try #require(card["body"] as? [[String: Any]])
        #expect(body.map { $0["type"] as? String } == ["TextBlock", "TextBlock", "FactSet", "TextBlock", "TextBlock"])
        #expect(body[0]["text"] as? String == "DOWN | Backup <db> & co")
        #expect(body[0]["color"] as? String == "Attention")
        #expect(body[1]["text"] as? String == "Backup <db> & co is down.")
        let facts = try #require(body[2]["facts"] as? [[String: String]])
        #expect(facts.map { $0["title"] } == factLabels)
        #expect(facts[0]["value"] == "Ops Team")
        #expect(body[4]["text"] as? String == "disk <full>\n")
        #expect(body[4]["fontType"] as? String == "Monospace")
        let action = try #require((card["actions"] as? [[String: Any]])?.first)
        #expect(action["type"] as? String == "Action.OpenUrl")
        #expect(action["url"] as? String == Self.link)
        let upCard = try #require(((try object(up.body)["attachments"] as? [[String: Any]])?.first?["content"]) as? [String: Any])
        #expect((upCard["body"] as? [[String: Any]])?.first?["color"] as? String == "Good")
    }

    // MARK: messengers and push

    @Test("telegram: POST {api_url}/bot<token>/sendMessage with chat_id, thread, and HTML text with every value escaped")
    func telegram() async throws {
        let receiver = Receiver { _ in (200, #"{"ok":true,"result":{"message_id":1}}"#) }
        let (down, up) = try await sendDownAndUp(receiver, environment: { _ in ["TG_TOKEN": "123456:ABC-def"] }) { base in
            .telegram(botToken: env("TG_TOKEN"), chatID: "-1001234567890", threadID: 42, apiURL: base + "/")
        }
        #expect(down.method == "POST" && down.uri == "/bot123456:ABC-def/sendMessage")
        #expect(down.headers["content-type"] == "application/json")
        let json = try object(down.body)
        #expect(json["chat_id"] as? Int == -1_001_234_567_890)
        #expect(json["message_thread_id"] as? Int == 42)
        #expect(json["parse_mode"] as? String == "HTML")
        #expect(
            json["text"] as? String == """
                <b>DOWN | Backup &lt;db&gt; &amp; co</b>
                Backup &lt;db&gt; &amp; co is down.

                <b>Project:</b> Ops Team
                <b>Tags:</b> prod db
                <b>Schedule:</b> every 1 day, grace 1 hour
                <b>Down since:</b> 2026-03-29T23:00:00Z
                <b>Last ping:</b> 2026-03-29T22:58:10Z
                <b>Exit status:</b> 3

                <b>Last ping body:</b>
                <pre>disk &lt;full&gt;
                </pre>

                <a href="\(Self.link)">Open the check</a>
                """)
        let upText = try #require(try object(up.body)["text"] as? String)
        #expect(upText.hasPrefix("<b>UP | Backup &lt;db&gt; &amp; co</b>\nBackup &lt;db&gt; &amp; co is up again.\n"))
    }

    @Test("telegram: an @channel chat is sent as text, no thread without thread_id")
    func telegramChannel() async throws {
        let receiver = Receiver()
        let (down, _) = try await sendDownAndUp(receiver, environment: { _ in [:] }) { base in
            .telegram(botToken: literal("9:x"), chatID: "@ops_alerts", threadID: nil, apiURL: base)
        }
        let json = try object(down.body)
        #expect(json["chat_id"] as? String == "@ops_alerts")
        #expect(json["message_thread_id"] == nil)
    }

    @Test("ntfy: JSON publish to the server's root with topic, title, message, priority per direction, an emoji tag, the link on click, Bearer auth")
    func ntfy() async throws {
        let receiver = Receiver()
        let (down, up) = try await sendDownAndUp(receiver, environment: { ["NTFY_URL": "\($0)/prefix/backups", "NTFY_TOKEN": "tk_secret"] }) { _ in
            .ntfy(url: env("NTFY_URL"), priority: PerDirection(down: 5, up: 2), auth: .token(env("NTFY_TOKEN")))
        }
        #expect(down.method == "POST" && down.uri == "/prefix")
        #expect(down.headers["content-type"] == "application/json")
        #expect(down.headers["authorization"] == "Bearer tk_secret")
        let json = try object(down.body)
        #expect(json["topic"] as? String == "backups")
        #expect(json["title"] as? String == "DOWN | Backup <db> & co")
        #expect(
            json["message"] as? String == """
                Backup <db> & co is down.

                Project: Ops Team
                Tags: prod db
                Schedule: every 1 day, grace 1 hour
                Down since: 2026-03-29T23:00:00Z
                Last ping: 2026-03-29T22:58:10Z
                Exit status: 3

                Last ping body:
                disk <full>

                """)
        #expect(json["priority"] as? Int == 5)
        #expect(json["tags"] as? [String] == ["rotating_light"])
        #expect(json["click"] as? String == Self.link)
        let upJSON = try object(up.body)
        #expect(upJSON["priority"] as? Int == 2)
        #expect(upJSON["tags"] as? [String] == ["white_check_mark"])
        #expect(upJSON["title"] as? String == "UP | Backup <db> & co")
    }

    @Test("ntfy: a topic at the server's root posts to /, with Basic auth from username and password")
    func ntfyBasic() async throws {
        let receiver = Receiver()
        let (down, _) = try await sendDownAndUp(receiver, environment: { _ in ["NTFY_PASSWORD": "pa:ss"] }) { base in
            .ntfy(url: literal("\(base)/alerts"), priority: PerDirection(down: 4, up: 3), auth: .basic(username: "ops", password: env("NTFY_PASSWORD")))
        }
        #expect(down.uri == "/")
        #expect(down.headers["authorization"] == "Basic " + Data("ops:pa:ss".utf8).base64EncodedString())
        #expect(try object(down.body)["topic"] as? String == "alerts")
    }

    @Test("pushover: form-encoded POST {api_url}/1/messages.json: token, user, title, message, priority, retry and expire for 2, sound, device, url")
    func pushover() async throws {
        let receiver = Receiver { _ in (200, #"{"status":1,"request":"r1"}"#) }
        let (down, up) = try await sendDownAndUp(receiver, environment: { _ in ["PO_APP": "app-token", "PO_USER": "user key&="] }) { base in
            .pushover(
                token: env("PO_APP"), userKey: env("PO_USER"), priority: PerDirection(down: 2, up: -1), retry: 60, expire: 7_200, sound: "siren",
                device: "phone", apiURL: base)
        }
        #expect(down.method == "POST" && down.uri == "/1/messages.json")
        #expect(down.headers["content-type"] == "application/x-www-form-urlencoded")
        let fields = try form(down.body)
        #expect(fields["token"] == "app-token")
        #expect(fields["user"] == "user key&=")
        #expect(fields["title"] == "DOWN | Backup <db> & co")
        #expect(fields["message"]?.hasPrefix("Backup <db> & co is down.\n\nProject: Ops Team\n") == true)
        #expect(fields["message"]?.hasSuffix("Last ping body:\ndisk <full>\n") == true)
        #expect(fields["priority"] == "2")
        #expect(fields["retry"] == "60")
        #expect(fields["expire"] == "7200")
        #expect(fields["sound"] == "siren")
        #expect(fields["device"] == "phone")
        #expect(fields["url"] == Self.link)
        #expect(fields["url_title"] == "Open the check")
        #expect(fields["timestamp"] == "1774825200")
        let upFields = try form(up.body)
        #expect(upFields["priority"] == "-1")
        #expect(upFields["retry"] == nil && upFields["expire"] == nil)
        #expect(upFields["title"] == "UP | Backup <db> & co")
    }

    @Test("gotify: POST {url}/message with X-Gotify-Key, JSON title, message, priority per direction, the link as click target")
    func gotify() async throws {
        let receiver = Receiver()
        let (down, up) = try await sendDownAndUp(receiver, environment: { _ in ["GOTIFY": "AppTok.en"] }) { base in
            .gotify(url: base + "/gotify/", token: env("GOTIFY"), priority: PerDirection(down: 8, up: 5))
        }
        #expect(down.method == "POST" && down.uri == "/gotify/message")
        #expect(down.headers["content-type"] == "application/json")
        #expect(down.headers["x-gotify-key"] == "AppTok.en")
        let json = try object(down.body)
        #expect(json["title"] as? String == "DOWN | Backup <db> & co")
        #expect((json["message"] as? String)?.hasPrefix("Backup <db> & co is down.\n\nProject: Ops Team\n") == true)
        #expect((json["message"] as? String)?.hasSuffix("\n\n\(Self.link)") == true)
        #expect(json["priority"] as? Int == 8)
        let click = ((json["extras"] as? [String: Any])?["client::notification"] as? [String: Any])?["click"] as? [String: String]
        #expect(click?["url"] == Self.link)
        #expect(try object(up.body)["priority"] as? Int == 5)
    }

    @Test("matrix: PUT .../rooms/{room, encoded}/send/m.room.message/{the alert's id} with Bearer auth, plain and HTML bodies")
    func matrix() async throws {
        let receiver = Receiver { _ in (200, #"{"event_id":"$e"}"#) }
        let (down, up) = try await sendDownAndUp(receiver, environment: { _ in ["MX_TOKEN": "syt_secret"] }) { base in
            .matrix(homeserver: base, room: "!room:example.org", accessToken: env("MX_TOKEN"))
        }
        #expect(down.method == "PUT")
        #expect(down.uri == "/_matrix/client/v3/rooms/%21room%3Aexample.org/send/m.room.message/7d7c4a5e-0000-4000-8000-00000000000b")
        #expect(down.headers["authorization"] == "Bearer syt_secret")
        #expect(down.headers["content-type"] == "application/json")
        let json = try object(down.body)
        #expect(json["msgtype"] as? String == "m.text")
        #expect(json["format"] as? String == "org.matrix.custom.html")
        #expect((json["body"] as? String)?.hasPrefix("DOWN | Backup <db> & co\n\nBackup <db> & co is down.\n") == true)
        let html = try #require(json["formatted_body"] as? String)
        #expect(html.hasPrefix("<h4>DOWN | Backup &lt;db&gt; &amp; co</h4><p>Backup &lt;db&gt; &amp; co is down.</p><ul><li><b>Project:</b> Ops Team</li>"))
        #expect(html.contains("<pre><code>disk &lt;full&gt;\n</code></pre>"))
        #expect(html.hasSuffix("<p><a href=\"\(Self.link)\">Open the check</a></p>"))
        #expect((try object(up.body)["formatted_body"] as? String)?.hasPrefix("<h4>UP | Backup") == true)
    }

    // MARK: incident tools

    @Test("pagerduty: Events API v2: trigger on down with payload and dedup_key = the check's UUID, resolve on up with the same key")
    func pagerduty() async throws {
        let receiver = Receiver { _ in (202, #"{"status":"success","message":"Event processed","dedup_key":"x"}"#) }
        let (down, up) = try await sendDownAndUp(receiver, environment: { _ in ["PD_KEY": "R0UTINGKEY"] }) { base in
            .pagerduty(routingKey: env("PD_KEY"), severity: .error, apiURL: base)
        }
        #expect(down.method == "POST" && down.uri == "/v2/enqueue")
        #expect(down.headers["content-type"] == "application/json")
        let json = try object(down.body)
        #expect(json["routing_key"] as? String == "R0UTINGKEY")
        #expect(json["event_action"] as? String == "trigger")
        #expect(json["dedup_key"] as? String == Self.code)
        #expect(json["client"] as? String == "kiothc")
        #expect(json["client_url"] as? String == Self.link)
        #expect((json["links"] as? [[String: String]])?.first?["href"] == Self.link)
        let payload = try #require(json["payload"] as? [String: Any])
        #expect(payload["summary"] as? String == "DOWN | Backup <db> & co")
        #expect(payload["source"] as? String == "Backup <db> & co (Ops Team)")
        #expect(payload["severity"] as? String == "error")
        #expect(payload["timestamp"] as? String == "2026-03-29T23:00:00Z")
        #expect(payload["group"] as? String == "Ops Team")
        let details = try #require(payload["custom_details"] as? [String: String])
        #expect(details["Project"] == "Ops Team" && details["Exit status"] == "3" && details["Last ping body"] == "disk <full>\n")
        let resolve = try object(up.body)
        #expect(up.method == "POST" && up.uri == "/v2/enqueue")
        #expect(resolve["event_action"] as? String == "resolve")
        #expect(resolve["dedup_key"] as? String == Self.code)
        #expect(resolve["routing_key"] as? String == "R0UTINGKEY")
        #expect(resolve["payload"] == nil)
    }

    @Test("opsgenie: create on down with alias = the check's UUID and GenieKey auth; close by alias on up; eu region and api_url")
    func opsgenie() async throws {
        let receiver = Receiver { _ in (202, #"{"result":"Request will be processed","took":0.1,"requestId":"r"}"#) }
        let (down, up) = try await sendDownAndUp(receiver, environment: { _ in ["OG_KEY": "genie-key"] }) { base in
            .opsgenie(apiKey: env("OG_KEY"), region: .eu, priority: "P2", apiURL: base)
        }
        #expect(down.method == "POST" && down.uri == "/v2/alerts")
        #expect(down.headers["authorization"] == "GenieKey genie-key")
        #expect(down.headers["content-type"] == "application/json")
        let json = try object(down.body)
        #expect(json["message"] as? String == "DOWN | Backup <db> & co")
        #expect(json["alias"] as? String == Self.code)
        #expect((json["description"] as? String)?.hasPrefix("Backup <db> & co is down.\n\nProject: Ops Team\n") == true)
        #expect(json["tags"] as? [String] == ["prod", "db"])
        #expect(json["priority"] as? String == "P2")
        #expect(json["source"] as? String == "kiothc")
        let details = try #require(json["details"] as? [String: String])
        #expect(details["Project"] == "Ops Team" && details["Link"] == Self.link)
        #expect(up.method == "POST")
        #expect(up.uri == "/v2/alerts/\(Self.code)/close?identifierType=alias")
        #expect(up.headers["authorization"] == "GenieKey genie-key")
        #expect(try object(up.body)["source"] as? String == "kiothc")
        // Without api_url, the region picks the endpoint.
        let request = try Integration.opsgenie(apiKey: literal("k"), region: .eu, priority: nil, apiURL: nil)
            .request(for: alert(.down), message: AlertMessage(alert(.down), baseURL: nil)) { _, _ in "k" }
        #expect(request.url == "https://api.eu.opsgenie.com/v2/alerts")
    }

    @Test("opsgenie: a message over 130 characters is cut with an ellipsis")
    func opsgenieLongName() throws {
        var long = alert(.down)
        long.values.name = String(repeating: "n", count: 200)
        let request = try Integration.opsgenie(apiKey: literal("k"), region: .us, priority: nil, apiURL: nil)
            .request(for: long, message: AlertMessage(long, baseURL: nil)) { _, _ in "k" }
        let json = try object(String(decoding: try #require(request.body), as: UTF8.self))
        #expect((json["message"] as? String)?.count == 130)
        #expect((json["message"] as? String)?.hasSuffix("…") == true)
        #expect(request.url == "https://api.opsgenie.com/v2/alerts")
    }

    @Test("the public endpoints are the services' own when api_url is not set")
    func defaultEndpoints() throws {
        let message = AlertMessage(alert(.down), baseURL: nil)
        func url(_ integration: Integration) throws -> String {
            try integration.request(for: alert(.down), message: message) { secret, _ in
                guard case .literal(let value) = secret.source else { throw CancellationError() }
                return value
            }.url
        }
        #expect(try url(.telegram(botToken: literal("T"), chatID: "1", threadID: nil, apiURL: nil)) == "https://api.telegram.org/botT/sendMessage")
        #expect(
            try url(.pushover(token: literal("T"), userKey: literal("U"), priority: .init(down: 0, up: 0), retry: 300, expire: 3600, sound: nil, device: nil, apiURL: nil))
                == "https://api.pushover.net/1/messages.json")
        #expect(try url(.pagerduty(routingKey: literal("T"), severity: .critical, apiURL: nil)) == "https://events.pagerduty.com/v2/enqueue")
        #expect(try url(.ntfy(url: literal("https://ntfy.sh/backups"), priority: .init(down: 4, up: 3), auth: nil)) == "https://ntfy.sh")
    }

    @Test("a test notification triggers a PagerDuty incident and an Opsgenie alert of its own, not the check's")
    func testNotifications() throws {
        let test = alert(.down, test: true)
        let message = AlertMessage(test, baseURL: nil)
        let pd = try Integration.pagerduty(routingKey: literal("k"), severity: .critical, apiURL: nil).request(for: test, message: message) { _, _ in "k" }
        let pdJSON = try object(String(decoding: try #require(pd.body), as: UTF8.self))
        #expect(pdJSON["event_action"] as? String == "trigger")
        #expect(pdJSON["dedup_key"] as? String == "test-7d7c4a5e-0000-4000-8000-00000000000b")
        let og = try Integration.opsgenie(apiKey: literal("k"), region: .us, priority: nil, apiURL: nil).request(for: test, message: message) { _, _ in "k" }
        let ogJSON = try object(String(decoding: try #require(og.body), as: UTF8.self))
        #expect(ogJSON["alias"] as? String == "test-7d7c4a5e-0000-4000-8000-00000000000b")
        #expect(ogJSON["message"] as? String == "TEST | Backup <db> & co")
    }

    // MARK: failures

    @Test("a service's error answer is a failed attempt quoting its explanation, never the credential")
    func errorAnswers() async throws {
        let receiver = Receiver { request in
            if request.uri.hasPrefix("/bot") { return (400, #"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#) }
            if request.uri.hasPrefix("/v2/enqueue") {
                return (400, #"{"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect"]}"#)
            }
            return (401, #"{"errcode":"M_UNKNOWN_TOKEN","error":"Invalid access token passed."}"#)
        }
        let secrets = ["TG_TOKEN": "777:TopSecretToken", "PD_KEY": "PdSecretKey", "MX_TOKEN": "syt_MatrixSecret"]
        let attempts = try await receiver.run { base in
            let courier = courier(secrets)
            return [
                await courier.deliver(alert(.down), via: channel(.telegram(botToken: env("TG_TOKEN"), chatID: "1", threadID: nil, apiURL: base)), at: 5),
                await courier.deliver(alert(.down), via: channel(.pagerduty(routingKey: env("PD_KEY"), severity: .critical, apiURL: base)), at: 5),
                await courier.deliver(alert(.down), via: channel(.matrix(homeserver: base, room: "!r:x", accessToken: env("MX_TOKEN"))), at: 5),
            ]
        }
        #expect(attempts.map(\.outcome) == [.failed, .failed, .failed])
        #expect(attempts.map(\.statusCode) == [400, 400, 401])
        #expect(attempts[0].error?.contains("Bad Request: chat not found") == true)
        #expect(attempts[1].error?.contains("Length of 'routing_key' is incorrect") == true)
        #expect(attempts[2].error?.contains("Invalid access token passed.") == true)
        for attempt in attempts {
            #expect(attempt.error?.hasPrefix("the receiver answered HTTP 4") == true)
            for secret in secrets.values { #expect(attempt.error?.contains(secret) == false) }
        }
    }

    @Test("a gateway whose error page echoes the request's path and headers: the attempt's error has the credentials cut out")
    func echoedCredentials() async throws {
        let receiver = Receiver { request in (404, "Cannot POST \(request.uri) (auth \(request.headers["authorization"] ?? "-"))") }
        let secrets = ["TG_TOKEN": "777:TopSecretToken", "SLACK_URL": "", "OG_KEY": "GenieSecretKey"]
        let attempts = try await receiver.run { base in
            var environment = secrets
            environment["SLACK_URL"] = "\(base)/services/T0/B0/SlackSecretPath"
            let courier = courier(environment)
            return [
                await courier.deliver(alert(.down), via: channel(.telegram(botToken: env("TG_TOKEN"), chatID: "1", threadID: nil, apiURL: base)), at: 5),
                await courier.deliver(alert(.down), via: channel(.slack(url: env("SLACK_URL"))), at: 5),
                await courier.deliver(alert(.down), via: channel(.opsgenie(apiKey: env("OG_KEY"), region: .us, priority: nil, apiURL: base)), at: 5),
            ]
        }
        #expect(receiver.requests.count == 3)
        #expect(
            attempts.map(\.error) == [
                "the receiver answered HTTP 404: Cannot POST /bot[redacted]/sendMessage (auth -)",
                "the receiver answered HTTP 404: Cannot POST [redacted] (auth -)",
                "the receiver answered HTTP 404: Cannot POST /v2/alerts (auth GenieKey [redacted])",
            ])
    }

    @Test("a kind's public endpoint is reached through HTTPS_PROXY: a tunnel to the service's host")
    func throughProxy() async throws {
        // The proxy refuses the tunnel, so nothing leaves the machine.
        let proxy = RecordingProxy(answer: "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        let attempt = try await proxy.run { port in
            let courier = Courier(timeout: .seconds(5), environment: ["HTTPS_PROXY": "http://127.0.0.1:\(port)", "PD_KEY": "PdSecretKey"])
            return await courier.deliver(alert(.down), via: channel(.pagerduty(routingKey: env("PD_KEY"), severity: .critical, apiURL: nil)), at: 0)
        }
        let heads = proxy.heads.withLock { $0 }
        #expect(heads.first?.hasPrefix("CONNECT events.pagerduty.com:443 HTTP/1.1") == true, "\(heads)")
        #expect(attempt.outcome == .failed)
        #expect(attempt.error?.contains("PdSecretKey") == false)
    }

    @Test("a receiver that is not there is a failed attempt whose error names no token (the token is in the path)")
    func noReceiver() async throws {
        // Port 9 (discard) on loopback: nothing listens there.
        let impatient = Courier(timeout: .seconds(2), environment: ["TG_TOKEN": "777:TopSecretToken"])
        let attempt = await impatient.deliver(
            alert(.down), via: channel(.telegram(botToken: env("TG_TOKEN"), chatID: "1", threadID: nil, apiURL: "http://127.0.0.1:9")), at: 5)
        #expect(attempt.outcome == .failed)
        #expect(attempt.error?.contains("TopSecretToken") == false)
    }

    @Test("a credential that cannot be resolved fails without sending, naming the field and its reference, not a value")
    func unresolved() async throws {
        let receiver = Receiver()
        let attempts = try await receiver.run { base in
            let courier = courier(["SLACK_URL": "not a url with s3cret"])
            return [
                await courier.deliver(alert(.down), via: channel(.pagerduty(routingKey: env("PD_KEY"), severity: .critical, apiURL: base)), at: 5),
                await courier.deliver(alert(.down), via: channel(.slack(url: env("SLACK_URL"))), at: 5),
                await courier.deliver(
                    alert(.down), via: channel(.ntfy(url: literal("\(base)/t"), priority: .init(down: 4, up: 3), auth: .token(env("NTFY_TOKEN")))), at: 5),
            ]
        }
        #expect(receiver.requests.isEmpty)
        #expect(attempts.map(\.outcome) == [.failed, .failed, .failed])
        #expect(attempts[0].error == "'routing_key' of channel 'svc' (environment variable 'PD_KEY') cannot be resolved")
        #expect(attempts[1].error == "channel 'svc' cannot send: its url (environment variable 'SLACK_URL') is not an http(s) URL")
        #expect(attempts[2].error == "'token' of channel 'svc' (environment variable 'NTFY_TOKEN') cannot be resolved")
    }

    @Test("HTML escaping covers &, <, > and quotes")
    func escaping() {
        #expect(HTMLText.escape(#"a & b <c> "d""#) == "a &amp; b &lt;c&gt; &quot;d&quot;")
        #expect(MessageText.codeBlock("x```y\n\n") == "```\nx`\u{200B}``y\n```")
    }
}
