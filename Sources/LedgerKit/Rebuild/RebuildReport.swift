import Foundation

/// The repairs of one finding code in one rebuild.
public struct RepairGroup: Codable, Sendable, Equatable {
    /// The finding code the repairs answered.
    public let code: FindingCode
    /// Rows changed (inserted, updated or deleted).
    public let count: Int
    /// The first changes, in the order they were made.
    public let examples: [RepairAction]
}

/// What salvage got back from one table of a damaged file.
public struct SalvagedTable: Codable, Sendable, Equatable {
    /// The table salvaged.
    public let table: String
    /// Rows read from the table itself, whole.
    public let recovered: Int
    /// Rows the table had lost, rebuilt from what its indexes still held.
    public let fromIndexes: Int
    /// Rows known to be lost: rowids the indexes hold that neither the table nor
    /// the indexes could give back whole.
    public let lost: Int
    /// False when the table had damage but no index to count its lost rows by:
    /// `lost` is then a lower bound.
    public let lostIsExact: Bool
    /// Rows kept with a value the schema forbids (a CHECK of docs/company-file.md) replaced.
    public let altered: Int
    /// What else a person should know ("the table was missing; created empty").
    public let note: String?
    /// Where the damage lay, for recovery from a snapshot and the count of
    /// loss; not part of the JSON.
    var damage = TableDamage()

    /// Whether salvage met pages of the table it could not read.
    public var metDamage: Bool { !damage.gaps.isEmpty }

    enum CodingKeys: String, CodingKey {
        case table, recovered
        case fromIndexes = "from_indexes"
        case lost
        case lostIsExact = "lost_is_exact"
        case altered, note
    }

    /// What salvage got back from `table`; `damage` starts empty.
    public init(
        table: String, recovered: Int, fromIndexes: Int, lost: Int, lostIsExact: Bool, altered: Int = 0,
        note: String?
    ) {
        self.table = table
        self.recovered = recovered
        self.fromIndexes = fromIndexes
        self.lost = lost
        self.lostIsExact = lostIsExact
        self.altered = altered
        self.note = note
    }

    /// Whether every row of the table came back as it was: none lost, none
    /// rebuilt from an index with fields missing, and that known for sure.
    public var isWhole: Bool { lost == 0 && fromIndexes == 0 && altered == 0 && lostIsExact }
}

/// What Rebuild Suspense holds after a rebuild that booked to it: what a
/// person should review and move to the right accounts.
public struct SuspenseReview: Codable, Sendable, Equatable {
    /// The id of the Rebuild Suspense account.
    public let account: Int64
    /// Its balance (cents).
    public let balance: Int64
    /// How many transactions hold an amount on it.
    public let transactionCount: Int
    /// The largest of them, named, with what each holds there (cents).
    public let largest: [Held]

    /// One transaction's amount on Rebuild Suspense.
    public struct Held: Codable, Sendable, Equatable {
        /// The transaction's id.
        public let transaction: Int64
        /// The transaction as a bookkeeper names it ("Check 1043 of 2026-03-02 …").
        public let described: String
        /// What it holds on Rebuild Suspense (cents).
        public let amount: Int64
    }

    enum CodingKeys: String, CodingKey {
        case account, balance
        case transactionCount = "transaction_count"
        case largest
    }
}

/// Where salvage met damage in one table.
struct TableDamage: Sendable, Equatable {
    /// Rowid ranges that could not be read: the rows in them are what the
    /// damage took (every rowid, when the table itself was lost or read
    /// without SQLite).
    var gaps: [ClosedRange<Int64>] = []
    /// Rowids the table's indexes name that salvage could not bring back.
    var lostIDs: [Int64] = []
    /// Rowids rebuilt from the indexes, with fields missing.
    var rebuiltIDs: [Int64] = []
    /// Whether the indexes surely list every row the gaps held (two or more
    /// read to their end that agree, or a lone one the integrity check ran
    /// past and did not name), so that a row of a snapshot they do not name
    /// was deleted since. Stronger than the loss being counted exactly.
    var listsEveryRow = false
    /// Rowids read from pages that may hold rows deleted before the damage
    /// (a leaf no root reaches while the freelist could not be read whole):
    /// put in doubt as rows read from damaged pages are.
    var doubtedIDs: [Int64] = []

