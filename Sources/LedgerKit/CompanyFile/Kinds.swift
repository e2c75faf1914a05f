/// The `accounts.type` values of docs/company-file.md.
public enum AccountType: String, CaseIterable, Sendable, Codable {
    /// A checking, savings or money market account.
    case bank
    /// What customers owe the company.
    case accountsReceivable = "accounts_receivable"
    /// Assets turned to cash within a year: undeposited funds, prepaid expenses.
    case otherCurrentAsset = "other_current_asset"
    /// Equipment, vehicles, buildings: assets kept for years.
    case fixedAsset = "fixed_asset"
    /// Long-term assets that are not fixed assets.
    case otherAsset = "other_asset"
    /// What the company owes vendors.
    case accountsPayable = "accounts_payable"
    /// A credit card's balance owed.
    case creditCard = "credit_card"
    /// Debts due within a year: payroll liabilities, sales tax.
    case otherCurrentLiability = "other_current_liability"
    /// Debts due after a year: loans, mortgages.
    case longTermLiability = "long_term_liability"
    /// The owners' stake: capital, draws, retained earnings.
    case equity
    /// Sales of goods and services.
    case income
    /// What the goods sold cost the company.
    case costOfGoodsSold = "cost_of_goods_sold"
    /// The costs of running the business.
    case expense
    /// Income outside the main business: interest, gains.
    case otherIncome = "other_income"
    /// Expenses outside the main business: interest paid, losses.
    case otherExpense = "other_expense"

}

/// The `parties.kind` values of docs/company-file.md.
public enum PartyKind: String, CaseIterable, Sendable, Codable {
    /// Who a name is to the company: someone it sells to, buys from, pays wages to, or none of these.
    case customer, vendor, employee, other
}

/// The `transactions.kind` values of docs/company-file.md.
public enum TransactionKind: String, CaseIterable, Sendable, Codable {
    /// A journal entry, an invoice to a customer, a customer's payment, a bill from a vendor.
    case journal, invoice, payment, bill
    /// A payment of vendors' bills.
    case billPayment = "bill_payment"
    /// A check written, money deposited, money moved between the company's accounts.
    case check, deposit, transfer
    /// A purchase on a credit card.
    case creditCardCharge = "credit_card_charge"

    /// How a bookkeeper names the kind in a sentence: "Invoice", "Bill payment".
    public var displayName: String {
        switch self {
        case .journal: return "Journal entry"
        case .invoice: return "Invoice"
        case .payment: return "Payment"
        case .bill: return "Bill"
        case .billPayment: return "Bill payment"
        case .check: return "Check"
        case .deposit: return "Deposit"
        case .transfer: return "Transfer"
        case .creditCardCharge: return "Credit card charge"
        }
    }
}
