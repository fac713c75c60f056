import Monitoring

extension AlertMessage {
    /// The message as a small HTML document (an email's HTML part): a coloured headline, the
    /// facts as a table, the body excerpt preformatted, the link. Every value is escaped.
    public var html: String {
        let colour = tone == .down ? "#c0392b" : tone == .up ? "#1e8449" : "#5d6d7e"
        var rows = ""
        for fact in facts {
            rows += "<tr><th align=\"left\" style=\"padding:2px 12px 2px 0\">\(HTMLText.escape(fact.label))</th><td>\(HTMLText.escape(fact.value))</td></tr>\n"
        }
        var html = """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>\(HTMLText.escape(subject))</title></head>
            <body style="font-family:sans-serif">
            <h2 style="color:\(colour)">\(HTMLText.escape(headline))</h2>
            <table>
            \(rows)</table>

            """
        if let excerpt {
            html += "<p>Last ping body:</p>\n<pre style=\"background:#f4f6f7;padding:8px\">\(HTMLText.escape(excerpt))</pre>\n"
        }
        if let link {
            html += "<p><a href=\"\(HTMLText.escape(link))\">Open \(HTMLText.escape(name)) on the dashboard</a></p>\n"
        }
        return html + "</body></html>\n"
    }
}
