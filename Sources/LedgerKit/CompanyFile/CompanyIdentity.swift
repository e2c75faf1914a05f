import Foundation
import GRDB

/// Which company a company file holds: its `company` row's name and the moment
/// the file was created (docs/company-file.md, "Identity").
///
/// The name is what `ledger restore` compares before it replaces a file; the
/// creation time, which no command changes, tells apart two companies given
/// the same name. Rebuild brings rows back only from a snapshot of the same
/// identity: a snapshot of another company with the same file name would
/// plant that company's rows in these books.
struct CompanyIdentity: Equatable, Sendable {
    let name: String
    /// `company.created_at` as stored, `YYYY-MM-DDTHH:MM:SSZ`.
    let createdAt: String

    /// The identity in `db`'s `company` row; nil when the row is missing or its
    /// name or creation time is not text (what another program or damage left).
    static func read(in db: Database) -> CompanyIdentity? {
        guard let row = try? Row.fetchOne(db, sql: "SELECT name, created_at FROM company WHERE id = 1"),
            let name = row.text("name"), let createdAt = row.text("created_at")
        else { return nil }
        return CompanyIdentity(name: name, createdAt: createdAt)
    }

    /// The identity of the company file at `path`, read through a read-only
    /// connection that leaves nothing behind; nil when it cannot be read.
    static func read(path: String) -> CompanyIdentity? {
        let access = ReadOnlyAccess(path: path)
        defer { access.close() }
        return (try? access.connect().read { read(in: $0) }) ?? nil
    }

    /// How a message names it: "Sample Company (created 2023-01-01T09:00:00Z)".
    var described: String { "\(name) (created \(createdAt))" }
}
