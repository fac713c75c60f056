/// Every `KIOTHC_*` variable the command line reads, in one table. An option's help names its
/// variable but never shows its value: the environment is read only after parsing (`Environment`),
/// never as an option's default, which ArgumentParser would print in `--help`.
enum EnvironmentVariable: String, CaseIterable, Sendable {
    case config = "KIOTHC_CONFIG"
    case data = "KIOTHC_DATA"
    case store = "KIOTHC_STORE"
    case baseURL = "KIOTHC_BASE_URL"
    case listen = "KIOTHC_LISTEN"
    case tlsCert = "KIOTHC_TLS_CERT"
    case tlsKey = "KIOTHC_TLS_KEY"
    case tlsReloadPoll = "KIOTHC_TLS_RELOAD_POLL"
    case durability = "KIOTHC_DURABILITY"
    case keepPings = "KIOTHC_KEEP_PINGS"
    case maxRequestBody = "KIOTHC_MAX_REQUEST_BODY"
    case idleTimeout = "KIOTHC_IDLE_TIMEOUT"
    case headerTimeout = "KIOTHC_HEADER_TIMEOUT"
    case maxConnections = "KIOTHC_MAX_CONNECTIONS"
    case adminTokenFile = "KIOTHC_ADMIN_TOKEN_FILE"
    case reloadPoll = "KIOTHC_RELOAD_POLL"
    case watchConfig = "KIOTHC_WATCH_CONFIG"
    case logLevel = "KIOTHC_LOG_LEVEL"
    case logFormat = "KIOTHC_LOG_FORMAT"
    case smtp = "KIOTHC_SMTP"
    case smtpFrom = "KIOTHC_SMTP_FROM"
    case smtpCAFile = "KIOTHC_SMTP_CA_FILE"
    case server = "KIOTHC_SERVER"
    case apiKey = "KIOTHC_API_KEY"
    case pingURL = "KIOTHC_PING_URL"
    case uuid = "KIOTHC_UUID"
    case pingKey = "KIOTHC_PING_KEY"
    case pingKeyFile = "KIOTHC_PING_KEY_FILE"
    case slug = "KIOTHC_SLUG"
    case timeout = "KIOTHC_TIMEOUT"
    case attempts = "KIOTHC_ATTEMPTS"

    /// Credentials: their value appears in no help, error or log, not even in the error that
    /// rejects it. A check's UUID and ping URL count, as in Healthchecks: either is enough to ping.
    var isSecret: Bool {
        switch self {
        // A store URL may hold the database's password.
        case .apiKey, .pingKey, .pingURL, .uuid, .store: true
        // The relay's URL holds its password.
        case .smtp: true
        default: false
        }
    }
}
