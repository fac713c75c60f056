import Monitoring
import Runtime

/// HTML text escaping: every value from configuration, pings or requests goes through it.
enum HTML {
    static func escape(_ text: String) -> String { HTMLText.escape(text) }
}
