import ArgumentParser
import Foundation
import LedgerKit

/// How rebuild tells, in words, what it kept after damage and what it could not.
enum DamageText {
    static func print(_ damage: DamageOutcome, paint: Paint, limit: Int) {
        if let snapshot = damage.snapshot {
            let restored = damage.restored.sorted { $0.key < $1.key }.map { "\($0.key) \(Output.grouped($0.value))" }
            let replaced = damage.replaced.sorted { $0.key < $1.key }.map { "\($0.key) \(Output.grouped($0.value))" }
            Output.line(
                paint.bold("Brought back")
                    + " from the last clean snapshot, \(snapshot) (taken \(damage.snapshotTakenAt ?? "?")):")
            Output.line(
                "  rows the damage took: " + (restored.isEmpty ? "none needed" : restored.joined(separator: ", ")))
            let alone = damage.restoredUnlisted.filter { $0.value > 0 }.sorted { $0.key < $1.key }
            let rows = alone.filter { $0.key != "company" }
            if !rows.isEmpty {
                Output.line(
                    "  of these, taken on the snapshot's word alone (nothing left in the file shows they were still there, so a row deleted after the snapshot would be among them; check them against your records): "
                        + rows.map { "\($0.key) \(Output.grouped($0.value))" }.joined(separator: ", "))
            }
            if alone.contains(where: { $0.key == "company" }) {
                Output.line(
                    "  the company row (its name and currency) is the snapshot's: a change made after the snapshot is not in it; check it with 'ledger info'"
                )
            }
            if !replaced.isEmpty {
                Output.line(
                    "  rows read from damaged pages, set back to the snapshot's values (check them): "
                        + replaced.joined(separator: ", "))
                values(damage.replacedValues, limit: limit)
            }
            if !damage.changedValues.isEmpty {
                Output.line(
                    "  rows brought back that the damaged file shows were changed after the snapshot: the newer values it still holds are kept, the rest is the snapshot's (check them):"
                )
                values(damage.changedValues, limit: limit)
            }
            let bankLines = damage.perhapsChanged.filter { $0.table == "bank_feed" }
            if !bankLines.isEmpty {
                Output.line(
                    "  bank lines brought back that 'ledger feed' commands run after the snapshot may have changed ("
                        + damage.laterCommands.joined(separator: ", ")
                        + "): each keeps the snapshot's status; check it against your bank statement:")
                Output.line("    bank lines " + ids(bankLines, limit: limit))
            }
            let lines = damage.perhapsChanged.filter { $0.table == "splits" }
            if !lines.isEmpty {
                Output.line(
                    "  lines brought back whose cleared mark a reconciliation made after the snapshot may have changed ("
                        + damage.laterReconciliations.joined(separator: ", ")
                        + "): each keeps the snapshot's mark; check them against that statement:")
                Output.line("    lines " + ids(lines, limit: limit))
            }
            let changed = damage.changedSince.filter { $0.value > 0 }.sorted { $0.key < $1.key }
            if !changed.isEmpty {
                Output.line(
                    "  not brought back, because their transaction changed after the snapshot: "
                        + changed.map { "\($0.key) \(Output.grouped($0.value))" }.joined(separator: ", "))
            }
        } else {
            // Snapshots found but passed over (another company's, none shown to be of these books) say why in the notes.
            Output.line(
                damage.notes.isEmpty
                    ? "No clean snapshot of this file was found to bring lost rows back from."
                    : "No snapshot could be used to bring lost rows back from (the notes below say why).")
        }
        for note in damage.notes { Output.line("  Note: \(note)") }
        if !damage.keptBalances.isEmpty {
            Output.line(
                paint.bold("Lost in damage")
                    + " — these balances were kept as they were before the damage, against Rebuild Suspense; check them against your records:"
            )
            Output.lines(damage.keptBalances, limit: limit * 4) { kept in
                let what = kept.table == "accounts" ? "Account \(kept.name)" : kept.name
                return
                    "\(what) (\(kept.table) \(kept.id)): showed \(Money(cents: kept.shown)); its lines now come to \(Money(cents: kept.remaining))"
            }
        }
        if !damage.unconfirmed.isEmpty {
            Output.line(
                paint.bold("Read from a damaged page: check them") + " — no clean snapshot confirmed these rows:")
            Output.lines(damage.unconfirmed, limit: limit * 4) { "\($0.table) \($0.rowID)" }
        }
    }

