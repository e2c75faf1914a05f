/// Everything the project knows of one finding code, in one place: docs/findings.md's
/// catalog row (severity, repairable, a title), how Verify finds its rows (the
/// checks, or the structure check), what Rebuild does about them (the repair
/// and when it runs), and whether the native pass judges its rows. Adding a
/// check or a repair touches only its code's entry; `FindingCode`'s properties,
/// `Catalog.checks` and `Repairs.ordered` are read from the entries.
struct FindingEntry: Sendable {
    /// What Rebuild does about a finding.
    enum Remedy: Sendable {
        /// Nothing: a person decides (docs/findings.md, not repairable).
        case forAPerson
        /// Rebuild's own work on the whole file: salvage of a damaged file,
        /// the schema's missing objects made again.
        case remakesTheFile
        /// A repair of the rows the checks find, run in `phase` at `position`.
        case repair(RepairPhase, Int, run: @Sendable (RepairContext) throws -> Void)
    }

    /// Whether the native pass (`NativePass`) judges the rows the code's checks read.
    enum NativePassCoverage: Sendable, Equatable {
        /// The pass leaves as suspects every row that may fail these checks;
        /// the SQL then reads only the suspects.
        case judges
        /// The checks read every row whatever the pass found (a query of its
        /// own, a small table the pass does not read, or the structure check).
        case readsEveryRow
        /// The pass does not know these checks: while any entry says so, Verify
        /// and Rebuild do not use the pass and the SQL reads every row.
        case doesNotJudge
    }

    let code: FindingCode
    let severity: Severity
    /// A heading for the group of findings, in a bookkeeper's words.
    let title: String
    let nativePass: NativePassCoverage
    /// The checks of the finding catalog that find the code's rows; none when
    /// the structure check (`StructureCheck`) finds them.
    let checks: [Check]
    let remedy: Remedy

    init(
        _ code: FindingCode, _ severity: Severity, title: String, nativePass: NativePassCoverage, checks: [Check],
        remedy: Remedy
    ) {
        self.code = code
        self.severity = severity
        self.title = title
        self.nativePass = nativePass
        self.checks = checks
        self.remedy = remedy
    }

    var isRepairable: Bool {
        if case .forAPerson = remedy { return false }
        return true
    }
}

/// When a repair runs. Each repair's output is checked by the ones after it:
/// structure first (accounts, names, lines of missing transactions), then
/// links, then money (suspense splits), then the cached totals, and names
/// last, since earlier repairs create names.
enum RepairPhase: Int, Sendable, Comparable {
    case structure, links, money, totals, names

    static func < (lhs: RepairPhase, rhs: RepairPhase) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The finding catalog of docs/findings.md: one entry per code, grouped by what they are about.
enum FindingCatalog {
    static let entries: [FindingEntry] = structure + links + documents + balances + bankFeed + names + values

    private static let byCode: [FindingCode: FindingEntry] = Dictionary(entries.map { ($0.code, $0) }) { first, _ in
        first
    }

    /// The entry of `code`. Every code has one (a test holds it so).
    static func entry(_ code: FindingCode) -> FindingEntry {
        guard let entry = byCode[code] else {
            preconditionFailure("the finding catalog has no entry for \(code.rawValue)")
        }
        return entry
    }

    /// Whether the native pass may narrow the SQL to its suspects: only while
    /// it judges every check it would narrow.
    static func nativePassJudgesAll(_ entries: [FindingEntry] = entries) -> Bool {
        entries.allSatisfy { $0.nativePass != .doesNotJudge }
    }

    /// The structure's findings: made by the structure check, answered by
    /// rebuilding the file.
    static let structure: [FindingEntry] = [
        FindingEntry(
            .sqliteCorruption, .error, title: "Damaged file structure", nativePass: .readsEveryRow,
            checks: [], remedy: .remakesTheFile),
        FindingEntry(
            .schemaObjectMissing, .error, title: "Missing tables, columns or indexes", nativePass: .readsEveryRow,
            checks: [], remedy: .remakesTheFile),
    ]
}
