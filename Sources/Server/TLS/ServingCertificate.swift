import Logging
import Monitoring
import NIOSSL
import Synchronization

/// The certificate chain and key new TLS handshakes get: loaded at start, replaced whole by a
/// reload that read a new pair that works. Each handshake asks for it through NIOSSL's
/// per-handshake override (`TLSConfiguration.sslContextCallback`, what swift-nio-extras'
/// certificate reloader uses too); a connection keeps the pair its handshake got for as long as
/// it is open, so a reload drops nothing.
final class ServingCertificate: Sendable {
    let certificatePath: String
    let keyPath: String
    private let state: Mutex<State>
    private let logger: Logger
    /// Microseconds since the Unix epoch.
    private let now: @Sendable () -> Int64

    private struct State {
        var pair: CertificatePair
        /// The pair as a handshake takes it, built once per reload rather than per handshake.
        var override: NIOSSLContextConfigurationOverride
        var lastFailed = false
        var reloads = 0
        var failures = 0
    }

    /// What asked for a reload.
    enum Trigger: String, Sendable {
        case files = "its files changed"
        case signal = "SIGHUP"
    }

    enum Outcome: Sendable, Equatable {
        /// The files hold the pair in use (the same bytes): nothing was done.
        case unchanged
        case reloaded
        /// The previous pair stays in use; the log and `/metrics` say why.
        case failed
    }

    /// What `/metrics` shows.
    struct Status: Sendable, Equatable {
        /// The notAfter of the leaf certificate new connections get, in seconds since the epoch.
        var notAfter: Int64
        var lastSucceeded: Bool
        var reloads: Int
        var failures: Int
    }

    /// Loads the pair the server starts with. Unlike a reload, an expired certificate is served
    /// (with a warning): there is no previous one to keep, and plain listeners and clients that
    /// do not check it still work.
    init(certificate: String, key: String, logger: Logger, now: @escaping @Sendable () -> Int64) throws(CertificateProblem) {
        let pair = try CertificatePair(try CertificateFiles.read(certificate: certificate, key: key), certificate: certificate, key: key)
        certificatePath = certificate
        keyPath = key
        state = Mutex(State(pair: pair, override: pair.override))
        self.logger = logger
        self.now = now
        logger.notice("TLS certificate '\(certificate)': \(pair.summary)")
        let seconds = now() / 1_000_000
        if pair.notAfter <= seconds {
            logger.warning(
                "the TLS certificate '\(certificate)' expired at \(Self.date(pair.notAfter)); clients that check it refuse to connect. Replace it: it is reloaded when its files change or on SIGHUP")
        }
        warnIfNotYetValid(pair, seconds: seconds)
    }

    /// The configuration of every HTTPS listener: the pair loaded at start, and the callback
    /// that gives each new handshake the pair serving now.
    var tlsConfiguration: TLSConfiguration {
        let pair = state.withLock { $0.pair }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: pair.chain.map { .certificate($0) }, privateKey: .privateKey(pair.key))
        configuration.sslContextCallback = { [self] _, promise in
            promise.succeed(state.withLock { $0.override })
        }
        return configuration
    }

    var status: Status {
        state.withLock { Status(notAfter: $0.pair.notAfter, lastSucceeded: !$0.lastFailed, reloads: $0.reloads, failures: $0.failures) }
    }

    /// Reads both files and, when they hold a new pair that works, gives it to new handshakes.
    /// A pair that does not (unreadable, not PEM, a key that is not the certificate's, an
    /// expired certificate) leaves the previous one in use, and says so: an error in the log
    /// naming the file and what is wrong, `kiothc_tls_certificate_last_reload_successful` 0.
    /// Blocking I/O: call it off the cooperative pool.
    @discardableResult
    func reload(after trigger: Trigger) -> Outcome {
        let problem: CertificateProblem
        do throws(CertificateProblem) {
            let files = try CertificateFiles.read(certificate: certificatePath, key: keyPath)
            let serving = state.withLock { $0.pair }
            if files == serving.files {
                let recovered = state.withLock { state in
                    defer { state.lastFailed = false }
                    return state.lastFailed
                }
                if recovered {
                    logger.notice(
                        "TLS certificate files hold the pair in use again (\(trigger.rawValue)); the last reload's problem is gone",
                        metadata: metadata)
                } else {
                    logger.debug("TLS certificate unchanged (\(trigger.rawValue))", metadata: metadata)
                }
                return .unchanged
            }
            let pair = try CertificatePair(files, certificate: certificatePath, key: keyPath)
            let seconds = now() / 1_000_000
            if pair.notAfter <= seconds {
                throw CertificateProblem("the TLS certificate '\(certificatePath)' expired at \(Self.date(pair.notAfter))")
            }
            state.withLock { state in
                state.pair = pair
                state.override = pair.override
                state.lastFailed = false
                state.reloads += 1
            }
            logger.notice(
                "TLS certificate reloaded (\(trigger.rawValue)): \(pair.summary); new connections get it, open ones keep theirs", metadata: metadata)
            warnIfNotYetValid(pair, seconds: seconds)
            return .reloaded
        } catch {
            problem = error
        }
        let serving = state.withLock { state in
            state.lastFailed = true
            state.failures += 1
            return state.pair
        }
        logger.error(
            "TLS certificate not reloaded (\(trigger.rawValue)): \(problem.message); new connections still get the previous one (\(serving.summary))",
            metadata: metadata)
        return .failed
    }

    private var metadata: Logger.Metadata {
        ["tls.certificate": "\(certificatePath)", "tls.key": "\(keyPath)"]
    }

    /// Served anyway: a clock behind the certificate authority's is more likely than a
    /// certificate meant for later.
    private func warnIfNotYetValid(_ pair: CertificatePair, seconds: Int64) {
        guard pair.notBefore > seconds else { return }
        logger.warning(
            "the TLS certificate '\(certificatePath)' is not valid before \(Self.date(pair.notBefore)); clients that check it refuse to connect until then (is this machine's clock right?)")
    }

    private static func date(_ seconds: Int64) -> String {
        UTCTime.readable(seconds * 1_000_000)
    }
}
