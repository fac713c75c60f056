import Alerting
import PingStore
import Runtime

/// Everything `kiothc serve` is told, with the defaults of SPEC §2 and §4.
public struct ServeOptions: Sendable {
    public var configDirectory = "checks.d"
    public var dataDirectory = "data"
    /// `--store`: the data directory's files, or a PostgreSQL database (SPEC §11).
    public var store: StoreChoice = .files
    public var listen: [ListenAddress] = ListenAddress.defaults
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// How often the TLS certificate and key files are looked at for a change (then reloaded);
    /// nil: only on SIGHUP.
    public var tlsReloadPoll: Duration? = .seconds(5)
    /// The public URL of the server, for the ping URLs it prints; default: the first listener.
    public var baseURL: String?
    public var durability: PingStore.Durability = .fsync
    public var keepPings = 1_000
    public var maxRequestBody = 10 * 1024 * 1024
    /// Connections with no traffic for this long are closed (idle and slow clients).
    public var idleTimeoutSeconds = 60
    /// How long a new connection has to send its first request head (or, over HTTPS, to finish
    /// the TLS handshake); then it is closed (as nginx's `client_header_timeout`).
    public var headerTimeoutSeconds = 10
    /// Open connections per listener: bounded file descriptors and memory (an idle connection
    /// costs 13-20 KB). At the limit, the connections waiting longest for a request head are
    /// closed to make room; only if every one is answering a request do new clients wait in the
    /// kernel's backlog until one closes.
    public var maxConnections = 10_000
    /// The admin token's file; nil: `<data>/admin-token`, generated at the first start.
    public var adminTokenFile: String?
    /// How often the config tree is fingerprinted as a fallback for inotify; nil disables it.
    public var reloadPoll: Duration? = .seconds(5)
    /// inotify on the config tree (Linux).
    public var watchConfig = true
    /// File events this close together become one reload.
    public var reloadDebounce: Duration = .milliseconds(150)
    /// How email channels send (`--smtp`); nil: they fail, saying the server has no relay.
    public var mailer: (any Mailer)?
    public init() {}

    /// The part the runtime takes.
    public var runtime: RuntimeOptions {
        var options = RuntimeOptions()
        options.configDirectory = configDirectory
        options.dataDirectory = dataDirectory
        options.store = store
        options.durability = durability
        options.keepPings = keepPings
        options.reloadPoll = reloadPoll
        options.watchConfig = watchConfig
        options.reloadDebounce = reloadDebounce
        options.adminTokenFile = adminTokenFile
        options.mailer = mailer
        return options
    }
}
