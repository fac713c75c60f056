import Alerting
import PingStore
import PostgresStore

/// What the runtime of `kiothc serve` is told: where the configuration and the data live, how
/// the store writes, and how reloads are noticed. The HTTP side's options are `ServeOptions`.
public struct RuntimeOptions: Sendable {
    public var configDirectory = "checks.d"
    public var dataDirectory = "data"
    /// Where pings, flips, states, identity and the alert queue live (`--store`): the data
    /// directory's files, or a PostgreSQL database several instances share (SPEC §11).
    public var store: StoreChoice = .files
    public var durability: PingStore.Durability = .fsync
    /// Pings kept per check (`--keep-pings`).
    public var keepPings = 1_000
    /// How often the config tree is fingerprinted as a fallback for inotify; nil disables it.
    public var reloadPoll: Duration? = .seconds(5)
    /// inotify on the config tree (Linux).
    public var watchConfig = true
    /// File events this close together become one reload.
    public var reloadDebounce: Duration = .milliseconds(150)
    /// The admin token's file; nil: `<data>/admin-token`, generated at the first start.
    public var adminTokenFile: String?
    /// How email channels send (`--smtp`); nil: they fail, saying the server has no relay.
    public var mailer: (any Mailer)?
    /// Test seam: system calls of the store fail as this says (PingStore.FaultInjector).
    var storeFaults: FaultInjector?
    /// Test seam: how many check files the store keeps open (`PingStore.Options`). A test
    /// process runs many stores at once, and Foundation's `Process.run()` over-reads once some
    /// 1,350 descriptors are open (see TestSupport's `launch`).
    var storeOpenFileLimit = 4096

    public init() {}
}

/// `--store`: `file` (the data directory) or `postgres://…`.
public enum StoreChoice: Sendable, Equatable {
    case files
    case postgres(PostgresLocation)

    /// `file`, or a PostgreSQL URL; anything else is refused with what is accepted.
    public init(_ text: String) throws(PostgresLocation.Invalid) {
        if text == "file" {
            self = .files
        } else if PostgresLocation.isPostgres(text) {
            self = .postgres(try PostgresLocation(text))
        } else {
            throw PostgresLocation.Invalid(description: "--store must be 'file' (the data directory) or a postgres:// URL, not '\(PostgresLocation.redacted(text))'")
        }
    }
}
