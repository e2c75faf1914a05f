import Crypto
import Foundation
import GRDB

/// What a snapshot's manifest records of the books it holds, so that a restore
/// drill can tell the restored copy is the same books: the rows of every table
/// of the company file format, and a digest of the trial balance.
public struct BookFigures: Codable, Equatable, Sendable {
    /// Rows of each table of `Schema.tables` the file has.
    public var tableCounts: [String: Int]
    /// SHA-256 (lowercase hex) of the trial balance: one line `ACCOUNT_ID<TAB>DEBIT<TAB>CREDIT` (cents)
    /// per account with a balance, in account order.
    public var trialBalanceSha256: String

    /// Room a manifest keeps for the two fields: every table name with a ten-digit count, and the digest.
    static let manifestRoom = 1_024

    /// The figures as read from a file or a manifest.
    public init(tableCounts: [String: Int], trialBalanceSha256: String) {
        self.tableCounts = tableCounts
        self.trialBalanceSha256 = trialBalanceSha256
    }

    /// Reads the figures of the company file at `path`. Call it on a file that verified
    /// clean: the trial balance trusts the split amounts to be integers within the limit.
    /// - Parameter accountTotals: each account's sum of split amounts when a
    ///   verify of the same file summed them already (`VerifyReport.accountTotals`):
    ///   the trial balance is then not summed again.
    /// - Throws: `CompanyFileError` when the file cannot be read.
    public static func read(path: String, accountTotals: [Int64: Int64]? = nil) throws -> BookFigures {
        let counts: [String: Int]
        do {
            counts = try CompanyFile.read(path) { db in
                var counts: [String: Int] = [:]
                for table in Schema.tableNames where try db.tableExists(table) {
                    counts[table] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \"\(table)\"") ?? 0
                }
                return counts
            }
        } catch let error as DatabaseError {
            throw CompanyFileError(error, path: path)
        }
        let digest = try accountTotals.map(digest(ofTotals:)) ?? digest(of: TrialBalance.read(path: path))
        return BookFigures(tableCounts: counts, trialBalanceSha256: digest)
    }

    /// The digest of a trial balance, as `trialBalanceSha256` describes it.
    public static func digest(of balance: TrialBalance) -> String {
        digest(lines: balance.lines.map { ($0.accountID, $0.debit.cents, $0.credit.cents) })
    }

    /// The digest of the trial balance whose accounts sum to `totals` (account id to cents):
    /// a positive sum is a debit, a negative one a credit, and an account summing to zero has no line.
    static func digest(ofTotals totals: [Int64: Int64]) -> String {
        digest(lines: totals.filter { $0.value != 0 }.map { ($0.key, max($0.value, 0), $0.value < 0 ? -$0.value : 0) })
    }

    private static func digest(lines: [(accountID: Int64, debit: Int64, credit: Int64)]) -> String {
        var hasher = SHA256()
        for line in lines.sorted(by: { $0.accountID < $1.accountID }) {
            hasher.update(data: Data("\(line.accountID)\t\(line.debit)\t\(line.credit)\n".utf8))
        }
        return hasher.finalize().hex
    }
}
