/// Quotes text for SQL and CSV by Unicode scalars. A quote mark followed by a
/// combining mark (`"` U+0301) is one Character, which Character-wise
/// replacement (`replacingOccurrences`) leaves undoubled: a name read from a
/// hostile company file could then end its quotes early.
enum Quoting {
    /// `text` between `mark`s, each `mark` in it doubled.
    static func doubling(_ mark: Unicode.Scalar, around text: String) -> String {
        var scalars = String.UnicodeScalarView()
        scalars.append(mark)
        for scalar in text.unicodeScalars {
            scalars.append(scalar)
            if scalar == mark { scalars.append(mark) }
        }
        scalars.append(mark)
        return String(scalars)
    }

    /// Text from someone else's disk (a name, a reason) as one line of a
    /// message can show it: control characters (line breaks, escapes) become `?`.
    static func oneLine(_ text: String) -> String {
        String(
            String.UnicodeScalarView(text.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : $0 }))
    }

    /// Whether `scalar` changes the direction text is shown in (marks,
    /// embeddings, overrides, isolates): a name holding one could show as
    /// another's, so what a person reads shows U+FFFD in its place.
    static func isDirectionMark(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "\u{200E}", "\u{200F}", "\u{202A}"..."\u{202E}", "\u{2066}"..."\u{2069}", "\u{061C}": return true
        default: return false
        }
    }

    /// An SQL identifier: `"name"`.
    static func sqlIdentifier(_ name: String) -> String { doubling("\"", around: name) }

    /// An SQL string literal: `'text'`.
    static func sqlLiteral(_ text: String) -> String { doubling("'", around: text) }

    /// A field of RFC 4180 CSV: quoted when it holds a comma, a quote or a line
    /// break, and a semicolon or a tab too (a spreadsheet whose list separator
    /// is one of them, Excel in much of Europe, would split it otherwise).
    /// Scalars, not Characters: "\r\n" is one Character, equal to neither line end.
    static func csvField(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { ",;\t\"\n\r".unicodeScalars.contains($0) }) else { return text }
        return doubling("\"", around: text)
    }
}