    /// Each value as it was and as it is now ("splits 4304 amount: 253.53 → 153.53"), the first few.
    /// "12, 13, 14 … and 8 more": the rows' ids, as many as four times `limit`.
    private static func ids(_ rows: [DoubtfulRow], limit: Int) -> String {
        let shown = rows.prefix(limit * 4).map { String($0.rowID) }
        return shown.joined(separator: ", ")
            + (rows.count > shown.count ? " … and \(rows.count - shown.count) more" : "")
    }

    private static func values(_ values: [ReplacedValue], limit: Int) {
        Output.lines(values, limit: limit * 4, indent: "    ") {
            "\($0.table) \($0.rowID) \($0.column): \($0.old) → \($0.new)"
        }
    }

    /// Whether every row did come back, and all that keeps the rebuild from
    /// complete is rows taken on the snapshot's word alone, or brought back
    /// with values the file's indexes show changed since (a person checks them).
    static func onlyTakenOnTrust(_ report: RebuildReport, salvage: [SalvagedTable]) -> Bool {
        guard var damage = report.damage,
            damage.restoredUnlisted.values.contains(where: { $0 > 0 }) || !damage.changedValues.isEmpty
                || !damage.perhapsChanged.isEmpty
        else {
            return false
        }
        damage.restoredUnlisted = [:]
        damage.changedValues = []
        damage.perhapsChanged = []
        return damage.isWhole && salvage.allSatisfy { $0.altered == 0 }
    }

    /// "splits 147 lost; documents: unknown (why)" for the last line.
    static func summary(_ report: RebuildReport, salvage: [SalvagedTable]) -> String {
        guard let damage = report.damage else {
            return salvage.filter { !$0.isWhole }.map { "\($0.table) \(Output.grouped($0.lost)) lost" }.joined(
                separator: "; ")
        }
        var parts = damage.loss.compactMap { loss -> String? in
            var words: [String] = []
            if !loss.exact {
                words.append(
                    loss.lost > 0
                        ? "\(Output.grouped(loss.lost)) lost and maybe more (\(loss.why ?? "unknown"))"
                        : "loss unknown (\(loss.why ?? "unknown"))")
            } else if loss.lost > 0 {
                words.append("\(Output.grouped(loss.lost)) lost")
            }
            if loss.fromIndexes > 0 {
                words.append("\(Output.grouped(loss.fromIndexes)) rebuilt from indexes with fields missing")
            }
            return words.isEmpty ? nil : "\(loss.table) " + words.joined(separator: ", ")
        }
        let altered = salvage.filter { $0.altered > 0 }.map {
            "\($0.table) \(Output.grouped($0.altered)) kept with a forbidden value replaced"
        }
        parts += altered
        if !damage.unconfirmed.isEmpty {
            parts.append("\(Output.count(damage.unconfirmed.count, "row")) read from a damaged page: check them")
        }
        let replaced = damage.replaced.values.reduce(0, +)
        if replaced > 0 {
            parts.append(
                "\(Output.count(replaced, "row")) read from a damaged page set back to the snapshot: check them")
        }
        let changedRows = Set(damage.changedValues.map { "\($0.table) \($0.rowID)" }).count
        if changedRows > 0 {
            parts.append(
                "\(Output.count(changedRows, "row")) brought back from the snapshot changed after it: check them")
        }
        let bankLines = damage.perhapsChanged.filter { $0.table == "bank_feed" }.count
        if bankLines > 0 {
            parts.append(
                "\(Output.count(bankLines, "bank line")) brought back that a bank-feed command may have changed since: check them"
            )
        }
        let lines = damage.perhapsChanged.filter { $0.table == "splits" }.count
        if lines > 0 {
            parts.append(
                "\(Output.count(lines, "line")) brought back whose cleared mark a later reconciliation may have changed: check them"
            )
        }
        if !damage.keptBalances.isEmpty {
            parts.append("\(Output.count(damage.keptBalances.count, "balance")) kept by a 'Lost in damage' journal")
        }
        let alone = damage.restoredUnlisted.filter { $0.key != "company" }.values.reduce(0, +)
        if alone > 0 {
            parts.append(
                "\(Output.count(alone, "row")) brought back on the snapshot's word alone: check none was deleted after it"
            )
        }
        if damage.restoredUnlisted["company", default: 0] > 0 {
            parts.append("the company row came back as the snapshot had it: check it")
        }
        if let cut = damage.cutShortBy { parts.insert("the file was cut short by \(Output.count(cut, "page"))", at: 0) }
        return parts.joined(separator: "; ")
    }
}
