/// Where a bank line's check number lives.
///
/// `bank_feed` (docs/company-file.md, format version 1) has no column for it, and a new column
/// would change the format every other program writes; so the number is kept in
/// the line's memo as "Check 1043" ("Check 1043; Rent" before the bank's own memo),
/// unless the payee or memo already says it. When the line is added to the books
/// it becomes the transaction's `number`, and matching weighs it like a payee word.
enum CheckNumber {
    /// The memo to store for a line with `memo`, `payee` and check `number`.
    static func memo(_ memo: String?, payee: String?, number: String?) -> String? {
        guard let number, !number.isEmpty, found(payee: payee, memo: memo) != number else { return memo }
        return "Check \(number)" + (memo.map { "; " + $0 } ?? "")
    }

    /// A stored memo without the "Check 1043" words `memo(_:payee:number:)` put
    /// before it: what a transaction made from the line keeps as its memo, the
    /// number going to its own column.
    static func memoWithout(_ memo: String?, number: String?) -> String? {
        guard let memo, let number else { return memo }
        let words = "Check \(number)"
        if memo == words { return nil }
        return memo.hasPrefix(words + "; ") ? String(memo.dropFirst(words.count + 2)) : memo
    }

    /// The check number a line's memo or payee begins with: "Check 1043",
    /// "CHECK #1043", "Check No. 1043"; nil when neither does.
    static func found(payee: String?, memo: String?) -> String? {
        for text in [memo, payee].compactMap({ $0 }) {
            if let number = leading(text) { return number }
        }
        return nil
    }

    private static func leading(_ text: String) -> String? {
        var rest = Substring(text.drop { $0 == " " })
        guard rest.prefix(5).lowercased() == "check" else { return nil }
        rest = rest.dropFirst(5).drop { $0 == " " || $0 == "#" }
        if rest.prefix(2).lowercased() == "no" { rest = rest.dropFirst(2).drop { $0 == " " || $0 == "." || $0 == "#" } }
        guard rest.first?.isASCIIDigit == true else { return nil }
        let number = rest.prefix { $0.isASCIIDigit || $0.isLetter || $0 == "-" }
        return String(number)
    }
}
