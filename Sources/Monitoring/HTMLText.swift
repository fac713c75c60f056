/// Text for HTML: `&`, `<`, `>`, `"` and `'` as entities, so a value from configuration, a ping
/// or a request stays text wherever it lands (the dashboard, an email's HTML part, Telegram's
/// and Matrix's messages).
public enum HTMLText {
    public static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
