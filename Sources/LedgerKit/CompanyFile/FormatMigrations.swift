import GRDB

/// How a company file moves from one format version to the next.
///
/// Each format version is one migration of GRDB's `DatabaseMigrator`, named
/// `v<N>`, that ends by setting `PRAGMA user_version = N`. `user_version` stays
/// the contract (docs/company-file.md); the migrator's own table only records which steps ran.
/// Version 2 comes by registering `v2` here.
enum FormatMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            for object in Schema.objects { try db.execute(sql: object.sql) }
            try db.execute(sql: "PRAGMA application_id = \(Schema.applicationID)")
            try db.execute(sql: "PRAGMA user_version = 1")
        }
        return migrator
    }

    /// Records versions 1…`version` as applied in a file whose schema was made
    /// without the migrator (by an outside tool, or by the bulk loader that builds
    /// indexes last), so that migrating it later runs only the newer steps.
    static func markApplied(upTo version: Int, in db: Database) throws {
        try db.execute(sql: "CREATE TABLE IF NOT EXISTS grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
        for step in 1...max(version, 1) {
            try db.execute(
                sql: "INSERT OR IGNORE INTO grdb_migrations (identifier) VALUES (?)", arguments: ["v\(step)"])
        }
    }
}
