import ArgumentParser
import Foundation
import LedgerKit

/// The one-line descriptions of repair actions that rebuild and log print.
enum RepairText {
    static func describe(_ action: RepairAction) -> String {
        if let words = action.words { return words }
        let row = "\(action.table) \(action.rowID.map(String.init) ?? "?")"
        switch action.action {
        case .insert: return "added \(row): \(action.after ?? "")"
        case .delete: return "deleted \(row): \(action.before ?? "")"
        case .update: return "changed \(row): \(changes(action.before, action.after))"
        }
    }

    /// "memo: null → \"x\"; account_id: 7 → 60" from two JSON objects.
    static func changes(_ before: String?, _ after: String?) -> String {
        func object(_ text: String?) -> [String: Any] {
            guard let data = text?.data(using: .utf8),
                let value = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
                    as? [String: Any]
            else { return [:] }
            return value
        }
        func show(_ value: Any?) -> String {
            guard let value, !(value is NSNull) else { return "null" }
            if let text = value as? String { return "\"\(text)\"" }
            return "\(value)"
        }
        let old = object(before)
        let new = object(after)
        let keys = Set(old.keys).union(new.keys).sorted()
        let changed = keys.filter { show(old[$0]) != show(new[$0]) }
        return changed.isEmpty
            ? "no visible change" : changed.map { "\($0) \(show(old[$0])) → \(show(new[$0]))" }.joined(separator: "; ")
    }
}
