import Foundation

/// Why a company file could not be opened or created. Each message says what
/// happened and what to do.
public enum CompanyFileError: LocalizedError, Equatable, Sendable {
    /// Nothing is at the path.
    case notFound(path: String)
    /// The path names a folder.
    case isDirectory(path: String)
    /// The file cannot be read (permissions, or a read error).
    case unreadable(path: String)
    /// The file holds no bytes.
    case empty(path: String)
    /// The file is not an SQLite database.
    case notSQLite(path: String)
    /// An SQLite database of another program.
    case notCompanyFile(path: String)
    /// A format version newer than this build reads.
    case newerFormat(path: String, version: Int)
    /// A format version older than any this build knows.
    case olderFormat(path: String, version: Int)
    /// Another program holds the file open.
    case locked(path: String)
    /// SQLite says the file is damaged; `detail` is its words.
    case damaged(path: String, detail: String)
    /// A file is already at the path, and creating never overwrites.
    case alreadyExists(path: String)
    /// The file could not be made; `reason` says why.
    case cannotCreate(path: String, reason: String)
    /// The profile of a new company is not valid; `reason` is the whole message.
    case invalidCompany(reason: String)

    /// The file the error is about, when it names one.
    public var path: String? {
        switch self {
        case .notFound(let path), .isDirectory(let path), .unreadable(let path), .empty(let path), .notSQLite(let path),
            .notCompanyFile(let path), .newerFormat(let path, _), .olderFormat(let path, _), .locked(let path),
            .damaged(let path, _), .alreadyExists(let path), .cannotCreate(let path, _):
            return path
        case .invalidCompany:
            return nil
        }
    }

    /// What is wrong, without the file's name, to follow "its copy of acme.db".
    public var problem: String {
        switch self {
        case .notFound: return "could not be found"
        case .isDirectory: return "is a folder"
        case .unreadable: return "could not be read"
        case .empty, .notSQLite, .notCompanyFile: return "is not a company file as SQLite reads it"
        case .newerFormat(_, let version), .olderFormat(_, let version): return "has format version \(version)"
        case .locked: return "was locked by another program"
        case .damaged(_, let detail): return "is damaged (\(detail))"
        case .alreadyExists: return "already existed"
        case .cannotCreate(_, let reason): return "could not be made (\(reason))"
        case .invalidCompany(let reason): return "is not valid (\(reason))"
        }
    }

    /// Why the file holds no company file at all, when that is the error: a
    /// file whose start is damaged reads as one of these.
    var holdsNoCompanyFile: String? {
        switch self {
        case .notSQLite: return "it does not start as an SQLite database"
        case .notCompanyFile: return "it is an SQLite database of another program"
        default: return nil
        }
    }

    /// The whole message: the file's path and what is wrong with it.
    public var errorDescription: String? {
        switch self {
        case .notFound(let path):
            return "\(path): no such file. Check the path and the spelling of the file name."
        case .isDirectory(let path):
            return "\(path) is a folder, not a company file. Name the .db file inside it."
        case .unreadable(let path):
            return "\(path) cannot be read: permission denied. Ask whoever owns the file for read access."
        case .empty(let path):
            return "\(path) is empty (0 bytes), not a company file. Restore it from a backup with 'ledger restore'."
        case .notSQLite(let path):
            return
                "\(path) is not a company file (it is not an SQLite database). Check that you named the right file. If it is your company file, its start is damaged: 'ledger restore BACKUP-FOLDER --to \(path) --force' puts the newest snapshot in its place and keeps this file beside it."
        case .notCompanyFile(let path):
            return
                "\(path) is an SQLite database of another program, not a ledger company file; ledger will not touch it."
        case .newerFormat(let path, let version):
            return
                "\(path) has format version \(version), newer than this ledger understands (\(Schema.formatVersion)). Update ledger to open it."
        case .olderFormat(let path, let version):
            return
                "\(path) has format version \(version), older than any this ledger knows (\(Schema.formatVersion)); restore a backup of it or ask for a ledger that migrates it."
        case .locked(let path):
            return
                "\(path) is open in another program; close it there (or wait for it to finish) and run the command again. Nothing was changed."
        case .damaged(let path, let detail):
            return "\(path) is damaged (\(detail)). Run 'ledger verify \(path)', then 'ledger rebuild \(path)'."
        case .alreadyExists(let path):
            return
                "\(path) already exists; ledger will not overwrite it. Choose another name or move the old file away."
        case .cannotCreate(let path, let reason):
            return "Cannot create \(path): \(reason)."
        case .invalidCompany(let reason):
            return reason
        }
    }
}
