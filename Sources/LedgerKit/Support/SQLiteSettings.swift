import CSQLiteSettings

/// Settings of SQLite for the whole process, applied once before its first
/// connection (SQLite takes them only before it initializes).
public enum SQLiteSettings {
    /// Turns SQLite's memory statistics off. With them on, every allocation of
    /// every connection takes one mutex of the process, and the connections that
    /// run side by side (verify's four, a fleet's clients) queue on it: a fleet
    /// verify of 400 small files took 3.31 s with them and 2.05 s without.
    /// Nothing in ledger reads the statistics.
    public static func apply() {
        _ = applied
    }

    /// Whether SQLite took the settings (false when it had initialized already).
    private static let applied: Bool = CSQLiteSettings_memoryStatistics(0) == SQLITE_OK
}
