/// The layout the store writes its large JSON documents in (`registry.json`, `catalog.json`):
/// one top-level object whose fields each sit on a line of their own, arrays with one flat
/// object per line:
///
///     {
///       "checks" : [
///         {"key":"db-backup","project":"ops","uuid":"…"},
///         {"key":"etl","project":"ops","uuid":"…"}
///       ],
///       "v" : 1
///     }
///
/// Still plain JSON (any JSON reader, an older server included, reads it), but readable a line
/// at a time with `FlatJSON`, which is what makes a million checks load in a second rather than
/// a minute through Foundation's decoder. `split` returns nil for any other layout (a file
/// written by an older version, or edited by hand); the caller then decodes it as any JSON.
struct LinedJSONDocument {
    /// Top-level scalar fields, unparsed (e.g. `1`, `"text"`).
    var scalars: [String: ArraySlice<UInt8>] = [:]
    /// Top-level array fields: each element's line (one JSON object), in order.
    var arrays: [String: [ArraySlice<UInt8>]] = [:]

    static func split(_ bytes: [UInt8]) -> LinedJSONDocument? {
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)[...]
        // A trailing newline leaves one empty line.
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard lines.first.map(Array.init) == Array("{".utf8), lines.last.map(Array.init) == Array("}".utf8) else { return nil }
        lines = lines.dropFirst().dropLast()
        var document = LinedJSONDocument()
        while let line = lines.popFirst() {
            guard let (name, rest) = field(line) else { return nil }
            let ending = lines.isEmpty ? "" : ","
            if rest.elementsEqual("[]\(ending)".utf8) {
                document.arrays[name] = []
            } else if rest.elementsEqual("[".utf8) {
                var elements: [ArraySlice<UInt8>] = []
                while true {
                    guard let element = lines.popFirst() else { return nil }
                    if element.elementsEqual("  ]\(ending)".utf8) { break }
                    guard element.starts(with: "    {".utf8) else { return nil }
                    var object = element.dropFirst(4)
                    if object.last == UInt8(ascii: ",") { object = object.dropLast() }
                    guard object.last == UInt8(ascii: "}") else { return nil }
                    elements.append(object)
                }
                document.arrays[name] = elements
            } else {
                guard ending.isEmpty || rest.last == UInt8(ascii: ",") else { return nil }
                document.scalars[name] = ending.isEmpty ? rest : rest.dropLast()
            }
        }
        return document
    }

    /// `  "name" : rest` → (name, rest); nil for anything else (names are plain ASCII here).
    private static func field(_ line: ArraySlice<UInt8>) -> (String, ArraySlice<UInt8>)? {
        guard line.starts(with: "  \"".utf8) else { return nil }
        let nameStart = line.startIndex + 3
        guard let nameEnd = line[nameStart...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        let name = line[nameStart..<nameEnd]
        guard !name.contains(UInt8(ascii: "\\")), line[nameEnd...].starts(with: "\" : ".utf8) else { return nil }
        return (String(decoding: name, as: UTF8.self), line[(nameEnd + 4)...])
    }
}
