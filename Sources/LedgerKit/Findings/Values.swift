import GRDB

extension FindingCatalog {
    /// Values outside what their column allows, from `ValueRule.byTable`: one
    /// check per table. A person decides what such a value should have been.
    static let values: [FindingEntry] = [
        FindingEntry(
            .invalidValue, .error, title: "Values outside what the field allows", nativePass: .judges,
            checks: valueChecks(dates: false), remedy: .forAPerson),
        FindingEntry(
            .invalidDate, .error, title: "Dates that are not real dates", nativePass: .judges,
            checks: valueChecks(dates: true), remedy: .forAPerson),
    ]

    /// The checks of every table's value rules, of its dates or of its other values.
    private static func valueChecks(dates: Bool) -> [Check] {
        Schema.tableNames.compactMap { table -> Check? in
            let rules = ValueRule.rules(of: table, dates: dates)
            guard !rules.isEmpty else { return nil }
            let alias = Catalog.scan(table).alias
            let condition = rules.map { $0.rule.violation("\(alias).\($0.column)") }.joined(separator: " OR ")
            return Check(scan: table, when: condition) { row in
                var broken: [String] = []
                for (column, rule) in rules where rule.isBroken(by: row.row[column] ?? .null) {
                    broken.append("\(column) is \(row.text(column)) but \(rule.expectation)")
                }
                return "\(table) row \(row.id): "
                    + (broken.isEmpty ? "a value is not allowed" : broken.joined(separator: "; "))
            }
        }
    }
}
