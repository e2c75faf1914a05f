import Testing

@testable import LedgerKit

/// One entry per finding code holds all that is known of it (issue 15):
/// the entries are whole, and what is read from them is what it was.
@Suite struct FindingCatalogTests {
    /// Whether the native pass's suspects narrow this check's SQL.
    static func isNarrowed(_ check: Check) -> Bool {
        switch check.source {
        case .condition(let scan, _, _): return Catalog.suspectTables.contains(scan)
        case .query(_, let suspects): return suspects != nil
        }
    }

    static func scanned(_ check: Check) -> String {
        guard case .condition(let scan, _, _) = check.source else { return "?" }
        return scan
    }

    @Test func everyCodeHasOneEntry() {
        let codes = FindingCatalog.entries.map(\.code)
        #expect(codes.count == FindingCode.allCases.count)
        #expect(Set(codes) == Set(FindingCode.allCases))
    }

    @Test func checksAndRemediesAgree() {
        for entry in FindingCatalog.entries {
            switch entry.remedy {
            case .remakesTheFile:
                // The structure check finds them; rebuild remakes the file.
                #expect(entry.checks.isEmpty, "\(entry.code)")
            case .forAPerson, .repair:
                #expect(!entry.checks.isEmpty, "\(entry.code) has no check")
            }
        }
        // The codes found in more than one table have a check for each.
        let tables = { (code: FindingCode) in
            FindingCatalog.entry(code).checks.map { $0.findingTable ?? Self.scanned($0) }
        }
        #expect(tables(.partyMissing) == ["transactions", "splits"])
        #expect(tables(.documentRowMissing) == ["transactions", "documents"])
        #expect(tables(.duplicateName) == ["accounts", "parties"])
        #expect(tables(.invalidValue) == Schema.tableNames.filter { !ValueRule.rules(of: $0, dates: false).isEmpty })
    }

    /// The repairs run in the order rebuild has always run them: each one's
    /// output is checked by the ones after it.
    @Test func repairsRunInTheirPhasesOrder() {
        let order: [FindingCode] = [
            .accountCycle, .accountParentMissing, .partyMissing, .splitAccountMissing, .orphanSplit, .emptyTransaction,
            .lineDocumentMissing, .lineItemMissing, .itemAccountMissing, .documentRowMissing,
            .applicationInvalid, .reconciliationAccountMissing, .reconciliationLinkInvalid, .duplicateFeedLine,
            .feedAccountMissing, .feedLinkInvalid, .feedAmountMismatch,
            .unbalancedTransaction,
            .documentTotalMismatch, .documentOverapplied, .paymentOverapplied, .documentBalanceMismatch,
            .accountBalanceMismatch, .partyBalanceMismatch,
            .duplicateName,
        ]
        #expect(Repairs.ordered.map(\.code) == order)
        var places: Set<[Int]> = []
        for entry in FindingCatalog.entries {
            guard case .repair(let phase, let position, _) = entry.remedy else { continue }
            #expect(places.insert([phase.rawValue, position]).inserted, "two repairs at one place: \(entry.code)")
        }
    }

    /// An entry says truly whether the native pass narrows its checks.
    @Test func theNativePassJudgesWhatItNarrows() {
        for entry in FindingCatalog.entries {
            let narrowed = entry.checks.contains(where: Self.isNarrowed)
            switch entry.nativePass {
            case .judges: #expect(narrowed, "\(entry.code) says the pass judges checks it does not narrow")
            case .readsEveryRow:
                #expect(!narrowed, "\(entry.code) says its checks read every row, but the pass narrows them")
            case .doesNotJudge: break
            }
        }
        #expect(FindingCatalog.nativePassJudgesAll())
    }

    /// A check the native pass does not know turns the pass off: the SQL reads every row.
    @Test func anEntryThePassDoesNotJudgeTurnsItOff() {
        let unknown = FindingEntry(
            .invalidValue, .error, title: "A new check", nativePass: .doesNotJudge,
            checks: [Check(scan: "splits", when: "s.memo = 'x'") { _ in "x" }], remedy: .forAPerson)
        #expect(!FindingCatalog.nativePassJudgesAll(FindingCatalog.entries + [unknown]))
    }
}