    static let everything = TableDamage(gaps: [Int64.min...Int64.max])

    var isEmpty: Bool { gaps.isEmpty && lostIDs.isEmpty && rebuiltIDs.isEmpty }
}

/// One table's rows of the damaged original that are not in the rebuilt file.
public struct TableLoss: Codable, Sendable, Equatable {
    /// The table that lost rows.
    public let table: String
    /// Rows removed, by salvage or by a repair, as far as the file's pages, its
    /// indexes, its header and the last clean snapshot tell.
    public let lost: Int
    /// False when more may have been lost than `lost` says; `why` says why.
    public let exact: Bool
    /// Why `lost` may be short of the truth; nil when it is exact.
    public let why: String?
    /// Rows brought back from the last clean snapshot.
    public let fromSnapshot: Int
    /// Rows still rebuilt from the file's indexes, with fields missing.
    public let fromIndexes: Int

    enum CodingKeys: String, CodingKey {
        case table, lost, exact, why
        case fromSnapshot = "from_snapshot"
        case fromIndexes = "from_indexes"
    }

    /// Writes the JSON scripts read (docs/rebuild.md), with a null for each field
    /// that has no value.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(table, forKey: .table)
        try container.encode(lost, forKey: .lost)
        try container.encode(exact, forKey: .exact)
        try container.encode(why, forKey: .why)
        try container.encode(fromSnapshot, forKey: .fromSnapshot)
        try container.encode(fromIndexes, forKey: .fromIndexes)
    }
}

/// An account's or a name's balance that a rebuild kept as it was before the
/// damage, through its "Lost in damage" journal.
public struct KeptBalance: Codable, Sendable, Equatable {
    /// `accounts` or `parties`.
    public let table: String
    /// The account's or the name's id.
    public let id: Int64
    /// The account's or the name's name.
    public let name: String
    /// The balance it showed (cents).
    public let shown: Int64
    /// What its lines come to after the rebuild: those that survived, and
    /// those brought back from the last clean snapshot (cents).
    public let remaining: Int64
}

/// A row read from a page SQLite calls damaged that no snapshot confirmed:
/// it may not be what was written.
public struct DoubtfulRow: Codable, Sendable, Equatable {
    /// The table of the row.
    public let table: String
    /// The row's rowid.
    public let rowID: Int64

    enum CodingKeys: String, CodingKey {
        case table
        case rowID = "row_id"
    }
}

/// A value read from a damaged page that a rebuild replaced by the last clean
/// snapshot's, because the rest of the file did not show its row changed since.
public struct ReplacedValue: Codable, Sendable, Equatable {
    /// The table of the row.
    public let table: String
    /// The row's rowid.
    public let rowID: Int64
    /// The column whose value was replaced.
    public let column: String
    /// The value as read from the damaged page: an amount in money, a text in quotes, "empty" for NULL.
    public let old: String
    /// The snapshot's value, written the same way.
    public let new: String

    enum CodingKeys: String, CodingKey {
        case table
        case rowID = "row_id"
        case column, old, new
    }
}

