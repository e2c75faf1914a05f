import Foundation
import GRDB

/// Repair actions in a bookkeeper's words: money in dollars as the trial
/// balance shows it, rows named by what they are ("line 1345 of Credit card
/// charge of 2025-12-27 (transaction 499)"), never raw JSON. The exact values
/// stay in the action's `before` and `after`.
///
/// Not Sendable: it reads through one connection's `Database`.
final class RepairWording {
    private let db: Database
    private let transactions: TransactionDescriber
    private var accountNames: [Int64: String?] = [:]
    private var partyNames: [Int64: String?] = [:]

    /// Columns that hold money (cents).
    static let money: Set<String> = [
        "amount", "balance", "total", "balance_due", "unit_price", "beginning_balance", "ending_balance",
    ]

    init(db: Database) {
        self.db = db
        transactions = TransactionDescriber(db: db, hasSplits: true)
    }

    /// One line: "added line 1345 of …: 10.00 to Rebuild Suspense (memo …)".
    func describe(_ action: RepairAction) -> String {
        let before = Self.object(action.before)
        let after = Self.object(action.after)
        let row = after.isEmpty ? before : after
        let title = self.title(action.table, rowID: action.rowID, row)
        switch action.action {
        case .insert:
            let detail = summary(action.table, row)
            return "added \(title)" + (detail.isEmpty ? "" : ": " + detail)
        case .delete:
            let detail = summary(action.table, row)
            return "deleted \(title)" + (detail.isEmpty ? "" : ": " + detail)
        case .update:
            let keys = Set(before.keys).union(after.keys).sorted()
            let changes = keys.compactMap { key -> String? in
                let old = before[key] ?? .null
                let new = after[key] ?? .null
                guard old != new else { return nil }
                return "\(Self.words(key)) \(value(key, old)) → \(value(key, new))"
            }
            return "changed \(title): " + (changes.isEmpty ? "no visible change" : changes.joined(separator: "; "))
        }
    }

    // MARK: Rows

    private func title(_ table: String, rowID: Int64?, _ row: [String: Value]) -> String {
        let id = rowID.map(String.init) ?? "?"
        switch table {
        case "accounts":
            return "account \(row["name"]?.text ?? "?") (\(id))"
        case "parties":
            let kind =
                row["kind"]?.text.flatMap { ["customer", "vendor", "employee"].contains($0) ? $0 : nil } ?? "name"
            return "\(kind) \(row["name"]?.text ?? "?") (\(id))"
        case "items":
            return "item \(row["name"]?.text ?? "?") (\(id))"
        case "transactions":
            let kind = row["kind"]?.text.flatMap(TransactionKind.init(rawValue:))?.displayName ?? "Transaction"
            let number = row["number"]?.text.map { " " + $0 } ?? ""
            return "\(kind)\(number) of \(row["date"]?.text ?? "an unknown date") (transaction \(id))"
        case "splits":
            return "line \(id) of \(transaction(row["transaction_id"]))"
        case "documents":
            return "header of \(transaction(row["transaction_id"]))"
        case "document_lines":
            return "detail line \(id) of \(transaction(row["transaction_id"]))"
        case "applications":
            return "payment applied \(id), from \(transaction(row["payment_id"])) to \(transaction(row["document_id"]))"
        case "reconciliations":
            return "reconciliation \(id) of \(account(row["account_id"])) for \(row["statement_date"]?.text ?? "?")"
        case "bank_feed":
            return "bank line \(id) of \(row["posted_date"]?.text ?? "?")"
        default:
            return "\(table) \(id)"
        }
    }

