import GRDB

/// How a bookkeeper names a transaction in a sentence: "Check 1043 of 2026-01-04
/// to Acme Supply for 45.00", "Deposit of 2025-12-14 for 4,659.00 (Deposit of
/// customer payments)".
enum TransactionTitle {
    /// The name of transaction `id`, `amount` being what it moves in the account at
    /// hand (its sign is dropped); "transaction 90" when the row cannot be read.
    static func of(_ id: Int64, amount: Int64, in db: Database) throws -> String {
        guard
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT t.kind, t.number, t.date, t.memo, p.name FROM transactions t LEFT JOIN parties p ON p.id = t.party_id
                    WHERE t.id = ?
                    """, arguments: [id])
        else { return "transaction \(id)" }
        let kind = row.text("kind").flatMap(TransactionKind.init(rawValue:))
        var words = kind?.displayName ?? "Transaction"
        if let number = row.value("number", as: String.self), !number.isEmpty { words += " " + number }
        words += " of " + (row.value("date", as: String.self) ?? "an unknown day")
        if let party = row.value("name", as: String.self), !party.isEmpty {
            words += " " + preposition(kind) + " " + party
        }
        words += " for " + Money(cents: amount).magnitude.description
        if row.value("name", as: String.self) == nil, let memo = row.value("memo", as: String.self), !memo.isEmpty {
            words += " (\(memo))"
        }
        return words
    }

    private static func preposition(_ kind: TransactionKind?) -> String {
        switch kind {
        case .invoice, .check, .billPayment, .creditCardCharge: return "to"
        case .payment, .bill, .deposit: return "from"
        case .journal, .transfer, nil: return "with"
        }
    }
}