/// What a rebuild did to keep everything after damage (docs/rebuild.md).
public struct DamageOutcome: Encodable, Sendable {
    /// Pages the file's header says it has and its end lacked.
    public var cutShortBy: Int?
    /// The last clean snapshot rows were brought back from.
    public var snapshot: String?
    /// When that snapshot was taken (UTC timestamp).
    public var snapshotTakenAt: String?
    /// Per table, rows brought back from it, and rows rebuilt from indexes
    /// that took its values for the fields they lacked.
    public var restored: [String: Int] = [:]
    /// Per table, rows among `restored` the file does not vouch for (no index
    /// names them, no row read from the file points at them): the snapshot
    /// alone says they were there, so a row deleted after it would be among them.
    public var restoredUnlisted: [String: Int] = [:]
    /// Per table, rows read whole from damaged pages whose values the
    /// snapshot's replaced: the rebuild is then not complete.
    public var replaced: [String: Int] = [:]
    /// Each value of those rows, as read and as the snapshot had it.
    public var replacedValues: [ReplacedValue] = []
    /// Each value of a row brought back from the snapshot that the file's
    /// indexes show changed after it: `old` is the snapshot's, `new` the
    /// row's now (the index's). The rest of such a row is the snapshot's, so
    /// the rebuild is then not complete.
    public var changedValues: [ReplacedValue] = []
    /// Bank lines brought back from the snapshot whose status a bank-feed
    /// command of ledger's, logged after the snapshot, may have changed, and
    /// lines (splits) whose cleared mark a reconciliation made after it may
    /// have changed: the rebuild is then not complete.
    public var perhapsChanged: [DoubtfulRow] = []
    /// Those commands, each with its last run after the snapshot ("feed match at TIME").
    public var laterCommands: [String] = []
    /// Those reconciliations ("reconciliation 36 of Checking (account 1) for 2026-11-30").
    public var laterReconciliations: [String] = []
    /// Per table, rows the snapshot holds that the damage took but were not
    /// brought back: their transaction changed after the snapshot.
    public var changedSince: [String: Int] = [:]
    /// What the search for a snapshot met ("… could not be read").
    public var notes: [String] = []
    /// Per table, the rows not in the rebuilt file and how sure that count is.
    public var loss: [TableLoss] = []
    /// Balances kept as they were through a "Lost in damage" journal.
    public var keptBalances: [KeptBalance] = []
    /// Rows read from damaged pages that no snapshot confirmed.
    public var unconfirmed: [DoubtfulRow] = []
    /// Rows the snapshot holds that the rebuilt file does not: what restoring it would bring back.
    public var snapshotWouldBringBack = 0

    enum CodingKeys: String, CodingKey {
        case cutShortBy = "cut_short_by_pages"
        case snapshot = "recovered_from"
        case snapshotTakenAt = "recovered_from_taken_at"
        case restored = "restored_from_snapshot"
        case restoredUnlisted = "restored_on_snapshot_alone"
        case replaced = "replaced_from_snapshot"
        case replacedValues = "values_replaced"
        case changedSince = "changed_since_snapshot"
        case changedValues = "values_changed_since_snapshot"
        case perhapsChanged = "brought_back_perhaps_changed"
        case laterCommands = "commands_since_snapshot"
        case laterReconciliations = "reconciliations_since_snapshot"
        case notes, loss
        case keptBalances = "kept_balances"
        case unconfirmed = "read_from_damaged_pages"
        case snapshotWouldBringBack = "snapshot_would_bring_back"
    }

    /// Writes the JSON scripts read, with a null for each field that has no value.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        // Scripts read a null, not a missing key, when there is none.
        try container.encode(cutShortBy, forKey: .cutShortBy)
        try container.encode(snapshot, forKey: .snapshot)
        try container.encode(snapshotTakenAt, forKey: .snapshotTakenAt)
        try container.encode(restored, forKey: .restored)
        try container.encode(restoredUnlisted, forKey: .restoredUnlisted)
        try container.encode(replaced, forKey: .replaced)
        try container.encode(replacedValues, forKey: .replacedValues)
        try container.encode(changedSince, forKey: .changedSince)
        try container.encode(changedValues, forKey: .changedValues)
        try container.encode(perhapsChanged, forKey: .perhapsChanged)
        try container.encode(laterCommands, forKey: .laterCommands)
        try container.encode(laterReconciliations, forKey: .laterReconciliations)
        try container.encode(notes, forKey: .notes)
        try container.encode(loss, forKey: .loss)
        try container.encode(keptBalances, forKey: .keptBalances)
        try container.encode(unconfirmed, forKey: .unconfirmed)
        try container.encode(snapshotWouldBringBack, forKey: .snapshotWouldBringBack)
    }

    /// Whether every row of the damaged original came back as it was, no
    /// value read from it was replaced by the snapshot's, no row came back
    /// on the snapshot's word alone (one deleted after it would be among them),
    /// and none that the file's indexes, or its log of bank-feed commands,
    /// show changed (or may have changed) after the snapshot.
    public var isWhole: Bool {
        loss.allSatisfy { $0.lost == 0 && $0.exact && $0.fromIndexes == 0 } && unconfirmed.isEmpty
            && keptBalances.isEmpty && replaced.values.allSatisfy { $0 == 0 } && replacedValues.isEmpty
            && restoredUnlisted.values.allSatisfy { $0 == 0 } && changedValues.isEmpty && perhapsChanged.isEmpty
    }
}