    /// What an added or deleted row held, in a few words.
    private func summary(_ table: String, _ row: [String: Value]) -> String {
        switch table {
        case "splits":
            var text = "\(value("amount", row["amount"] ?? .null)) to \(account(row["account_id"]))"
            if let party = row["party_id"], party != .null { text += ", \(self.party(party))" }
            if let memo = row["memo"]?.text, !memo.isEmpty { text += " — \"\(memo)\"" }
            return text
        case "document_lines", "applications":
            return value("amount", row["amount"] ?? .null)
        case "documents":
            return
                "total \(value("total", row["total"] ?? .null)), open \(value("balance_due", row["balance_due"] ?? .null))"
        case "bank_feed":
            return "\(value("amount", row["amount"] ?? .null)) \(row["payee"]?.text ?? "")".trimmingCharacters(
                in: .whitespaces)
        case "transactions":
            return row["memo"]?.text.map { "\"\($0)\"" } ?? ""
        default:
            return ""
        }
    }

    // MARK: Values

    private func value(_ column: String, _ value: Value) -> String {
        switch value {
        case .null:
            return "none"
        case .integer(let number):
            if Self.money.contains(column), number >= -Money.limit, number <= Money.limit {
                return Money(cents: number).description
            }
            switch column {
            case "account_id", "income_account_id", "expense_account_id", "parent_id": return account(value)
            case "party_id": return party(value)
            case "transaction_id", "payment_id", "document_id":
                // After its column's words ("transaction"): "transaction 3, which no longer exists, → …".
                return (try? transactions.present(number)).flatMap { $0 } ?? "\(number), which no longer exists,"
            default: return String(number)
            }
        case .text(let text):
            return "\"\(text)\""
        case .other(let text):
            return text
        }
    }

    private func account(_ value: Value?) -> String {
        guard case .integer(let id)? = value else { return "account \(value?.plain ?? "none")" }
        return named("accounts", id, cache: &accountNames).map { "\($0) (account \(id))" } ?? "account \(id)"
    }

    private func party(_ value: Value?) -> String {
        guard case .integer(let id)? = value else { return "name \(value?.plain ?? "none")" }
        return named("parties", id, cache: &partyNames) ?? "name \(id)"
    }

    /// The text name of row `id` of `table` (accounts or parties), looked up once.
    private func named(_ table: String, _ id: Int64, cache: inout [Int64: String?]) -> String? {
        if let known = cache[id] { return known }
        let name =
            (try? String.fetchOne(
                db, sql: "SELECT name FROM \(table) WHERE id = ? AND typeof(name) = 'text'", arguments: [id])) ?? nil
        cache[id] = name
        return name
    }

    private func transaction(_ value: Value?) -> String {
        guard case .integer(let id)? = value else { return "transaction \(value?.plain ?? "none")" }
        return (try? transactions.transaction(id)) ?? "transaction \(id)"
    }

    static func words(_ column: String) -> String {
        switch column {
        case "balance_due": return "open balance"
        case "account_id": return "account"
        case "party_id": return "name"
        case "transaction_id": return "transaction"
        case "reconciliation_id": return "reconciliation"
        case "cleared": return "cleared"
        default: return column.replacingOccurrences(of: "_", with: " ")
        }
    }

    // MARK: JSON of a row

    /// A column's value as the repair record's JSON holds it.
    enum Value: Equatable {
        /// No value (JSON null).
        case null
        /// A whole number.
        case integer(Int64)
        /// Text.
        case text(String)
        /// Anything else (a real number, say), as written.
        case other(String)

        var text: String? {
            if case .text(let text) = self { return text }
            return nil
        }

        var plain: String {
            switch self {
            case .null: return "none"
            case .integer(let number): return String(number)
            case .text(let text): return text
            case .other(let text): return text
            }
        }
    }

    static func object(_ text: String?) -> [String: Value] {
        guard let data = text?.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) as? [String: Any]
        else { return [:] }
        return object.mapValues { value in
            switch value {
            case is NSNull: return .null
            case let text as String: return .text(text)
            case let number as NSNumber:
                // SQLite's json_object writes integers and reals; an integer reads back whole.
                let written = number.stringValue
                return Int64(written).map(Value.integer) ?? .other(written)
            default: return .other("\(value)")
            }
        }
    }
}
