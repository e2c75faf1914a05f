import Foundation
import GRDB

/// Text columns as an export writes them, counting what could not be kept.
///
/// The export selects every text column as `CAST(column AS BLOB)`, so that it
/// sees the bytes as stored: GRDB reads a text's bytes that are not UTF-8 as
/// U+FFFD without a word, and traps on a blob where a String was expected
/// (`UPDATE accounts SET name = X'FF'`).
struct StoredText {
    /// How many values held bytes that are not UTF-8; each such byte is written as U+FFFD.
    private(set) var notUTF8 = 0

    /// `column` of `row` as text; nil when NULL or when there is no row.
    mutating func read(_ row: Row?, _ column: String) -> String? {
        guard let row else { return nil }
        switch row.stored(column).storage {
        case .null: return nil
        case .blob(let bytes): return decoded(bytes)
        case .string(let text): return text
        case .int64(let number): return String(number)
        case .double(let number): return String(number)
        }
    }

    private mutating func decoded(_ bytes: Data) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        if !text.utf8.elementsEqual(bytes) { notUTF8 += 1 }
        return text
    }
}
