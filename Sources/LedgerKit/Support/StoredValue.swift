import GRDB

/// Reading columns that another program may have filled with anything.
///
/// GRDB's typed subscript (`let n: Int64 = row["x"]`) is `try! decode(…)`: a
/// text where an integer was expected ends the process. These read the stored
/// value as it is and never trap (docs/findings.md, "Values of any type").
extension Row {
    /// The value stored in `column`, of whatever storage class; `.null` when the
    /// row has no such column.
    func stored(_ column: String) -> DatabaseValue {
        (self[column] as (any DatabaseValueConvertible)?)?.databaseValue ?? .null
    }

    /// The value of `column` when SQLite stores it as an integer; nil for NULL,
    /// text, a real or a blob.
    func integer(_ column: String) -> Int64? {
        if case .int64(let value) = stored(column).storage { return value }
        return nil
    }

    /// The value of `column` when SQLite stores it as text; nil otherwise.
    func text(_ column: String) -> String? {
        if case .string(let value) = stored(column).storage { return value }
        return nil
    }

    /// The value of `column` as a person reads it: its text, a number or a blob
    /// as `DatabaseValue.described` shows it, nil for NULL.
    func shown(_ column: String) -> String? {
        let value = stored(column)
        if case .null = value.storage { return nil }
        return self.value(column, as: String.self) ?? value.described
    }

    /// The value of `column` converted to `T` the way GRDB converts it, or nil
    /// when it cannot be (where GRDB's subscript would trap).
    func value<T: DatabaseValueConvertible>(_ column: String, as type: T.Type = T.self) -> T? {
        T.fromDatabaseValue(stored(column))
    }
}

extension DatabaseValue {
    /// How a value reads in a message: text quoted, a blob by its size.
    var described: String {
        switch storage {
        case .null: return "empty"
        case .string(let string): return "'\(string)'"
        case .int64(let number): return String(number)
        case .double(let number): return String(number)
        case .blob(let data): return "\(data.count) bytes of binary data"
        }
    }
}