/// What `ledger rebuild` did, or with `--dry-run` would do.
public struct RebuildReport: Encodable, Sendable {
    /// The path rebuilt, as given.
    public let file: String
    /// Whether this was `--dry-run`: nothing was changed.
    public let dryRun: Bool
    /// The pre-rebuild snapshot (nil on a dry run).
    public let snapshot: String?
    /// Per table, when the file had to be salvaged; nil when SQLite could read it whole.
    public let salvage: [SalvagedTable]?
    /// Schema objects made again ("index bank_feed_fitid").
    public let schemaRepairs: [String]
    /// What the repairs changed, by finding code, in the order they ran.
    public let repairs: [RepairGroup]
    /// The findings left for a person, from the verify of the rebuilt copy.
    public let remaining: [Finding]
    /// The `maintenance_runs` row of this rebuild (nil on a dry run).
    public let runID: Int64?
    /// How long the rebuild took, in milliseconds.
    public let elapsedMS: Int
    /// After damage: what came back from where, and what did not.
    public var damage: DamageOutcome?
    /// When this rebuild booked to Rebuild Suspense: what it holds now.
    public var suspense: SuspenseReview?
    /// Where the `-wal` beside the file was kept when it was not the file's log (another
    /// page size: its frames went into no copy), instead of being removed with it.
    public var keptLog: String?

    enum CodingKeys: String, CodingKey {
        case file
        case dryRun = "dry_run"
        case snapshot, salvage
        case schemaRepairs = "schema_repairs"
        case repairs, remaining
        case runID = "run_id"
        case elapsedMS = "elapsed_ms"
        case changedRows = "changed_rows"
        case lostRows = "lost_rows"
        case rebuiltFromIndexes = "rebuilt_from_indexes"
        case lossIsExact = "loss_is_exact"
        case complete, damage, suspense
        case keptLog = "kept_log"
    }

    /// A report of what a rebuild did; `damage` and `suspense` are set after.
    public init(
        file: String, dryRun: Bool, snapshot: String?, salvage: [SalvagedTable]?, schemaRepairs: [String],
        repairs: [RepairGroup], remaining: [Finding], runID: Int64?, elapsedMS: Int
    ) {
        self.file = file
        self.dryRun = dryRun
        self.snapshot = snapshot
        self.salvage = salvage
        self.schemaRepairs = schemaRepairs
        self.repairs = repairs
        self.remaining = remaining
        self.runID = runID
        self.elapsedMS = elapsedMS
    }

    /// Writes the JSON scripts read, with a null for each field that has no value.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(file, forKey: .file)
        try container.encode(dryRun, forKey: .dryRun)
        try container.encode(snapshot, forKey: .snapshot)
        try container.encode(salvage, forKey: .salvage)
        try container.encode(schemaRepairs, forKey: .schemaRepairs)
        try container.encode(repairs, forKey: .repairs)
        try container.encode(changedRows, forKey: .changedRows)
        try container.encode(lostRows, forKey: .lostRows)
        try container.encode(rebuiltFromIndexes, forKey: .rebuiltFromIndexes)
        try container.encode(lossIsExact, forKey: .lossIsExact)
        try container.encode(isComplete, forKey: .complete)
        try container.encode(damage, forKey: .damage)
        try container.encode(suspense, forKey: .suspense)
        try container.encode(keptLog, forKey: .keptLog)
        try container.encode(remaining, forKey: .remaining)
        try container.encode(runID, forKey: .runID)
        try container.encode(elapsedMS, forKey: .elapsedMS)
    }

    /// Rows inserted, updated or deleted by the repairs.
    public var changedRows: Int { repairs.reduce(0) { $0 + $1.count } }

    /// Whether the rebuild changed (or would change) anything but its own record.
    public var changedAnything: Bool { changedRows > 0 || !schemaRepairs.isEmpty || salvage != nil }

    /// Rows of the damaged original not in the rebuilt file, over every table,
    /// whether salvage or a repair removed them (a lower bound when
    /// `lossIsExact` is false).
    public var lostRows: Int {
        damage.map { $0.loss.reduce(0) { $0 + $1.lost } } ?? salvage?.reduce(0) { $0 + $1.lost } ?? 0
    }

    /// Rows rebuilt from indexes, with fields missing, that no snapshot made whole.
    public var rebuiltFromIndexes: Int {
        damage.map { $0.loss.reduce(0) { $0 + $1.fromIndexes } } ?? salvage?.reduce(0) { $0 + $1.fromIndexes } ?? 0
    }

    /// False when some table's loss could not be counted.
    public var lossIsExact: Bool {
        damage.map { $0.loss.allSatisfy(\.exact) } ?? salvage?.allSatisfy(\.lostIsExact) ?? true
    }

    /// Whether every row of the file came through as it was (always true
    /// without a salvage): none lost, guessed, altered or left in doubt.
    public var rowsCameThrough: Bool {
        guard let salvage else { return true }
        let unaltered = salvage.allSatisfy { $0.altered == 0 }
        return unaltered && (damage?.isWhole ?? salvage.allSatisfy(\.isWhole))
    }

    /// Whether the rebuilt file holds all the file held: every row came
    /// through as it was, and no `-wal` was kept aside (`keptLog`: what it
    /// committed may be in no copy). JSON's `complete`.
    public var isComplete: Bool { rowsCameThrough && keptLog == nil }

    /// docs/rebuild.md's exit status: 0 clean now and nothing lost (dry run: nothing to
    /// change), 1 findings for a person remain, a salvage lost or guessed
    /// rows, or a `-wal` whose frames may be in no copy was kept beside the
    /// file (`keptLog`: what it committed may not be in the rebuilt file) (dry
    /// run: changes planned).
    public var exitStatus: Int32 {
        if dryRun { return changedAnything ? 1 : 0 }
        return remaining.isEmpty && isComplete ? 0 : 1
    }
}

