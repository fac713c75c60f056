import ArgumentParser
import Foundation
import PingClient
import Server

/// The options a `KIOTHC_*` variable can also set, with their rules and defaults. The server's
/// defaults are `ServeOptions`'s, so they live in one value.
enum Settings {
    private static let serve = ServeOptions()

    // MARK: Shared by several commands

    static let config = Setting<String>(flag: "--config", variable: .config, expected: "a directory or a YAML file", default: serve.configDirectory)
    static let data = Setting<String>(flag: "--data", variable: .data, expected: "a directory", default: serve.dataDirectory)
    static let store = Setting<String>(flag: "--store", variable: .store, expected: "file, or a postgres:// URL", default: "file")
    static let baseURL = Setting<String>(flag: "--base-url", variable: .baseURL, expected: "a URL")
    static let server = Setting<String>(
        flag: "--server", variable: .server, expected: "an http:// or https:// URL", default: "http://127.0.0.1:8000", accepts: { isWebURL($0) })

    // MARK: serve

    static let listen = Setting<[ListenAddress]>(
        flag: "--listen", variable: .listen,
        expected: "HOST:PORT (IPv6 as [::1]:8000, optionally with http:// or https://), several separated by commas",
        default: serve.listen, shown: serve.listen.map(\.description).joined(separator: ","),
        parse: { text in
            let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            let addresses = items.compactMap(ListenAddress.init(parsing:))
            return addresses.count == items.count ? addresses : nil
        })
    static let tlsCert = Setting<String>(flag: "--tls-cert", variable: .tlsCert, expected: "a file")
    static let tlsKey = Setting<String>(flag: "--tls-key", variable: .tlsKey, expected: "a file")
    static let tlsReloadPoll = Setting<Double>(
        flag: "--tls-reload-poll", variable: .tlsReloadPoll, expected: "a number of seconds up to 86400, 0 to turn the poll off",
        default: serve.tlsReloadPoll.map(seconds) ?? 0,
        accepts: { (0...86_400).contains($0) })
    static let durability = Setting<DurabilityOption>(flag: "--durability", variable: .durability, default: .fsync)
    static let keepPings = Setting<Int>(
        flag: "--keep-pings", variable: .keepPings, expected: "an integer of at least 1", default: serve.keepPings, accepts: { $0 >= 1 })
    static let maxRequestBody = Setting<Int>(
        flag: "--max-request-body", variable: .maxRequestBody, expected: "a number of bytes, 0 or more", default: serve.maxRequestBody,
        accepts: { $0 >= 0 })
    static let idleTimeout = Setting<Int>(
        flag: "--idle-timeout", variable: .idleTimeout, expected: "a whole number of seconds from 1 to 86400", default: serve.idleTimeoutSeconds,
        accepts: { (1...86_400).contains($0) })
    static let headerTimeout = Setting<Int>(
        flag: "--header-timeout", variable: .headerTimeout, expected: "a whole number of seconds from 1 to 86400", default: serve.headerTimeoutSeconds,
        accepts: { (1...86_400).contains($0) })
    static let maxConnections = Setting<Int>(
        flag: "--max-connections", variable: .maxConnections, expected: "an integer of at least 1", default: serve.maxConnections,
        accepts: { $0 >= 1 })
    static let adminTokenFile = Setting<String>(flag: "--admin-token-file", variable: .adminTokenFile, expected: "a file")
    static let reloadPoll = Setting<Double>(
        flag: "--reload-poll", variable: .reloadPoll, expected: "a number of seconds up to 86400, 0 to turn the poll off",
        default: serve.reloadPoll.map(seconds) ?? 0,
        accepts: { (0...86_400).contains($0) })
    static let watchConfig = Setting<Bool>(
        flag: "--watch-config", variable: .watchConfig, expected: "true, false, 1, 0, yes or no (in any case)", default: serve.watchConfig,
        parse: { parseBoolean($0) })
    static let logLevel = Setting<LogLevelOption>(flag: "--log-level", variable: .logLevel, default: .info)
    static let logFormat = Setting<LogFormatOption>(flag: "--log-format", variable: .logFormat, default: .text)
    static let smtp = Setting<String>(
        flag: "--smtp", variable: .smtp, expected: "smtp://USER:PASSWORD@HOST:587 (STARTTLS), smtps://USER:PASSWORD@HOST:465 or smtp+plain://127.0.0.1:25")
    static let smtpFrom = Setting<String>(flag: "--smtp-from", variable: .smtpFrom, expected: "an email address (kiothc@example.com)")
    static let smtpCAFile = Setting<String>(flag: "--smtp-ca-file", variable: .smtpCAFile, expected: "a PEM file")

    // MARK: run

    static let pingURL = Setting<String>(
        flag: "--ping-url", variable: .pingURL, expected: "an http:// or https:// ping URL",
        accepts: { (try? PingTarget(pingURL: $0)) != nil })
    static let uuid = Setting<String>(flag: "--uuid", variable: .uuid, expected: "a UUID", accepts: { UUID(uuidString: $0) != nil })
    static let pingKey = Setting<String>(flag: "--ping-key", variable: .pingKey, expected: "a ping key")
    static let pingKeyFile = Setting<String>(flag: "--ping-key-file", variable: .pingKeyFile, expected: "a file")
    static let slug = Setting<String>(flag: "--slug", variable: .slug, expected: "a slug")
    static let timeout = Setting<Double>(
        flag: "--timeout", variable: .timeout, expected: "a number of seconds greater than 0", default: Pinger.Policy().timeout,
        accepts: { $0 > 0 && $0.isFinite })
    static let attempts = Setting<Int>(
        flag: "--attempts", variable: .attempts, expected: "an integer of at least 1", default: Pinger.Policy().attempts, accepts: { $0 >= 1 })

    // MARK: pause, resume

    static let apiKey = Setting<String>(flag: "--api-key", variable: .apiKey, expected: "an API key")

    // MARK: Rules

    private static func isWebURL(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased() else { return false }
        return (scheme == "http" || scheme == "https") && url.host != nil
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Booleans in variables, in any case: true/false, 1/0, yes/no.
    static func parseBoolean(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "1", "yes": true
        case "false", "0", "no": false
        default: nil
        }
    }
}
