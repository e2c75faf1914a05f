/// One account of a chart of accounts, before it has an id.
public struct ChartEntry: Sendable, Hashable {
    /// The account number, unique within the chart.
    public let number: String
    /// The account's name.
    public let name: String
    /// The account's type, which says where it sits on the reports.
    public let type: AccountType
    /// The account number of the parent, nil for a top-level account.
    public let parentNumber: String?

    /// An entry under the account numbered `parent`, or at the top level.
    public init(_ number: String, _ name: String, _ type: AccountType, parent: String? = nil) {
        self.number = number
        self.name = name
        self.type = type
        self.parentNumber = parent
    }
}

/// The chart of accounts a new company starts with: that of a small service business.
public enum DefaultChart {
    /// Parents come before their sub-accounts, so ids follow this order.
    public static let entries: [ChartEntry] = [
        ChartEntry("1000", "Checking", .bank),
        ChartEntry("1010", "Savings", .bank),
        ChartEntry("1020", "Petty Cash", .bank),
        ChartEntry("1200", "Accounts Receivable", .accountsReceivable),
        ChartEntry("1300", "Undeposited Funds", .otherCurrentAsset),
        ChartEntry("1400", "Inventory Asset", .otherCurrentAsset),
        ChartEntry("1450", "Prepaid Expenses", .otherCurrentAsset),
        ChartEntry("1500", "Furniture and Equipment", .fixedAsset),
        ChartEntry("1510", "Vehicles", .fixedAsset),
        ChartEntry("1590", "Accumulated Depreciation", .fixedAsset),
        ChartEntry("1800", "Security Deposits", .otherAsset),
        ChartEntry("2000", "Accounts Payable", .accountsPayable),
        ChartEntry("2100", "Business Credit Card", .creditCard),
        ChartEntry("2200", "Payroll Liabilities", .otherCurrentLiability),
        ChartEntry("2210", "Federal Withholding", .otherCurrentLiability, parent: "2200"),
        ChartEntry("2220", "State Withholding", .otherCurrentLiability, parent: "2200"),
        ChartEntry("2230", "Social Security and Medicare", .otherCurrentLiability, parent: "2200"),
        ChartEntry("2300", "Sales Tax Payable", .otherCurrentLiability),
        ChartEntry("2700", "Equipment Loan", .longTermLiability),
        ChartEntry("3000", "Opening Balance Equity", .equity),
        ChartEntry("3100", "Owner's Equity", .equity),
        ChartEntry("3110", "Owner's Contributions", .equity, parent: "3100"),
        ChartEntry("3120", "Owner's Draw", .equity, parent: "3100"),
        ChartEntry("3900", "Retained Earnings", .equity),
        ChartEntry("4000", "Services", .income),
        ChartEntry("4010", "Consulting", .income, parent: "4000"),
        ChartEntry("4020", "Installation", .income, parent: "4000"),
        ChartEntry("4030", "Maintenance Contracts", .income, parent: "4000"),
        ChartEntry("4100", "Product Sales", .income),
        ChartEntry("5000", "Cost of Goods Sold", .costOfGoodsSold),
        ChartEntry("5100", "Subcontractors", .costOfGoodsSold),
        ChartEntry("6000", "Advertising and Marketing", .expense),
        ChartEntry("6100", "Automobile Expense", .expense),
        ChartEntry("6110", "Fuel", .expense, parent: "6100"),
        ChartEntry("6120", "Vehicle Repairs", .expense, parent: "6100"),
        ChartEntry("6200", "Bank Service Charges", .expense),
        ChartEntry("6300", "Insurance Expense", .expense),
        ChartEntry("6310", "Liability Insurance", .expense, parent: "6300"),
        ChartEntry("6320", "Workers Compensation", .expense, parent: "6300"),
        ChartEntry("6400", "Office Supplies", .expense),
        ChartEntry("6500", "Payroll Expenses", .expense),
        ChartEntry("6510", "Wages", .expense, parent: "6500"),
        ChartEntry("6520", "Payroll Taxes", .expense, parent: "6500"),
        ChartEntry("6600", "Professional Fees", .expense),
        ChartEntry("6700", "Rent Expense", .expense),
        ChartEntry("6800", "Telephone and Internet", .expense),
        ChartEntry("6850", "Utilities", .expense),
        ChartEntry("6900", "Depreciation Expense", .expense),
        ChartEntry("6950", "Meals", .expense),
        ChartEntry("7000", "Interest Income", .otherIncome),
        ChartEntry("7100", "Other Income", .otherIncome),
        ChartEntry("8000", "Interest Expense", .otherExpense),
        // Where `ledger feed match --add-unmatched` books bank lines no one has sorted yet.
        ChartEntry("4900", "Uncategorized Income", .income),
        ChartEntry("6990", "Uncategorized Expense", .expense),
    ]
}