/// How far a rebuild has come.
public struct RebuildProgress: Sendable {
    /// "Taking a snapshot", "Repairing", …
    public let phase: String
}

/// Why a rebuild did not replace the file. The file is untouched in every case.
public enum RebuildError: LocalizedError, Equatable, Sendable {
    /// Another program has the file open.
    case inUse(path: String)
    /// Another program changed the file while rebuild worked on its copy.
    case changedMeanwhile(path: String)
    /// SQLite cannot read even the list of tables: nothing can be salvaged.
    case unsalvageable(path: String, detail: String)
    /// Repairable findings were left after the repairs: a defect to report.
    case incomplete(path: String, left: Int, first: String)
    /// There is no room, or no permission, for a copy beside the file.
    case cannotWrite(path: String, reason: String)
    /// The file itself may not be written (its mode, an immutable flag, a read-only disk).
    case readOnly(path: String, reason: String)
    /// SQLite refused one of the rebuild's own copies of the file (removed since).
    case copyUnusable(path: String, reason: String)

    /// What stopped the rebuild and what to do next; the file is untouched.
    public var errorDescription: String? {
        switch self {
        case .inUse(let path):
            return
                "\(path) is open in another program; close it there (or wait for it to finish) and run 'ledger rebuild \(path)' again. Nothing was changed."
        case .changedMeanwhile(let path):
            return
                "\(path) was changed by another program while rebuild worked on a copy; nothing was replaced. Run 'ledger rebuild \(path)' again."
        case .unsalvageable(let path, let detail):
            return
                "SQLite cannot read even the list of tables of \(path) (\(detail)), so nothing can be salvaged automatically; the file is untouched. Restore a snapshot with 'ledger restore'."
        case .incomplete(let path, let left, let first):
            return
                "Rebuild could not repair everything in \(path) (\(left) repairable findings left, the first: \(first)); the file is untouched. Please report it with the output of 'ledger verify \(path) --json'."
        case .cannotWrite(let path, let reason):
            return
                "Cannot write beside \(path): \(reason). Rebuild needs room for a copy of the file in its folder; nothing was changed."
        case .readOnly(let path, let reason):
            return
                "\(path) cannot be written (\(reason)); rebuild replaces it, so it must be writable: make it so (chmod u+w, or clear its immutable flag), then run 'ledger rebuild \(path)' again. Nothing was changed."
        case .copyUnusable(let path, let reason):
            return
                "Rebuild stopped: its copy of \(path) \(reason); \(path) is untouched. Run 'ledger verify \(path)', and if it finds the file sound, please report this with the output of 'ledger verify \(path) --json'."
        }
    }
}
