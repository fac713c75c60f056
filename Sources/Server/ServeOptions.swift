import PingStore

/// Everything `kiothc serve` is told, with the defaults of SPEC §2 and §4.
public struct ServeOptions: Sendable {
    public var configDirectory = "checks.d"
    public var dataDirectory = "data"
    public var listen: [ListenAddress] = ListenAddress.defaults
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// The public URL of the server, for the ping URLs it prints; default: the first listener.
    public var baseURL: String?
    public var durability: PingStore.Durability = .fsync
    public var keepPings = 1_000
    public var maxRequestBody = 10 * 1024 * 1024
    /// Connections with no traffic for this long are closed (idle and slow clients).
    public var idleTimeoutSeconds = 60
    /// Open connections per listener; beyond it the listener stops accepting (new clients wait
    /// in the kernel's backlog) until one closes: bounded file descriptors and memory.
    public var maxConnections = 1_000
    /// The admin token's file; nil: `<data>/admin-token`, generated at the first start.
    public var adminTokenFile: String?
    /// How often the config tree is fingerprinted as a fallback for inotify; nil disables it.
    public var reloadPoll: Duration? = .seconds(5)
    /// inotify on the config tree (Linux).
    public var watchConfig = true
    /// File events this close together become one reload.
    public var reloadDebounce: Duration = .milliseconds(150)
    /// Test only (`KIOTHC_TEST_TIME_SCALE`): check durations and alert retry delays divided by
    /// this, so end-to-end tests see a 60 s timeout expire in 1 s. Never set in production.
    public var testTimeScale: Int64 = 1

    public init() {}
}
