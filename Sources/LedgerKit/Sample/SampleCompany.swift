import Foundation
import GRDB

/// What `SampleCompany.generate` is asked to make.
public struct SampleOptions: Sendable, Equatable {
    /// How many transactions, opening entry included (at least 1).
    public var transactions: Int
    /// The seed of the random choices: the same seed gives the same file.
    public var seed: UInt64
    /// The company's name.
    public var name: String
    /// The first day of the books; the sample covers three years from it.
    public var firstDay: CivilDate

    /// Options for `transactions` transactions from 2023-01-01 unless told.
    public init(
        transactions: Int, seed: UInt64 = 1, name: String = "Sample Company",
        firstDay: CivilDate = CivilDate(dayNumber: 19_358)
    ) {  // 2023-01-01
        self.transactions = transactions
        self.seed = seed
        self.name = name
        self.firstDay = firstDay
    }

    /// The last day of the books: three years after the first, less a day.
    public var lastDay: CivilDate {
        let (year, month, day) = firstDay.components
        let sameDayThreeYearsOn = CivilDate(
            dayNumber: CivilDate.dayNumber(
                year: year + 3, month: month,
                day: min(day, 28)))
        return CivilDate(dayNumber: sameDayThreeYearsOn.dayNumber - 1)
    }
}

/// What a generation made.
public struct SampleSummary: Sendable, Equatable, Codable {
    /// Transactions made, opening entry included.
    public var transactions: Int
    /// Splits made across them.
    public var splits: Int
    /// Customers made.
    public var customers: Int
    /// Vendors made.
    public var vendors: Int
    /// Bank statements reconciled.
    public var reconciliations: Int
    /// Bank feed lines made.
    public var feedLines: Int
}

/// Builds a realistic, deterministic company file: the same options give the same
/// rows on every run. It streams: rows go to SQLite through prepared statements in
/// one write transaction, and the only state kept is what a bookkeeper would keep
/// in their head (open invoices and bills, running balances), not the rows.
public enum SampleCompany {
    /// Generates a sample company at `path`.
    ///
    /// The file is built under a temporary name and appears only when complete.
    /// - Parameters:
    ///   - replacing: overwrite an existing file at `path`; otherwise refuse.
    ///   - progress: called now and then with (transactions made, transactions asked).
    public static func generate(
        at path: String, options: SampleOptions, replacing: Bool = false,
        progress: ((Int, Int) -> Void)? = nil
    ) throws -> SampleSummary {
        guard options.transactions >= 1 else {
            throw CompanyFileError.invalidCompany(
                reason: "A sample needs at least 1 transaction; ask for more with --transactions.")
        }
        let profile = CompanyProfile(
            name: options.name, currency: "USD",
            createdAt: Date(timeIntervalSince1970: TimeInterval(options.firstDay.dayNumber * 86_400 + 9 * 3600)))
        try profile.validate()
        var summary: SampleSummary?
        try AtomicFile.create(at: path, replacing: replacing, database: true) { temporary in
            try PrivateFile.create(at: temporary)
            let queue = try CompanyFile.connect(temporary, readOnly: false)
            // The file is private until renamed into place: a crash leaves only a
            // temporary file behind, so the journal buys nothing during the load.
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -65536")
            }
            try queue.write { db in
                for table in Schema.tables { try db.execute(sql: table.sql) }
                try db.execute(sql: "PRAGMA application_id = \(Schema.applicationID)")
                try db.execute(sql: "PRAGMA user_version = \(Schema.formatVersion)")
                try FormatMigrations.markApplied(upTo: Schema.formatVersion, in: db)
                try CompanyFile.insertCompany(profile, in: db)
                var generator = try SampleGenerator(db: db, options: options, progress: progress)
                summary = try generator.run()
                // Indexes last: one sort each instead of millions of random inserts.
                for index in Schema.indexes { try db.execute(sql: index.sql) }
            }
            try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
            try queue.close()
        }
        guard let summary else {
            throw CompanyFileError.invalidCompany(reason: "The sample generator finished without a summary.")
        }
        return summary
    }
}
