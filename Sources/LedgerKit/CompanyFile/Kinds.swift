/// The `accounts.type` values of SPEC §1.
public enum AccountType: String, CaseIterable, Sendable, Codable {
    case bank
    case accountsReceivable = "accounts_receivable"
    case otherCurrentAsset = "other_current_asset"
    case fixedAsset = "fixed_asset"
    case otherAsset = "other_asset"
    case accountsPayable = "accounts_payable"
    case creditCard = "credit_card"
    case otherCurrentLiability = "other_current_liability"
    case longTermLiability = "long_term_liability"
    case equity
    case income
    case costOfGoodsSold = "cost_of_goods_sold"
    case expense
    case otherIncome = "other_income"
    case otherExpense = "other_expense"

}

/// The `parties.kind` values of SPEC §1.
public enum PartyKind: String, CaseIterable, Sendable, Codable {
    case customer, vendor, employee, other
}

/// The `transactions.kind` values of SPEC §1.
public enum TransactionKind: String, CaseIterable, Sendable, Codable {
    case journal, invoice, payment, bill
    case billPayment = "bill_payment"
    case check, deposit, transfer
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
