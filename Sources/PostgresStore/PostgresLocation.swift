import Foundation
import NIOSSL
import PostgresNIO

/// Where the database is, from a libpq-style URL (SPEC §11):
///
///     postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE]
///     postgres://USER@/DATABASE?host=/run/postgresql        (a Unix socket's directory)
///
/// `postgresql://` is the same. `sslmode` as libpq: `disable`, `allow` and `prefer` (TLS when
/// the server offers it, without verifying the certificate, as libpq), `require` (TLS, not
/// verified), `verify-ca` and `verify-full` (TLS with the system's trust roots, or
/// `sslrootcert`; `verify-full` also checks the host name). Default `prefer`, as libpq.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        /// The socket file itself (`<dir>/.s.PGSQL.<port>`).
        case socket(path: String)
    }

    public var endpoint: Endpoint
    public var user: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode
    public var sslRootCertificate: String?
    public var applicationName: String

    /// Whether `text` names a PostgreSQL database rather than the file store.
    public static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    public init(_ text: String) throws(Invalid) {
        func invalid(_ why: String) -> Invalid {
            Invalid(description: "'\(Self.redacted(text))' is not a PostgreSQL URL: \(why) (expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=require])")
        }
        guard Self.isPostgres(text) else { throw invalid("it must start with postgres:// or postgresql://") }
        guard let components = URLComponents(string: text) else { throw invalid("it cannot be parsed") }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] {
            guard let value = item.value else { throw invalid("parameter '\(item.name)' has no value") }
            query[item.name] = value
        }
        let known: Set<String> = ["sslmode", "sslrootcert", "host", "port", "application_name", "user", "password", "dbname"]
        if let unknown = query.keys.sorted().first(where: { !known.contains($0) }) {
            throw invalid("unknown parameter '\(unknown)' (known: \(known.sorted().joined(separator: ", ")))")
        }
        let user = query["user"] ?? components.user.flatMap { $0.removingPercentEncoding } ?? ""
        guard !user.isEmpty else { throw invalid("no user name") }
        self.user = user
        password = query["password"] ?? components.password.flatMap { $0.removingPercentEncoding }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        let database = query["dbname"] ?? path.removingPercentEncoding ?? path
        guard !database.isEmpty, !database.contains("/") else { throw invalid("no database name after the host") }
        self.database = database
        let portText = query["port"] ?? components.port.map(String.init)
        let port: Int
        if let portText {
            guard let value = Int(portText), (1...65_535).contains(value) else { throw invalid("port '\(portText)' is not 1-65535") }
            port = value
        } else {
            port = 5432
        }
        let host = query["host"] ?? components.host.flatMap { $0.removingPercentEncoding } ?? ""
        if host.hasPrefix("/") {
            endpoint = .socket(path: "\(host)/.s.PGSQL.\(port)")
        } else {
            guard !host.isEmpty else { throw invalid("no host (for a Unix socket, add ?host=/path/to/socket/directory)") }
            endpoint = .tcp(host: host, port: port)
        }
        let modeText = query["sslmode"] ?? "prefer"
        guard let mode = SSLMode(rawValue: modeText) else {
            throw invalid("sslmode '\(modeText)' is not one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        sslMode = mode
        sslRootCertificate = query["sslrootcert"]
        applicationName = query["application_name"] ?? "kiothc"
    }

    /// The URL without its password, for logs and messages.
    public var description: String {
        let userPart = password == nil ? user : "\(user):***"
        switch endpoint {
        case .tcp(let host, let port): return "postgres://\(userPart)@\(host):\(port)/\(database)?sslmode=\(sslMode.rawValue)"
        case .socket(let path): return "postgres://\(userPart)@/\(database)?host=\((path as NSString).deletingLastPathComponent)"
        }
    }

    /// `text` with any password replaced by `***`.
    public static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text) else { return "postgres://…" }
        if components.password != nil { components.password = "***" }
        if let items = components.queryItems, items.contains(where: { $0.name == "password" }) {
            components.queryItems = items.map { $0.name == "password" ? URLQueryItem(name: "password", value: "***") : $0 }
        }
        return components.string ?? "postgres://…"
    }

    /// The client configuration: TLS as `sslmode` says, short timeouts so a lost database is
    /// noticed (pings answer 503) rather than waited for.
    func clientConfiguration(maximumConnections: Int) throws -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        switch endpoint {
        case .socket(let path):
            configuration = PostgresClient.Configuration(unixSocketPath: path, username: user, password: password, database: database)
        case .tcp(let host, let port):
            configuration = PostgresClient.Configuration(
                host: host, port: port, username: user, password: password, database: database, tls: try tls())
        }
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.minimumConnections = 1
        configuration.options.additionalStartupParameters = [("application_name", applicationName)]
        return configuration
    }

    /// The single-connection form of the same settings (the start's migration, the listener of
    /// state changes), named `<application_name><suffix>` in `pg_stat_activity`.
    func connectionConfiguration(nameSuffix: String = "-listen") throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        switch endpoint {
        case .socket(let path):
            configuration = PostgresConnection.Configuration(unixSocketPath: path, username: user, password: password, database: database)
        case .tcp(let host, let port):
            let tls: PostgresConnection.Configuration.TLS
            switch sslMode {
            case .disable: tls = .disable
            case .allow, .prefer: tls = .prefer(try NIOSSLContext(configuration: try tlsConfiguration()))
            case .require, .verifyCA, .verifyFull: tls = .require(try NIOSSLContext(configuration: try tlsConfiguration()))
            }
            configuration = PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
        }
        configuration.options.additionalStartupParameters = [("application_name", applicationName + nameSuffix)]
        return configuration
    }

    private func tls() throws -> PostgresClient.Configuration.TLS {
        switch sslMode {
        case .disable: return .disable
        case .allow, .prefer: return .prefer(try tlsConfiguration())
        case .require, .verifyCA, .verifyFull: return .require(try tlsConfiguration())
        }
    }

    private func tlsConfiguration() throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch sslMode {
        case .disable, .allow, .prefer, .require:
            tls.certificateVerification = .none
        case .verifyCA:
            tls.certificateVerification = .noHostnameVerification
        case .verifyFull:
            tls.certificateVerification = .fullVerification
        }
        if let root = sslRootCertificate {
            tls.trustRoots = .file(root)
        }
        return tls
    }
}
